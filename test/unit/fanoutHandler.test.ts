/**
 * The fan-out handler as an adapter: SQS records in → core → batch item failures out, with fakes
 * of its ports (audit, connections table, `@connections`, fan-out queue).
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeliveryAttempt } from '../../src/core/auditRecord.js';
import type { Envelope } from '../../src/core/envelope.js';
import { FANOUT_CHUNK_KIND } from '../../src/core/fanoutChunk.js';
import { TARGETED_DELIVERY_KIND, type TargetedDelivery } from '../../src/core/targetedDelivery.js';
import { MAX_TARGETED_ATTEMPTS } from '../../src/core/targetedRetry.js';
import { ConnectionGoneError } from '../../src/core/websocketErrors.js';
import { busEventBody, envelopeFactory, sqsRecordFactory } from '../helpers/envelopes.js';

const fake = vi.hoisted(() => ({
  recorded: [] as string[],
  attempts: [] as { tenantId: string; eventId: string; attempt: DeliveryAttempt }[],
  recordEvent: async (_envelope: unknown): Promise<void> => {},
  /** Event ids the audit consumer has already recorded (`recordedAmong` finds them). */
  audited: new Set<string>(),
  lookups: 0,
  recordedAmong: undefined as undefined | (() => Promise<never>),
  subscribers: new Map<string, string[]>(),
  findSubscribers: undefined as undefined | ((shard?: number) => Promise<string[]>),
  deleted: [] as string[],
  subjectRecords: [] as { eventId: string; subject: string; outcome: string; connectionId: string }[],
  subjectsUntil: [] as (number | undefined)[],
  subjectsDigests: [] as (boolean | undefined)[],
  writes: [] as string[],
  onAttempts: (): void => {},
  posts: [] as { connectionId: string; body: string }[],
  post: async (_connectionId: string, _body: string): Promise<void> => {},
  enqueued: [] as { delivery: unknown; delaySeconds: number | undefined }[],
  enqueueTargeted: async (): Promise<void> => {},
  quarantined: [] as { body: string; reason: string; detail: string }[],
  quarantine: async (): Promise<void> => {},
}));

vi.mock('../../src/aws/auditRepository.js', () => ({
  getAuditRepository: () => ({
    recordEvent: async (envelope: { id: string }) => {
      await fake.recordEvent(envelope);
      fake.recorded.push(envelope.id);
      return { recorded: true };
    },
    recordedAmong: async <T extends { id: string }>(events: readonly T[]) => {
      fake.lookups += 1;
      if (fake.recordedAmong) await fake.recordedAmong();
      return events.filter((e) => fake.audited.has(e.id));
    },
    recordAttempt: async (tenantId: string, eventId: string, attempt: DeliveryAttempt) => {
      fake.attempts.push({ tenantId, eventId, attempt });
      return attempt;
    },
    recordAttempts: async (
      attempts: readonly { tenantId: string; eventId: string; attempt: DeliveryAttempt }[],
    ) => {
      fake.writes.push('attempts');
      fake.onAttempts();
      fake.attempts.push(...attempts);
    },
    recordSubjects: async (
      records: { eventId: string; subject: string; outcome: string; connectionId: string }[],
      options?: { until?: number; digests?: boolean },
    ) => {
      fake.writes.push('subjects');
      fake.subjectsUntil.push(options?.until);
      fake.subjectsDigests.push(options?.digests);
      fake.subjectRecords.push(...records);
      return { skipped: 0 };
    },
  }),
}));
vi.mock('../../src/aws/connectionsRepository.js', () => ({
  getConnectionsRepository: () => ({
    findSubscribers: async (tenantId: string, channel: string, shard?: number) =>
      fake.findSubscribers
        ? fake.findSubscribers(shard)
        : (fake.subscribers.get(`${tenantId}/${channel}`) ?? []),
    deleteConnection: async (connectionId: string) => {
      fake.deleted.push(connectionId);
      return 1;
    },
    // Every connection belongs to tenant t1, its subject named after it.
    getConnection: async (connectionId: string) =>
      fake.deleted.includes(connectionId)
        ? undefined
        : { connectionId, tenantId: 't1', subject: `sub-${connectionId}` },
    subjectsOf: async (ids: string[]) =>
      new Map(
        ids
          .filter((id) => !fake.deleted.includes(id))
          .map((id) => [id, { tenantId: 't1', subject: `sub-${id}` }]),
      ),
  }),
}));
vi.mock('../../src/aws/connectionsApi.js', () => ({
  getConnectionsApi: () => ({
    post: async (connectionId: string, body: string) => {
      await fake.post(connectionId, body);
      fake.posts.push({ connectionId, body });
    },
    disconnect: async () => {},
  }),
}));
vi.mock('../../src/aws/fanoutQueue.js', () => ({
  getFanoutQueue: () => ({
    enqueueTargeted: async (delivery: unknown, delaySeconds?: number) => {
      await fake.enqueueTargeted();
      fake.enqueued.push({ delivery, delaySeconds });
    },
    enqueueChunk: async () => {},
    quarantine: async (body: string, reason: string, detail: string) => {
      await fake.quarantine();
      fake.quarantined.push({ body, reason, detail });
    },
  }),
}));

