import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKey } from '../../src/core/keyCodec.js';
import {
  assignSequences,
  type ChannelCounter,
  MAX_ASSIGNMENTS_PER_COMMIT,
  type SequenceCommit,
  SequenceConflictError,
  type SequenceNumber,
  type SequenceStore,
  sequenceAssignmentKey,
  sequenceCounterKey,
} from '../../src/core/sequence.js';

/**
 * The sequences table in memory, with DynamoDB's transaction semantics: a commit applies only if
 * the counter is as read and no assignment exists yet, all or nothing. `yieldTurns` lets other
 * assigners run between a read and a commit (interleavings chosen by the test).
 */
class MemoryStore implements SequenceStore {
  readonly counters = new Map<string, ChannelCounter>();
  readonly assignments = new Map<string, SequenceNumber>();
  commits = 0;
  conflicts = 0;
  failNextCommits = 0;

  constructor(private readonly yieldTurns: () => number = () => 0) {}

  private async pause(): Promise<void> {
    for (let i = this.yieldTurns(); i > 0; i--) await Promise.resolve();
  }

  private key(tenantId: string, channel: string, eventId: string): string {
    const { pk, sk } = sequenceAssignmentKey(tenantId, channel, eventId);
    return `${pk}|${sk}`;
  }

  async read(tenantId: string, channel: string, eventIds: readonly string[]) {
    // Like BatchGetItem, not one snapshot: each item is read on its own, other writers in between.
    const assigned = new Map<string, SequenceNumber>();
    for (const id of eventIds) {
      await this.pause();
      const found = this.assignments.get(this.key(tenantId, channel, id));
      if (found) assigned.set(id, found);
    }
    await this.pause();
    const counter = this.counters.get(sequenceCounterKey(tenantId, channel).pk);
    return { counter: counter ? { ...counter } : undefined, assigned };
  }

  async commit(commit: SequenceCommit): Promise<'committed' | 'conflict'> {
    await this.pause();
    if (this.failNextCommits > 0) {
      this.failNextCommits -= 1;
      throw new Error('ProvisionedThroughputExceededException');
    }
    const counterPk = sequenceCounterKey(commit.tenantId, commit.channel).pk;
    const current = this.counters.get(counterPk);
    const counterAsRead =
      commit.expected === undefined
        ? current === undefined
        : current !== undefined &&
          current.last === commit.expected.last &&
          current.epoch === commit.expected.epoch;
    const fresh = commit.assignments.every(
      (a) => !this.assignments.has(this.key(commit.tenantId, commit.channel, a.eventId)),
    );
    if (!counterAsRead || !fresh) {
      this.conflicts += 1;
      return 'conflict';
    }
    this.counters.set(counterPk, { ...commit.next });
    for (const a of commit.assignments) {
      this.assignments.set(this.key(commit.tenantId, commit.channel, a.eventId), {
        seq: a.seq,
        epoch: commit.next.epoch,
      });
    }
    this.commits += 1;
    return 'committed';
  }

  numbersOf(tenantId: string, channel: string): number[] {
    const prefix = `${sequenceAssignmentKey(tenantId, channel, '').sk}`;
    return [...this.assignments.entries()]
      .filter(([key]) => key.endsWith(`|${prefix}`))
      .map(([, n]) => n.seq)
      .sort((a, b) => a - b);
  }
}

