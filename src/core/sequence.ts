/**
 * Per-channel sequence numbers: each event of a tenant+channel gets the next integer exactly once.
 * Pure module: item keys of the sequences table and the assigner, over a store port
 * (`src/aws/sequencesRepository.ts` on DynamoDB; an in-memory store in tests).
 *
 * | item       | pk                            | sk            | attributes                 |
 * | ---------- | ----------------------------- | ------------- | -------------------------- |
 * | counter    | `SEQ#<tenant>#<channel>`      | `COUNTER`     | `last` (N), `epoch` (S)    |
 * | assignment | `SEQEVT#<tenant>#<eventId>`   | `CH#<channel>`| `seq` (N), `epoch` (S)     |
 *
 * Keys go through the key codec (src/core/keyCodec.ts). Assignments are partitioned by event id
 * (unique per tenant) so a busy channel's writes spread beyond the counter's partition.
 *
 * The assigner reads the counter and the events' assignments, then commits the counter's advance
 * and the new assignments together, conditionally (counter `last` unchanged, each assignment new):
 * a retried or replayed event finds its assignment and keeps its number; two publishers racing on
 * one channel conflict and the loser reads again. A missing counter is created with a new epoch.
 */
import { randomBytes } from 'node:crypto';
import { encodeKey } from './keyCodec.js';

export const SEQUENCE_COUNTER_SK = 'COUNTER';

/** Key of a tenant+channel's counter item. */
export function sequenceCounterKey(tenantId: string, channel: string): { pk: string; sk: string } {
  return { pk: encodeKey(['SEQ', tenantId, channel]), sk: SEQUENCE_COUNTER_SK };
}
/** Key of one event's assignment (an event id is unique within its tenant). */
export function sequenceAssignmentKey(
  tenantId: string,
  channel: string,
  eventId: string,
): { pk: string; sk: string } {
  return { pk: encodeKey(['SEQEVT', tenantId, eventId]), sk: encodeKey(['CH', channel]) };
}

/**
 * Assignments expire (TTL) after this long: beyond every path that can hand the publisher the same
 * record again (stream 24 h, publisher DLQ redrive 14 d, outbox row TTL 7 d). Counters never expire.
 */
export const SEQUENCE_ASSIGNMENT_TTL_SECONDS = 30 * 24 * 60 * 60;

/** A new epoch: random, URL-safe, 22 characters (within the envelope's 64). */
export function newEpoch(): string {
  return randomBytes(16).toString('base64url');
}

export interface SequenceNumber {
  readonly seq: number;
  readonly epoch: string;
}

export interface ChannelCounter {
  /** The last number assigned (0 for a counter created before any event). */
  readonly last: number;
  readonly epoch: string;
}

export interface SequenceState {
  readonly counter: ChannelCounter | undefined;
  /** Existing assignments of the asked events, by event id. */
  readonly assigned: ReadonlyMap<string, SequenceNumber>;
}

export interface SequenceCommit {
  readonly tenantId: string;
  readonly channel: string;
  /** The counter as read (undefined: it must still not exist). */
  readonly expected: ChannelCounter | undefined;
  /** The counter after this commit. */
  readonly next: ChannelCounter;
  readonly assignments: readonly { readonly eventId: string; readonly seq: number }[];
}

export interface SequenceStore {
  /** Strongly consistent read of the counter and of these events' assignments. */
  read(tenantId: string, channel: string, eventIds: readonly string[]): Promise<SequenceState>;
  /** All or nothing; `conflict` when the counter moved or an assignment already exists. */
  commit(commit: SequenceCommit): Promise<'committed' | 'conflict'>;
}

/** Assignments per commit: DynamoDB takes 100 items per transaction, one is the counter. */
export const MAX_ASSIGNMENTS_PER_COMMIT = 99;

export interface AssignOptions {
  /** Conflicts tolerated before giving up (the record then fails and the stream retries it). @default 8 */
  readonly maxAttempts?: number;
  /** @default newEpoch */
  readonly makeEpoch?: () => string;
  /** Back-off between conflicting attempts. @default a short random wait */
  readonly pause?: (attempt: number) => Promise<void>;
}

/** The channel kept conflicting with other writers; the records fail and are retried by the stream. */
export class SequenceConflictError extends Error {
  override readonly name = 'SequenceConflictError';
  constructor(
    readonly tenantId: string,
    readonly channel: string,
    readonly attempts: number,
  ) {
    super(`Sequence of ${tenantId}/${channel} still conflicting after ${attempts} attempts`);
  }
}

const defaultPause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));

/**
 * Number `eventIds` (in the order given, duplicates allowed) in their tenant+channel sequence.
 * Events that already have a number keep it.
 * @example await assignSequences(store, 't1', 'orders', ['e1', 'e2']) // Map { e1 → {seq:1,…}, e2 → {seq:2,…} }
 */
export async function assignSequences(
  store: SequenceStore,
  tenantId: string,
  channel: string,
  eventIds: readonly string[],
  options: AssignOptions = {},
): Promise<Map<string, SequenceNumber>> {
  const maxAttempts = options.maxAttempts ?? 8;
  const makeEpoch = options.makeEpoch ?? newEpoch;
  const pause = options.pause ?? defaultPause;
  const ids = [...new Set(eventIds)];
  const result = new Map<string, SequenceNumber>();
  let conflicts = 0;
  while (result.size < ids.length) {
    const pending = ids.filter((id) => !result.has(id)).slice(0, MAX_ASSIGNMENTS_PER_COMMIT);
    const state = await store.read(tenantId, channel, pending);
    const fresh: string[] = [];
    for (const id of pending) {
      const existing = state.assigned.get(id);
      if (existing) result.set(id, existing);
      else fresh.push(id);
    }
    if (fresh.length === 0) continue;
    const base = state.counter ?? { last: 0, epoch: makeEpoch() };
    const next: ChannelCounter = { last: base.last + fresh.length, epoch: base.epoch };
    const assignments = fresh.map((eventId, i) => ({ eventId, seq: base.last + 1 + i }));
    const outcome = await store.commit({ tenantId, channel, expected: state.counter, next, assignments });
    if (outcome === 'committed') {
      for (const a of assignments) result.set(a.eventId, { seq: a.seq, epoch: base.epoch });
      continue;
    }
    conflicts += 1;
    if (conflicts >= maxAttempts) throw new SequenceConflictError(tenantId, channel, conflicts);
    await pause(conflicts);
  }
  return result;
}

/** Bytes an envelope grows by when `seq` and `epoch` are added (`,"seq":<16 digits>,"epoch":"<64>"`). */
export const SEQUENCE_ENVELOPE_RESERVE_BYTES = 100;
