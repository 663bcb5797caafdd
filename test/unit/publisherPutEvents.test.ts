import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { putEntries } from '../../src/aws/eventBus.js';
import { type BusEntry, entrySizeBytes, envelopeToBusEntry } from '../../src/core/busEntry.js';
import { PUT_EVENTS_MAX_REQUEST_BYTES } from '../../src/core/limits.js';
import { planPutEventsBatches } from '../../src/core/putEventsBatches.js';
import { envelopeFactory } from './publisherFactories.js';

const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });

function entries(n: number, dataBytes = 10): BusEntry[] {
  return Array.from({ length: n }, () =>
    envelopeToBusEntry(envelopeFactory({ data: { blob: 'x'.repeat(dataBytes) } }), 'bus'),
  );
}

function idOf(entry: PutEventsRequestEntry | undefined): string {
  return JSON.parse(entry?.Detail ?? '{}').id;
}

const sent: string[][] = [];
const sleeps: number[] = [];
const options = {
  remainingTimeMs: () => 60_000,
  sleep: async (ms: number) => {
    sleeps.push(ms);
  },
  random: () => 0.5,
};

beforeEach(() => {
  eventBridge.reset();
  sent.length = 0;
  sleeps.length = 0;
});

/** Answer each call with `answer(id, call number)`: undefined = accepted, else an error code. */
function respondWith(answer: (id: string, call: number) => string | undefined) {
  let call = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    call += 1;
    const ids = input.Entries.map(idOf);
    sent.push(ids);
    const results = ids.map((id) => {
      const code = answer(id, call);
      return code ? { ErrorCode: code, ErrorMessage: `${code} for ${id}` } : { EventId: `eb-${id}` };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  });
}

describe('planPutEventsBatches', () => {
  it('packs N small entries into ceil(N/10) requests, in order', () => {
    for (const n of [1, 9, 10, 11, 25, 100]) {
      const plan = planPutEventsBatches(entries(n));
      expect(plan.batches).toHaveLength(Math.ceil(n / 10));
      expect(plan.batches.flat()).toEqual([...Array(n).keys()]);
    }
  });

  it('starts a new request when the next entry would pass the byte limit', () => {
    const big = entries(5, 300 * 1024); // ~300 KB each: three fit under 1 MB, four do not
    const plan = planPutEventsBatches(big);
    expect(plan.batches).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    for (const batch of plan.batches) {
      const bytes = batch.reduce((sum, i) => sum + entrySizeBytes(big[i] as BusEntry), 0);
      expect(bytes).toBeLessThanOrEqual(PUT_EVENTS_MAX_REQUEST_BYTES);
    }
  });

  it('reports an entry that alone exceeds the limit and keeps it out of every request', () => {
    const mixed = [...entries(1), ...entries(1, PUT_EVENTS_MAX_REQUEST_BYTES), ...entries(1)];
    const plan = planPutEventsBatches(mixed);
    expect(plan.batches).toEqual([[0, 2]]);
    expect(plan.oversized).toEqual([
      expect.objectContaining({ index: 1, limitBytes: PUT_EVENTS_MAX_REQUEST_BYTES }),
    ]);
  });
});

