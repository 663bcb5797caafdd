/**
 * Crash recovery of the offline runtime (docs/reliability.md). DynamoDB Local and the stream
 * checkpoints are on disk, so after a SIGKILL the publisher re-reads every record after its last
 * checkpoint. But fauxqs keeps queues in memory: events already on the bus and waiting in the
 * audit, fan-out or webhook queues at the moment of the kill would be lost. So:
 *
 * - while the runtime runs, an **idle mark** is written to `<dataDir>/idle-mark.json` each time
 *   the runtime is seen idle (every consumed queue empty, nothing in flight): every event the bus
 *   accepted before that moment has been fully handled;
 * - on a start that found no queue snapshot (written by a clean stop, local/queueSnapshot.ts) —
 *   after a crash, a SIGKILL, or on a data directory of an older version — the bus archive (on
 *   disk) is **replayed from the idle mark** through the rules.
 *
 * Consumers are idempotent on the event id (audit) or de-duplicated by receivers (WebSocket
 * frames and webhooks carry the event id), so the replay costs duplicates, never losses.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { readEndpointsFile } from '../endpointsFile.js';
import { RuntimeNotIdleError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** How often the idle mark is refreshed. */
const IDLE_CHECK_INTERVAL_MS = 1_000;
/** Bus event times have second precision: replay from one second before the mark. */
const MARK_MARGIN_MS = 1_000;

const idleMarkSchema = z.object({ at: z.iso.datetime() });

export function idleMarkPath(dataDir: string): string {
  return join(dataDir, 'idle-mark.json');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/** True when the previous runtime on this data directory did not stop cleanly. Call before writing endpoints.json. */
export function previousRunCrashed(dataDir: string): boolean {
  const previous = readEndpointsFile(dataDir);
  return previous !== undefined && previous.pid !== process.pid && !isAlive(previous.pid);
}

export function readIdleMark(dataDir: string): Date | undefined {
  try {
    const parsed = idleMarkSchema.safeParse(JSON.parse(readFileSync(idleMarkPath(dataDir), 'utf8')));
    return parsed.success ? new Date(parsed.data.at) : undefined;
  } catch {
    return undefined;
  }
}

function writeIdleMark(dataDir: string, at: Date): void {
  const path = idleMarkPath(dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify({ at: at.toISOString() }));
  renameSync(`${path}.tmp`, path);
}

/** `2026-01-01T12:00:00Z`, the bus archive's time format, so range bounds compare as strings. */
export function busTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export interface CrashRecovery {
  /** Events replayed from the archive at start (0 after a clean stop). */
  readonly replayed: number;
  /** Where the replay started (undefined: no replay, or the whole archive). */
  readonly replayedFrom: string | undefined;
  stop(): void;
}

/**
 * Replays what a crash may have lost, then keeps the idle mark fresh until `stop()`.
 *
 * ```ts
 * const crashed = previousRunCrashed(dataDir);        // before writeEndpointsFile
 * const recovery = await startCrashRecovery(runtime, dataDir, crashed);
 * ```
 */
export async function startCrashRecovery(
  runtime: Pick<Runtime, 'bus' | 'waitForIdle'>,
  dataDir: string,
  crashed: boolean,
  log: (line: string) => void = () => {},
): Promise<CrashRecovery> {
  let replayed = 0;
  let replayedFrom: string | undefined;
  if (crashed) {
    const mark = readIdleMark(dataDir);
    replayedFrom = mark ? busTime(new Date(mark.getTime() - MARK_MARGIN_MS)) : undefined;
    replayed = await runtime.bus.replay({
      ...(replayedFrom ? { from: replayedFrom } : {}),
      replayName: 'crash-recovery',
    });
    log(
      `[recovery] no queue snapshot from a clean stop: replayed ${replayed} archived event(s) ${replayedFrom ? `since ${replayedFrom}` : '(whole archive)'}; consumers de-duplicate by event id`,
    );
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    const started = new Date();
    try {
      // Within a second every stream poller has polled again, so "drained" is observed after `started`.
      await runtime.waitForIdle({ timeoutMs: IDLE_CHECK_INTERVAL_MS });
      writeIdleMark(dataDir, started);
    } catch (error) {
      if (!(error instanceof RuntimeNotIdleError)) log(`[recovery] idle check: ${String(error)}`);
    }
    if (!stopped) schedule();
  };
  const schedule = () => {
    timer = setTimeout(check, IDLE_CHECK_INTERVAL_MS);
    timer.unref();
  };
  // Only after the replay has been routed: its events are in the queues, so idleness means they are handled.
  schedule();
  return {
    replayed,
    replayedFrom,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
