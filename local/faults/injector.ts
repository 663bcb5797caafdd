/**
 * The fault injector: one per runtime, consulted by the local bus, the handler invoker and the
 * `@connections` API. Zero cost when off: every hook starts with `if (!faults.active) return`,
 * and `active` is a plain boolean recomputed only when the configuration changes.
 */
import type { FunctionName } from '../../src/contract/topology.js';
import { type FaultConfig, type LatencyHop, parseFaultConfig } from './config.js';
import { createRandom } from './random.js';

/** A PutEvents per-entry error, in the wire form of `PutEventsResultEntry`. */
export interface InjectedEntryError {
  readonly ErrorCode: 'ThrottlingException' | 'InternalFailure';
  readonly ErrorMessage: string;
}

/** What the `@connections` API should answer instead of doing the call. */
export interface InjectedConnectionFault {
  readonly statusCode: 410 | 500;
  /** For 410: the gateway also closes the socket, as a connection API Gateway calls gone is gone. */
  readonly closeConnection: boolean;
}

/** Thrown by `beforeInvoke` in place of a handler invocation. */
export class InjectedHandlerFaultError extends Error {
  override readonly name = 'InjectedHandlerFaultError';
  constructor(readonly functionName: string) {
    super(`fault injected: ${functionName} threw before running (OUTBOX_RELAY_FAULTS)`);
  }
}

/** How many faults of each kind were injected (the checker prints them). */
export interface FaultCounts {
  putEventsEntriesThrottled: number;
  putEventsEntriesInternalFailure: number;
  handlerThrows: Record<string, number>;
  connectionsGone: number;
  connectionsError: number;
  delays: number;
}

function zeroCounts(): FaultCounts {
  return {
    putEventsEntriesThrottled: 0,
    putEventsEntriesInternalFailure: 0,
    handlerThrows: {},
    connectionsGone: 0,
    connectionsError: 0,
    delays: 0,
  };
}

function isActive(config: FaultConfig): boolean {
  const p = config.putEvents;
  const c = config.connections;
  return (
    (p !== undefined && p.entryThrottleFraction + p.entryInternalFailureFraction > 0) ||
    Object.values(config.handlers ?? {}).some((h) => h !== undefined && h.throwFraction > 0) ||
    (c !== undefined && (c.gone.length > 0 || c.error.length > 0 || c.goneFraction + c.errorFraction > 0)) ||
    Object.values(config.latencyMs ?? {}).some((ms) => ms !== undefined && ms > 0)
  );
}

export class FaultInjector {
  /** False when no fault is configured: hooks return at once. */
  active = false;
  private current: FaultConfig = {};
  private random: () => number = Math.random;
  private tally: FaultCounts = zeroCounts();
  private readonly listeners: ((active: boolean) => void)[] = [];

  constructor(config?: FaultConfig) {
    if (config) this.configure(config);
  }

  get config(): FaultConfig {
    return this.current;
  }

  get counts(): FaultCounts {
    return structuredClone(this.tally);
  }

  /** Replace the whole configuration (`{}` turns every fault off). */
  configure(config: FaultConfig | unknown): void {
    const parsed = parseFaultConfig(config);
    this.current = parsed;
    this.random = parsed.seed === undefined ? Math.random : createRandom(parsed.seed);
    this.active = isActive(parsed);
    for (const listener of this.listeners) listener(this.active);
  }

  /** Called after every configuration change (the runtime installs or removes its hooks). */
  onChange(listener: (active: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Turn every fault off (the counts stay, for the report). */
  clear(): void {
    this.configure({});
  }

  /** Per-entry failure of an otherwise accepted PutEvents request, with the real error codes. */
  putEventsEntryError(): InjectedEntryError | undefined {
    if (!this.active || !this.current.putEvents) return undefined;
    const { entryThrottleFraction, entryInternalFailureFraction } = this.current.putEvents;
    const draw = this.random();
    if (draw < entryThrottleFraction) {
      this.tally.putEventsEntriesThrottled += 1;
      return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded (fault injected)' };
    }
    if (draw < entryThrottleFraction + entryInternalFailureFraction) {
      this.tally.putEventsEntriesInternalFailure += 1;
      return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error (fault injected)' };
    }
    return undefined;
  }

  /** Before a handler invocation: added latency, then maybe throw `InjectedHandlerFaultError`. */
  async beforeInvoke(functionName: FunctionName): Promise<void> {
    if (!this.active) return;
    await this.delay(functionName);
    const handlers: Partial<Record<string, { throwFraction: number }>> = this.current.handlers ?? {};
    const fraction = handlers[functionName]?.throwFraction ?? 0;
    if (fraction > 0 && this.random() < fraction) {
      this.tally.handlerThrows[functionName] = (this.tally.handlerThrows[functionName] ?? 0) + 1;
      throw new InjectedHandlerFaultError(functionName);
    }
  }

  /** A `@connections` call for this connection: the status to answer instead, or undefined. */
  connectionFault(connectionId: string): InjectedConnectionFault | undefined {
    if (!this.active || !this.current.connections) return undefined;
    const { gone, error, goneFraction, errorFraction } = this.current.connections;
    if (gone.includes(connectionId)) return this.gone();
    if (error.includes(connectionId)) return this.serverError();
    if (goneFraction + errorFraction === 0) return undefined;
    const draw = this.random();
    if (draw < goneFraction) return this.gone();
    if (draw < goneFraction + errorFraction) return this.serverError();
    return undefined;
  }

  /** Added latency on a hop, if configured. */
  async delay(hop: LatencyHop): Promise<void> {
    if (!this.active) return;
    const latency: Partial<Record<string, number>> = this.current.latencyMs ?? {};
    const ms = latency[hop] ?? 0;
    if (ms <= 0) return;
    this.tally.delays += 1;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  private gone(): InjectedConnectionFault {
    this.tally.connectionsGone += 1;
    return { statusCode: 410, closeConnection: true };
  }

  private serverError(): InjectedConnectionFault {
    this.tally.connectionsError += 1;
    return { statusCode: 500, closeConnection: false };
  }
}