const noPause = { pause: async () => {} };
const ids = (n: number, prefix = 'e') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('assignSequences', () => {
  it('numbers a channel’s events 1..n in the order given, in one commit, under a new epoch', async () => {
    const store = new MemoryStore();
    const numbers = await assignSequences(store, 't1', 'orders', ids(5), { makeEpoch: () => 'ep-1' });
    expect([...numbers.entries()]).toEqual(ids(5).map((id, i) => [id, { seq: i + 1, epoch: 'ep-1' }]));
    expect(store.commits).toBe(1);
    expect(store.counters.get(sequenceCounterKey('t1', 'orders').pk)).toEqual({ last: 5, epoch: 'ep-1' });
  });

  it('gives a replayed or retried event the number it already has, and nothing new', async () => {
    const store = new MemoryStore();
    const first = await assignSequences(store, 't1', 'orders', ids(3));
    const again = await assignSequences(store, 't1', 'orders', ids(3));
    expect(again).toEqual(first);
    expect(store.commits).toBe(1);
    // A batch mixing old and new events: the old keep theirs, the new continue the sequence.
    const mixed = await assignSequences(store, 't1', 'orders', ['e2', 'n1', 'e3', 'n2']);
    expect(mixed.get('e2')?.seq).toBe(2);
    expect(mixed.get('n1')?.seq).toBe(4);
    expect(mixed.get('n2')?.seq).toBe(5);
    expect(store.numbersOf('t1', 'orders')).toEqual([1, 2, 3, 4, 5]);
  });

  it('numbers duplicates within one batch once', async () => {
    const store = new MemoryStore();
    const numbers = await assignSequences(store, 't1', 'orders', ['a', 'b', 'a', 'b', 'c']);
    expect([...numbers.values()].map((n) => n.seq)).toEqual([1, 2, 3]);
  });

  it('keeps channels and tenants apart, even with separators in their names', async () => {
    const store = new MemoryStore();
    await assignSequences(store, 'a#b', 'c', ['x']);
    await assignSequences(store, 'a', 'b#c', ['x']);
    await assignSequences(store, 'a', 'b', ['x']);
    expect(store.counters.size).toBe(3);
    expect(store.assignments.size).toBe(3);
    expect(decodeKey(sequenceCounterKey('a#b', 'c').pk)).toEqual(['SEQ', 'a#b', 'c']);
  });

  it('splits more than one transaction’s worth of events into contiguous commits', async () => {
    const store = new MemoryStore();
    const count = MAX_ASSIGNMENTS_PER_COMMIT * 2 + 5;
    const numbers = await assignSequences(store, 't1', 'orders', ids(count));
    expect([...numbers.values()].map((n) => n.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(store.commits).toBe(3);
  });

  it('lets a failed commit surface (the stream retries the record) and stays consistent on the retry', async () => {
    const store = new MemoryStore();
    await assignSequences(store, 't1', 'orders', ids(2));
    store.failNextCommits = 1;
    await expect(assignSequences(store, 't1', 'orders', ids(4))).rejects.toThrow(/Throughput/);
    const retried = await assignSequences(store, 't1', 'orders', ids(4));
    expect([...retried.values()].map((n) => n.seq)).toEqual([1, 2, 3, 4]);
  });

  it('gives up with SequenceConflictError when the channel keeps moving', async () => {
    const store = new MemoryStore();
    // Every commit conflicts: another writer always got there first.
    store.commit = async () => 'conflict';
    await expect(
      assignSequences(store, 't1', 'orders', ['e1'], { ...noPause, maxAttempts: 3 }),
    ).rejects.toBeInstanceOf(SequenceConflictError);
  });

  it('under concurrent publishers with overlapping batches: one number per event, 1..n, no duplicates, one epoch', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Batches of event ids from a small pool, so publishers race on the same events too.
        fc.array(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }), {
          minLength: 2,
          maxLength: 6,
        }),
        fc.infiniteStream(fc.integer({ min: 0, max: 6 })),
        async (batches, turns) => {
          const it = turns[Symbol.iterator]();
          const store = new MemoryStore(() => it.next().value ?? 0);
          let epochs = 0;
          const results = await Promise.all(
            batches.map((batch) =>
              assignSequences(
                store,
                't1',
                'orders',
                batch.map((n) => `e${n}`),
                { ...noPause, maxAttempts: 1000, makeEpoch: () => `ep-${++epochs}` },
              ),
            ),
          );
          const distinct = new Set(batches.flat().map((n) => `e${n}`));
          // Every assigner saw the same number for the same event.
          const seen = new Map<string, SequenceNumber>();
          for (const result of results) {
            for (const [id, number] of result) {
              const earlier = seen.get(id);
              if (earlier) expect(number).toEqual(earlier);
              seen.set(id, number);
            }
          }
          expect(seen.size).toBe(distinct.size);
          const numbers = [...seen.values()].map((n) => n.seq).sort((a, b) => a - b);
          expect(numbers).toEqual(Array.from({ length: distinct.size }, (_, i) => i + 1));
          expect(new Set([...seen.values()].map((n) => n.epoch)).size).toBe(1);
          expect(store.counters.get(sequenceCounterKey('t1', 'orders').pk)?.last).toBe(distinct.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});