type Handler = (
  event: unknown,
  context?: { getRemainingTimeInMillis(): number },
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
let handler: Handler;

beforeAll(async () => {
  // No waiting between the in-process retries of a failed post.
  vi.stubEnv('FANOUT_RETRY_DELAYS_MS', '0');
  // The tests pass only the part of the Lambda context the fan-out reads.
  ({ handler } = (await import('../../lambdas/fanout/handler.js')) as { handler: Handler });
});

beforeEach(() => {
  fake.recorded.length = 0;
  fake.attempts.length = 0;
  fake.deleted.length = 0;
  fake.subjectRecords.length = 0;
  fake.subjectsUntil.length = 0;
  fake.subjectsDigests.length = 0;
  fake.writes.length = 0;
  fake.posts.length = 0;
  fake.enqueued.length = 0;
  fake.quarantined.length = 0;
  fake.subscribers.clear();
  fake.findSubscribers = undefined;
  fake.recordEvent = async () => {};
  fake.audited.clear();
  fake.lookups = 0;
  fake.recordedAmong = undefined;
  fake.onAttempts = () => {};
  fake.post = async () => {};
  fake.enqueueTargeted = async () => {};
  fake.quarantine = async () => {};
});

const sqsEvent = (...records: [string, string][]) => ({
  Records: records.map(([body, messageId]) => sqsRecordFactory(body, messageId)),
});

function targetedDelivery(envelope: Envelope, attempt: number): TargetedDelivery {
  const body = JSON.stringify({ type: 'event', event: envelope });
  return {
    kind: TARGETED_DELIVERY_KIND,
    connectionId: 'conn-slow',
    attempt,
    messages: [{ kind: 'event', body, bytes: body.length, eventIds: [envelope.id], refreshedEventIds: [] }],
    events: [{ id: envelope.id, tenantId: envelope.tenantId, channel: envelope.channel }],
  };
}

describe('fan-out handler', () => {
  it('records the event, posts it to every subscriber, prunes a gone one and audits one summary', async () => {
    const envelope = envelopeFactory();
    fake.subscribers.set('t1/orders', ['conn-a', 'conn-b', 'conn-gone']);
    fake.post = async (connectionId) => {
      if (connectionId === 'conn-gone') throw new ConnectionGoneError(connectionId);
    };

    const result = await handler(sqsEvent([busEventBody(envelope), 'm1']));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.recorded).toEqual([envelope.id]);
    expect(fake.posts.map((p) => p.connectionId).sort()).toEqual(['conn-a', 'conn-b']);
    expect(fake.deleted).toEqual(['conn-gone']);
    expect(fake.attempts).toHaveLength(1);
    expect(fake.attempts[0]).toMatchObject({
      tenantId: 't1',
      eventId: envelope.id,
      attempt: {
        path: 'websocket',
        target: 'fanout',
        outcome: 'delivered',
        fanout: {
          subscribers: 3,
          delivered: 2,
          gone: 1,
          requeued: 0,
          failed: 0,
          subjectRecords: 'per-subject',
        },
      },
    });
    // One record per subscriber under its subject, the gone one included (read before its record was deleted).
    expect(fake.subjectRecords.map((r) => `${r.subject}:${r.outcome}`).sort()).toEqual([
      'sub-conn-a:delivered',
      'sub-conn-b:delivered',
      'sub-conn-gone:gone',
    ]);
    // The summary carries the same subjects (in place of a digest), so the records need none.
    const carried = JSON.parse(fake.attempts[0]?.attempt.fanout?.subjects ?? '[]') as string[][];
    expect(
      carried.map(([subject, connectionId, outcome]) => `${subject}:${connectionId}:${outcome}`).sort(),
    ).toEqual(['sub-conn-a:conn-a:delivered', 'sub-conn-b:conn-b:delivered', 'sub-conn-gone:conn-gone:gone']);
    expect(fake.subjectsDigests).toEqual([false]);
  });

  it('pre-records only the events the audit does not hold yet, and delivers all of them', async () => {
    const audited = envelopeFactory();
    const fresh = envelopeFactory();
    fake.audited.add(audited.id);
    fake.subscribers.set('t1/orders', ['conn-a']);

    const result = await handler(sqsEvent([busEventBody(audited), 'm1'], [busEventBody(fresh), 'm2']));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.lookups).toBe(1);
    expect(fake.recorded).toEqual([fresh.id]);
    const posted = fake.posts.map((p) => p.body).join('\n');
    expect(posted).toContain(audited.id);
    expect(posted).toContain(fresh.id);
  });

  it('pre-records every event when the audit lookup fails', async () => {
    const envelopes = [envelopeFactory(), envelopeFactory()];
    fake.audited.add(envelopes[0]?.id ?? '');
    fake.recordedAmong = async () => {
      throw new Error('throttled');
    };
    fake.subscribers.set('t1/orders', ['conn-a']);

    const result = await handler(
      sqsEvent(...envelopes.map((e, i): [string, string] => [busEventBody(e), `m${i}`])),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.recorded.sort()).toEqual(envelopes.map((e) => e.id).sort());
  });

  it('keeps the summary alone, marked summary-only, above the per-subject limit', async () => {
    vi.stubEnv('FANOUT_SUBJECT_RECORDS_MAX', '2');
    try {
      fake.subscribers.set('t1/orders', ['conn-a', 'conn-b', 'conn-c']);
      await handler(sqsEvent([busEventBody(envelopeFactory()), 'm1']));
      expect(fake.subjectRecords).toEqual([]);
      expect(fake.attempts[0]?.attempt.fanout?.subjectRecords).toBe('summary-only');
      expect(fake.attempts[0]?.attempt.fanout?.subjects).toBeUndefined();
    } finally {
      vi.stubEnv('FANOUT_SUBJECT_RECORDS_MAX', '');
    }
  });

  it('does not deliver an event it could not pre-record, and reports its message failed', async () => {
    const ok = envelopeFactory();
    const unrecorded = envelopeFactory();
    fake.subscribers.set('t1/orders', ['conn-a']);
    fake.recordEvent = async (envelope) => {
      if ((envelope as Envelope).id === unrecorded.id) throw new Error('throttled');
    };

    const result = await handler(sqsEvent([busEventBody(ok), 'm-ok'], [busEventBody(unrecorded), 'm-bad']));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    const posted = fake.posts.map((p) => p.body).join('\n');
    expect(posted).toContain(ok.id);
    expect(posted).not.toContain(unrecorded.id);
  });

  it('reports every event message failed when the subscribers cannot be read', async () => {
    fake.findSubscribers = async () => {
      throw new Error('table unavailable');
    };
    const result = await handler(sqsEvent([busEventBody(envelopeFactory()), 'm1']));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(fake.posts).toEqual([]);
  });

  it('hands a connection whose posts keep failing to a targeted retry and audits the event failed', async () => {
    const envelope = envelopeFactory();
    fake.subscribers.set('t1/orders', ['conn-a', 'conn-slow']);
    fake.post = async (connectionId) => {
      if (connectionId === 'conn-slow') throw new Error('503');
    };

    const result = await handler(sqsEvent([busEventBody(envelope), 'm1']));

    expect(result).toEqual({ batchItemFailures: [] });
    // The first fan-out counts as attempt 1; the retry comes a second later.
    expect(fake.enqueued).toEqual([
      { delivery: expect.objectContaining({ connectionId: 'conn-slow', attempt: 1 }), delaySeconds: 1 },
    ]);
    expect(fake.attempts[0]?.attempt).toMatchObject({ outcome: 'failed', fanout: { requeued: 1 } });
  });

  it('quarantines a poison message, and reports it failed only when the quarantine write fails', async () => {
    expect(await handler(sqsEvent(['not json', 'm1']))).toEqual({ batchItemFailures: [] });
    expect(fake.quarantined).toEqual([expect.objectContaining({ body: 'not json', reason: 'invalid_json' })]);

    fake.quarantine = async () => {
      throw new Error('DLQ unavailable');
    };
    expect(await handler(sqsEvent(['not json', 'm2']))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm2' }],
    });
  });

  it('re-enqueues a failing targeted delivery with the next attempt and its back-off, and audits it failed', async () => {
    const envelope = envelopeFactory();
    fake.post = async () => {
      throw new Error('503');
    };

    const result = await handler(sqsEvent([JSON.stringify(targetedDelivery(envelope, 2)), 't1']));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.enqueued).toEqual([
      { delivery: expect.objectContaining({ connectionId: 'conn-slow', attempt: 3 }), delaySeconds: 2 ** 3 },
    ]);
    expect(fake.attempts).toEqual([
      {
        tenantId: 't1',
        eventId: envelope.id,
        attempt: expect.objectContaining({
          target: 'conn-slow',
          attempt: 3,
          outcome: 'failed',
          error: '503',
        }),
      },
    ]);
  });

  it('dead-letters a targeted delivery at its last attempt and audits it dead-lettered', async () => {
    const envelope = envelopeFactory();
    fake.post = async () => {
      throw new Error('503');
    };

    const result = await handler(
      sqsEvent([JSON.stringify(targetedDelivery(envelope, MAX_TARGETED_ATTEMPTS - 1)), 't1']),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.enqueued).toEqual([]);
    expect(fake.quarantined).toEqual([
      expect.objectContaining({ reason: 'delivery_exhausted', detail: '503' }),
    ]);
    expect(fake.attempts[0]?.attempt).toMatchObject({ outcome: 'dead-lettered', error: '503' });
  });

  it('reports a targeted delivery failed, unaudited, when it can be neither re-enqueued nor dead-lettered', async () => {
    fake.post = async () => {
      throw new Error('503');
    };
    fake.enqueueTargeted = async () => {
      throw new Error('queue unavailable');
    };

    const result = await handler(sqsEvent([JSON.stringify(targetedDelivery(envelopeFactory(), 1)), 't1']));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 't1' }] });
    expect(fake.attempts).toEqual([]);
  });

  it('audits a targeted delivery that reaches its connection as delivered', async () => {
    const envelope = envelopeFactory();
    const result = await handler(sqsEvent([JSON.stringify(targetedDelivery(envelope, 1)), 't1']));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.posts.map((p) => p.connectionId)).toEqual(['conn-slow']);
    expect(fake.attempts[0]?.attempt).toMatchObject({
      target: 'conn-slow',
      attempt: 2,
      outcome: 'delivered',
    });
  });

  it("delivers the chunks of different shards in parallel and one shard's chunks in order", async () => {
    const [a, b, c] = [envelopeFactory(), envelopeFactory(), envelopeFactory()];
    const chunk = (shard: number, envelope: Envelope) =>
      JSON.stringify({ kind: FANOUT_CHUNK_KIND, shard, events: [envelope] });
    fake.findSubscribers = async (shard) => [`conn-shard-${shard}`];
    let inFlight = 0;
    let mostInFlight = 0;
    fake.post = async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      // A macrotask: any other chunk already under way reaches its post before this one ends.
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    };

    const result = await handler(sqsEvent([chunk(1, a), 'm1'], [chunk(2, b), 'm2'], [chunk(1, c), 'm3']));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(mostInFlight).toBe(2);
    const eventIdsTo = (connectionId: string) =>
      fake.posts
        .filter((post) => post.connectionId === connectionId)
        .map((post) => (JSON.parse(post.body) as { event: { id: string } }).event.id);
    expect(eventIdsTo('conn-shard-1')).toEqual([a.id, c.id]);
    expect(eventIdsTo('conn-shard-2')).toEqual([b.id]);
    expect(fake.attempts.map((entry) => entry.attempt.target).sort()).toEqual([
      'fanout/shard-1',
      'fanout/shard-1',
      'fanout/shard-2',
    ]);
  });

  it('near its timeout, pre-records and posts nothing and hands every event back', async () => {
    const [a, b] = [envelopeFactory(), envelopeFactory()];
    fake.subscribers.set('t1/orders', ['conn-a']);

    const result = await handler(sqsEvent([busEventBody(a), 'm1'], [busEventBody(b), 'm2']), {
      getRemainingTimeInMillis: () => 3_000,
    });

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm2']);
    expect(fake.recorded).toEqual([]);
    expect(fake.posts).toEqual([]);
  });

  it('writes the summaries before the per-subject records, and bounds those by the deadline', async () => {
    const envelope = envelopeFactory();
    fake.subscribers.set('t1/orders', ['conn-a', 'conn-b']);
    const before = Date.now();

    const result = await handler(sqsEvent([busEventBody(envelope), 'm1']), {
      getRemainingTimeInMillis: () => 60_000,
    });

    expect(result).toEqual({ batchItemFailures: [] });
    expect(fake.writes).toEqual(['attempts', 'subjects']);
    const [until] = fake.subjectsUntil;
    // A fifth of the 60 s is kept back: no per-subject write starts in the last 12 s.
    expect(until).toBeGreaterThanOrEqual(before + 48_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 48_000);
  });

  it('leaves the subjects to digests when the summaries could not be written', async () => {
    fake.subscribers.set('t1/orders', ['conn-a']);
    fake.onAttempts = () => {
      throw new Error('throttled');
    };

    await handler(sqsEvent([busEventBody(envelopeFactory()), 'm1']));

    expect(fake.subjectRecords.map((r) => `${r.subject}:${r.outcome}`)).toEqual(['sub-conn-a:delivered']);
    expect(fake.subjectsDigests).toEqual([true]);
  });

  it('reads who a connection belongs to right after the post: a $disconnect meanwhile does not lose its record', async () => {
    const envelope = envelopeFactory();
    fake.subscribers.set('t1/orders', ['conn-a', 'conn-b']);
    // conn-a's client got the message and left while the summaries were being written.
    fake.onAttempts = () => fake.deleted.push('conn-a');

    await handler(sqsEvent([busEventBody(envelope), 'm1']));

    expect(fake.writes).toEqual(['attempts', 'subjects']);
    expect(fake.subjectRecords.map((r) => `${r.subject}:${r.outcome}`).sort()).toEqual([
      'sub-conn-a:delivered',
      'sub-conn-b:delivered',
    ]);
  });
});
