import { describe, expect, it } from 'vitest';
import {
  deliverTargeted,
  type FanoutPorts,
  type FanoutSettings,
  fanOut,
} from '../../src/core/fanoutDelivery.js';
import { eventKeyOf } from '../../src/core/fanoutPlan.js';
import type { TargetedDelivery } from '../../src/core/targetedDelivery.js';
import { ConnectionGoneError, PostToConnectionFailedError } from '../../src/core/websocketErrors.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const settings: FanoutSettings = {
  coalesce: true,
  maxEventsPerFrame: 50,
  maxMessageBytes: 128 * 1024,
  concurrency: 4,
  retryDelaysMs: [0, 0],
};

interface FakeWorld {
  ports: FanoutPorts;
  posted: Map<string, string[]>;
  calls: Map<string, number>;
  deleted: string[];
  requeued: TargetedDelivery[];
}

function world(
  subscribers: Record<string, string[]>,
  behaviour: (connectionId: string, call: number) => 'ok' | 'gone' | 'fail' = () => 'ok',
): FakeWorld {
  const posted = new Map<string, string[]>();
  const calls = new Map<string, number>();
  const deleted: string[] = [];
  const requeued: TargetedDelivery[] = [];
  const ports: FanoutPorts = {
    findSubscribers: async (tenantId, channel) => subscribers[`${tenantId}#${channel}`] ?? [],
    post: async (connectionId, body) => {
      const call = (calls.get(connectionId) ?? 0) + 1;
      calls.set(connectionId, call);
      const outcome = behaviour(connectionId, call);
      if (outcome === 'gone') throw new ConnectionGoneError(connectionId);
      if (outcome === 'fail') throw new PostToConnectionFailedError(connectionId, 500, 'boom');
      posted.set(connectionId, [...(posted.get(connectionId) ?? []), body]);
    },
    deleteConnection: async (connectionId) => {
      deleted.push(connectionId);
    },
    enqueueRetry: async (delivery) => {
      requeued.push(delivery);
    },
    sleep: async () => {},
  };
  return { ports, posted, calls, deleted, requeued };
}

describe('fan-out delivery', () => {
  it('delivers one coalesced message per subscriber and sums up per event', async () => {
    const events = [envelopeFactory(), envelopeFactory(), envelopeFactory()];
    const w = world({ 't1#orders': ['a', 'b', 'c'] });
    const result = await fanOut(events, w.ports, settings);
    expect([...w.posted.values()].map((bodies) => bodies.length)).toEqual([1, 1, 1]);
    expect(result.messagesDelivered).toBe(3);
    for (const s of result.summaries) {
      expect(s).toMatchObject({ subscribers: 3, delivered: 3, gone: 0, requeued: 0, failed: 0, messages: 3 });
    }
  });

  it('prunes only the connection that answered 410; the others still receive', async () => {
    const events = [envelopeFactory(), envelopeFactory()];
    const w = world({ 't1#orders': ['a', 'gone', 'c'] }, (id) => (id === 'gone' ? 'gone' : 'ok'));
    const result = await fanOut(events, w.ports, settings);
    expect(w.deleted).toEqual(['gone']);
    expect(result.prunedConnections).toEqual(['gone']);
    expect(w.posted.get('a')).toHaveLength(1);
    expect(w.posted.get('c')).toHaveLength(1);
    expect(w.calls.get('gone')).toBe(1); // a 410 is not retried
    for (const s of result.summaries) expect(s).toMatchObject({ delivered: 2, gone: 1, requeued: 0 });
  });

  it('retries a failed call in-process and succeeds without re-queueing', async () => {
    const w = world({ 't1#orders': ['a', 'flaky'] }, (id, call) =>
      id === 'flaky' && call === 1 ? 'fail' : 'ok',
    );
    const result = await fanOut([envelopeFactory()], w.ports, settings);
    expect(w.calls.get('flaky')).toBe(2);
    expect(w.calls.get('a')).toBe(1);
    expect(w.requeued).toHaveLength(0);
    expect(result.summaries[0]).toMatchObject({ delivered: 2, requeued: 0 });
  });

  it('re-queues only the failing connection’s messages after the in-process retries', async () => {
    const events = Array.from({ length: 3 }, () => envelopeFactory());
    const w = world({ 't1#orders': ['a', 'broken', 'c'] }, (id) => (id === 'broken' ? 'fail' : 'ok'));
    const result = await fanOut(events, w.ports, settings);
    expect(w.calls.get('broken')).toBe(3); // first try + 2 retries
    expect(w.calls.get('a')).toBe(1);
    expect(w.calls.get('c')).toBe(1);
    expect(w.requeued).toHaveLength(1);
    expect(w.requeued[0]).toMatchObject({ connectionId: 'broken', attempt: 1 });
    expect(w.requeued[0]?.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    for (const s of result.summaries) expect(s).toMatchObject({ delivered: 2, requeued: 1, failed: 0 });
    expect(result.unqueuedEventKeys.size).toBe(0);
  });

  it('reports events whose retry could not be queued, so the caller redelivers them', async () => {
    const e = envelopeFactory();
    const w = world({ 't1#orders': ['broken'] }, () => 'fail');
    w.ports.enqueueRetry = async () => {
      throw new Error('SQS down');
    };
    const result = await fanOut([e], w.ports, settings);
    expect([...result.unqueuedEventKeys]).toEqual([eventKeyOf(e)]);
    expect(result.summaries[0]).toMatchObject({ failed: 1, requeued: 0 });
  });

  it('counts a refresh for an oversized event instead of a delivery', async () => {
    const huge = envelopeFactory({ data: { payload: 'z'.repeat(140 * 1024) } });
    const w = world({ 't1#orders': ['a'] });
    const result = await fanOut([huge], w.ports, settings);
    expect(JSON.parse(w.posted.get('a')?.[0] ?? '{}')).toMatchObject({
      type: 'refresh',
      reason: 'payload_too_large',
    });
    expect(result.summaries[0]).toMatchObject({ delivered: 0, refreshed: 1 });
  });

  it('a targeted retry posts only to its connection and reports what remains on failure', async () => {
    const events = [envelopeFactory(), envelopeFactory()];
    const w = world({ 't1#orders': ['x'] }, () => 'fail');
    await fanOut(events, w.ports, settings);
    const delivery = w.requeued[0];
    if (!delivery) throw new Error('expected a targeted delivery');

    const healthy = world({}, () => 'ok');
    await expect(deliverTargeted(delivery, healthy.ports, settings)).resolves.toEqual({ kind: 'delivered' });
    expect([...healthy.posted.keys()]).toEqual(['x']);

    const stillBroken = world({}, () => 'fail');
    const outcome = await deliverTargeted(delivery, stillBroken.ports, settings);
    expect(outcome.kind).toBe('failed');
    if (outcome.kind === 'failed') expect(outcome.remaining.attempt).toBe(2);

    const gone = world({}, () => 'gone');
    await expect(deliverTargeted(delivery, gone.ports, settings)).resolves.toEqual({ kind: 'gone' });
    expect(gone.deleted).toEqual(['x']);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const w = world({ 't1#orders': ids });
    w.ports.post = async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    };
    await fanOut([envelopeFactory()], w.ports, { ...settings, concurrency: 5 });
    expect(peak).toBe(5);
  });
});
