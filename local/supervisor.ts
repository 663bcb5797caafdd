/**
 * What the offline runtime knows about its parts (DynamoDB Local's JVM, the in-process servers,
 * the pollers), for `/health` and for the log: an outage is one line when it starts and one when
 * it ends, and the errors every poll meets meanwhile are counted instead of printed. Outside an
 * outage, a line repeated by the same source is printed once and then counted.
 */

export type PartState = 'up' | 'down' | 'restarting';

export interface PartStatus {
  readonly state: PartState;
  /** When the part entered this state (ISO-8601). */
  readonly since: string;
  readonly detail?: string;
}

export interface Supervisor {
  /** Registers a part as up (at start). */
  up(part: string, detail?: string): void;
  /** The part is down or restarting: logs one line (the first time of an outage). */
  down(part: string, detail: string, state?: Exclude<PartState, 'up'>): void;
  /** Logs an error of a source (a poller, a handler) unless a part is down; repeats are counted. */
  report(source: string, line: string): void;
  parts(): Readonly<Record<string, PartStatus>>;
  /** True when every part is up. */
  healthy(): boolean;
}

/** A repeated line is printed again at most this often, with how many times it was seen. */
const REPEAT_WINDOW_MS = 60_000;

export function createSupervisor(log: (line: string) => void, now: () => number = Date.now): Supervisor {
  const parts = new Map<string, PartStatus>();
  let suppressed = 0;
  const last = new Map<string, { line: string; at: number; repeats: number }>();

  const outage = () => [...parts.values()].some((part) => part.state !== 'up');

  return {
    up(part, detail) {
      const previous = parts.get(part);
      parts.set(part, { state: 'up', since: new Date(now()).toISOString(), ...(detail ? { detail } : {}) });
      if (previous && previous.state !== 'up') {
        const seconds = ((now() - Date.parse(previous.since)) / 1000).toFixed(1);
        log(
          `[supervisor] ${part} is back after ${seconds} s${detail ? `: ${detail}` : ''}${suppressed > 0 ? ` (${suppressed} error line(s) during the outage not printed)` : ''}`,
        );
        if (!outage()) suppressed = 0;
      }
    },
    down(part, detail, state = 'down') {
      const previous = parts.get(part);
      parts.set(part, {
        state,
        since: previous && previous.state !== 'up' ? previous.since : new Date(now()).toISOString(),
        detail,
      });
      if (!previous || previous.state === 'up' || previous.detail !== detail)
        log(`[supervisor] ${part} ${state}: ${detail}`);
    },
    report(source, line) {
      if (outage()) {
        suppressed += 1;
        return;
      }
      const t = now();
      const previous = last.get(source);
      if (previous && previous.line === line && t - previous.at < REPEAT_WINDOW_MS) {
        previous.repeats += 1;
        return;
      }
      if (previous && previous.repeats > 0)
        log(`[${source}] (the previous line repeated ${previous.repeats} more time(s))`);
      last.set(source, { line, at: t, repeats: 0 });
      log(`[${source}] ${line}`);
    },
    parts: () => Object.fromEntries(parts),
    healthy: () => !outage(),
  };
}
