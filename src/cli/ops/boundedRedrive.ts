/**
 * One redrive loop for every DLQ, bounded and honest:
 * - it handles each message at most once per run: it stops after the depth it found at the start,
 *   and stops early when a message it already handled comes back (the same SQS message id, or the
 *   same logical key, e.g. a webhook delivery that was re-parked under a new id);
 * - a message the caller cannot deliver is skipped with a reason and left in the DLQ (released at
 *   the end, so it is neither lost nor seen twice in this run);
 * - `dryRun` receives and decides, then releases everything: nothing is sent or deleted.
 *
 * The queue is a port, so the loop is tested against an in-memory queue and runs against SQS
 * (fauxqs or AWS) through `sqsDlqPort`.
 */

export interface ReceivedDlqMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface DlqPort {
  /** Messages in the DLQ now (visible + in flight), the run's upper bound. */
  depth(): Promise<number>;
  /** Up to 10 messages, hidden from other receivers for the rest of the run. */
  receive(): Promise<ReceivedDlqMessage[]>;
  delete(receiptHandles: readonly string[]): Promise<void>;
  /** Make held messages visible again at once. */
  release(receiptHandles: readonly string[]): Promise<void>;
}

/** What to do with one DLQ message. */
export type RedriveDecision =
  /** Deliver it again; `perform` returns normally when the message may be deleted. */
  | { readonly action: 'redrive'; readonly key?: string; readonly describe: string; perform(): Promise<void> }
  /** Leave it in the DLQ and say why; `notSelected` when a filter (`--id`, `--endpoint`) left it out. */
  | {
      readonly action: 'skip';
      readonly key?: string;
      readonly reason: string;
      readonly notSelected?: boolean;
    };

export interface RedriveEntry {
  readonly messageId: string;
  readonly result: 'redriven' | 'would redrive' | 'skipped' | 'not selected' | 'failed';
  readonly detail: string;
  readonly key?: string;
}

export type StopReason =
  | 'depth reached'
  | 'queue empty'
  | 'limit reached'
  | 'a handled message came back'
  | 'found';

export interface RedriveReport {
  readonly dryRun: boolean;
  /** Depth at the start of the run. */
  readonly depth: number;
  readonly handled: number;
  readonly redriven: number;
  /** Left in the DLQ because they cannot be delivered now (each entry says why). */
  readonly skipped: number;
  /** Left in the DLQ because a filter did not select them. */
  readonly notSelected: number;
  readonly failed: number;
  readonly stoppedBecause: StopReason;
  readonly entries: readonly RedriveEntry[];
}

export interface BoundedRedriveOptions {
  readonly dryRun: boolean;
  /** At most this many messages (beside the depth bound). */
  readonly limit?: number;
  readonly decide: (message: ReceivedDlqMessage) => Promise<RedriveDecision> | RedriveDecision;
  /** Stop once this returns true (checked after each message), e.g. when the one message sought is found. */
  readonly stopWhen?: (entries: readonly RedriveEntry[]) => boolean;
  /** Called after each message with "handled of depth". */
  readonly onProgress?: (handled: number, depth: number) => void;
}

/** Two empty receives in a row end the run: SQS samples servers, so one empty receive proves little. */
const EMPTY_RECEIVES_TO_STOP = 2;

export async function boundedRedrive(port: DlqPort, options: BoundedRedriveOptions): Promise<RedriveReport> {
  const depth = await port.depth();
  const budget = Math.min(depth, options.limit ?? Number.POSITIVE_INFINITY);
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  const held: string[] = [];
  const entries: RedriveEntry[] = [];
  let handled = 0;
  let emptyReceives = 0;
  let stoppedBecause: StopReason = budget === depth ? 'depth reached' : 'limit reached';
  try {
    outer: while (handled < budget) {
      const batch = await port.receive();
      if (batch.length === 0) {
        emptyReceives += 1;
        if (emptyReceives >= EMPTY_RECEIVES_TO_STOP) {
          stoppedBecause = 'queue empty';
          break;
        }
        continue;
      }
      emptyReceives = 0;
      for (let i = 0; i < batch.length; i += 1) {
        const message = batch[i] as ReceivedDlqMessage;
        if (handled >= budget || seenIds.has(message.messageId)) {
          if (seenIds.has(message.messageId)) stoppedBecause = 'a handled message came back';
          held.push(...batch.slice(i).map((m) => m.receiptHandle));
          break outer;
        }
        seenIds.add(message.messageId);
        handled += 1;
        const decision = await options.decide(message);
        const key = decision.key;
        if (key !== undefined && seenKeys.has(key)) {
          // The same delivery again under a new message id: it was redriven in this run and failed.
          entries.push({
            messageId: message.messageId,
            result: 'skipped',
            detail: 'redriven earlier in this run and back in the DLQ',
            key,
          });
          held.push(message.receiptHandle);
        } else if (decision.action === 'skip') {
          entries.push({
            messageId: message.messageId,
            result: decision.notSelected ? 'not selected' : 'skipped',
            detail: decision.reason,
            ...opt(key),
          });
          held.push(message.receiptHandle);
        } else if (options.dryRun) {
          entries.push({
            messageId: message.messageId,
            result: 'would redrive',
            detail: decision.describe,
            ...opt(key),
          });
          held.push(message.receiptHandle);
        } else {
          try {
            await decision.perform();
            await port.delete([message.receiptHandle]);
            entries.push({
              messageId: message.messageId,
              result: 'redriven',
              detail: decision.describe,
              ...opt(key),
            });
          } catch (error) {
            entries.push({
              messageId: message.messageId,
              result: 'failed',
              detail: error instanceof Error ? error.message : String(error),
              ...opt(key),
            });
            held.push(message.receiptHandle);
          }
        }
        if (key !== undefined && decision.action === 'redrive') seenKeys.add(key);
        options.onProgress?.(handled, depth);
        if (options.stopWhen?.(entries)) {
          stoppedBecause = 'found';
          held.push(...batch.slice(i + 1).map((m) => m.receiptHandle));
          break outer;
        }
      }
    }
  } finally {
    await port.release(held);
  }
  const count = (result: RedriveEntry['result']) => entries.filter((e) => e.result === result).length;
  return {
    dryRun: options.dryRun,
    depth,
    handled,
    redriven: count(options.dryRun ? 'would redrive' : 'redriven'),
    skipped: count('skipped'),
    notSelected: count('not selected'),
    failed: count('failed'),
    stoppedBecause,
    entries,
  };
}

function opt(key: string | undefined): { key?: string } {
  return key === undefined ? {} : { key };
}