describe('putEntries', () => {
  it('makes ceil(N/10) PutEvents calls for N small events', async () => {
    respondWith(() => undefined);
    const outcomes = await putEntries(client, entries(25), options);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(outcomes.every((o) => o.status === 'published')).toBe(true);
  });

  it('keeps at most `concurrency` requests in flight, each entry sent once', async () => {
    for (const concurrency of [1, 3]) {
      eventBridge.reset();
      let inFlight = 0;
      let peak = 0;
      const seen: string[] = [];
      eventBridge.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        seen.push(...input.Entries.map(idOf));
        return { FailedEntryCount: 0, Entries: input.Entries.map((e) => ({ EventId: `eb-${idOf(e)}` })) };
      });
      const batch = entries(55);
      const outcomes = await putEntries(client, batch, { ...options, concurrency });
      expect(peak).toBe(concurrency);
      expect(outcomes.every((o) => o.status === 'published')).toBe(true);
      expect(seen.sort()).toEqual(batch.map((e) => JSON.parse(e.Detail).id as string).sort());
    }
  });

  it('re-sends only the failed entries whose error code is retryable', async () => {
    const batch = entries(10);
    const ids = batch.map((e) => JSON.parse(e.Detail).id as string);
    const [throttled, internal, malformed] = [ids[2], ids[5], ids[7]];
    respondWith((id, call) => {
      if (call === 1 && id === throttled) return 'ThrottlingException';
      if (call === 1 && id === internal) return 'InternalFailure';
      if (id === malformed) return 'MalformedDetail';
      return undefined;
    });
    const outcomes = await putEntries(client, batch, options);
    expect(sent).toEqual([ids, [throttled, internal]]);
    expect(outcomes.map((o) => o.status)).toEqual([
      ...Array(7).fill('published'),
      'permanently-rejected',
      'published',
      'published',
    ]);
    expect(outcomes[7]).toMatchObject({ errorCode: 'MalformedDetail' });
    expect(outcomes[2]).toMatchObject({ status: 'published', attempts: 2 });
    expect(sleeps).toHaveLength(1);
  });

  it('backs off while throttled, then succeeds', async () => {
    respondWith((_id, call) => (call <= 3 ? 'ThrottlingException' : undefined));
    const outcomes = await putEntries(client, entries(3), options);
    expect(sent).toHaveLength(4);
    expect(outcomes.every((o) => o.status === 'published')).toBe(true);
    // Full jitter with random 0.5: half of base·2^(n-1) (100 ms base).
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('stops retrying when the next back-off would not fit in the time budget', async () => {
    respondWith(() => 'ThrottlingException');
    let remaining = 5_400; // 5 s reserve: only a few short back-offs fit
    const outcomes = await putEntries(client, entries(2), {
      ...options,
      remainingTimeMs: () => remaining,
      sleep: async (ms) => {
        sleeps.push(ms);
        remaining -= ms;
      },
    });
    expect(outcomes.every((o) => o.status === 'retryable-failed')).toBe(true);
    expect(remaining).toBeGreaterThan(5_000);
    expect(sent.length).toBeGreaterThan(1);
  });

  it('gives up after maxAttempts and reports the entries retryable-failed', async () => {
    respondWith(() => 'InternalFailure');
    const outcomes = await putEntries(client, entries(1), { ...options, maxAttempts: 3 });
    expect(sent).toHaveLength(3);
    expect(outcomes[0]).toMatchObject({
      status: 'retryable-failed',
      errorCode: 'InternalFailure',
      attempts: 3,
    });
  });

  it('splits large events by size and never sends an oversized one', async () => {
    respondWith(() => undefined);
    const batch = [...entries(4, 300 * 1024), ...entries(1, PUT_EVENTS_MAX_REQUEST_BYTES)];
    const outcomes = await putEntries(client, batch, options);
    expect(sent.map((ids) => ids.length)).toEqual([3, 1]);
    expect(outcomes[4]).toMatchObject({ status: 'too-large' });
    expect(outcomes.slice(0, 4).every((o) => o.status === 'published')).toBe(true);
  });

  it('retries a whole request that failed transiently, but not one refused as a client error', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
    });
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(throttled)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    expect((await putEntries(client, entries(1), options))[0]).toMatchObject({
      status: 'published',
      attempts: 2,
    });

    eventBridge.reset();
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $fault: 'client',
    });
    eventBridge.on(PutEventsCommand).rejects(denied);
    const outcomes = await putEntries(client, entries(2), options);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(outcomes.every((o) => o.status === 'retryable-failed')).toBe(true);
    expect(outcomes[0]).toMatchObject({ errorCode: 'AccessDeniedException' });
  });
});
