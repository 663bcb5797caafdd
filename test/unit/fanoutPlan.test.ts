import { describe, expect, it } from 'vitest';
import { eventKeyOf, type FanoutPlanOptions, orderEvents, planFanout } from '../../src/core/fanoutPlan.js';
import { serverFrameSchema } from '../../src/core/protocol.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const on: FanoutPlanOptions = { coalesce: true, maxEventsPerFrame: 50, maxMessageBytes: 128 * 1024 };
const off: FanoutPlanOptions = { ...on, coalesce: false };

function framesOf(plan: ReturnType<typeof planFanout>, connectionId: string) {
  const group = plan.groups.find((g) => g.connectionIds.includes(connectionId));
  return (group?.messages ?? []).map((m) => serverFrameSchema.parse(JSON.parse(m.body)));
}

function idsOf(frames: ReturnType<typeof framesOf>): string[] {
  return frames.flatMap((f) =>
    f.type === 'events' ? f.events.map((e) => e.id) : f.type === 'event' ? [f.event.id] : [],
  );
}

describe('fan-out planner', () => {
  it('keeps the same event id of two tenants as two events, each to its own tenant only', () => {
    const mine = envelopeFactory({ id: 'same', tenantId: 't1' });
    const theirs = envelopeFactory({ id: 'same', tenantId: 't2' });
    const plan = planFanout(
      [mine, theirs, mine],
      new Map([
        ['t1#orders', ['c1']],
        ['t2#orders', ['c2']],
      ]),
      on,
    );
    expect(plan.events).toHaveLength(2);
    expect(plan.groups.map((g) => [g.tenantId, g.connectionIds])).toEqual([
      ['t1', ['c1']],
      ['t2', ['c2']],
    ]);
    const tenantsAt = (connectionId: string) =>
      framesOf(plan, connectionId).flatMap((f) =>
        f.type === 'event' ? [f.event.tenantId] : f.type === 'events' ? f.events.map((e) => e.tenantId) : [],
      );
    expect(tenantsAt('c1')).toEqual(['t1']);
    expect(tenantsAt('c2')).toEqual(['t2']);
    expect(plan.subscribersByEvent.get(eventKeyOf(mine))).toBe(1);
    expect(plan.subscribersByEvent.get(eventKeyOf(theirs))).toBe(1);
  });

  it('sends one events frame per connection for a batch, in position order', () => {
    const a = envelopeFactory({ at: 3000 });
    const b = envelopeFactory({ at: 1000 });
    const c = envelopeFactory({ at: 2000 });
    const plan = planFanout([a, b, c], new Map([['t1#orders', ['c1', 'c2']]]), on);
    expect(plan.groups).toHaveLength(1);
    const frames = framesOf(plan, 'c1');
    expect(frames.map((f) => f.type)).toEqual(['events']);
    expect(idsOf(frames)).toEqual([b.id, c.id, a.id]);
  });

  it('sends one event frame per event with coalescing off', () => {
    const events = [envelopeFactory(), envelopeFactory(), envelopeFactory()];
    const plan = planFanout(events, new Map([['t1#orders', ['c1']]]), off);
    const frames = framesOf(plan, 'c1');
    expect(frames.map((f) => f.type)).toEqual(['event', 'event', 'event']);
    expect(idsOf(frames)).toEqual(events.map((e) => e.id));
  });

  it('gives each connection only the channels it subscribed to, and never another tenant’s events', () => {
    const orders = envelopeFactory({ channel: 'orders' });
    const billing = envelopeFactory({ channel: 'billing' });
    const otherTenant = envelopeFactory({ tenantId: 't2', channel: 'orders' });
    const plan = planFanout(
      [orders, billing, otherTenant],
      new Map([
        ['t1#orders', ['a', 'b']],
        ['t1#billing', ['b']],
        ['t2#orders', ['z']],
      ]),
      on,
    );
    expect(idsOf(framesOf(plan, 'a'))).toEqual([orders.id]);
    expect(idsOf(framesOf(plan, 'b'))).toEqual([orders.id, billing.id]);
    expect(idsOf(framesOf(plan, 'z'))).toEqual([otherTenant.id]);
    expect(plan.subscribersByEvent.get(eventKeyOf(orders))).toBe(2);
    expect(plan.subscribersByEvent.get(eventKeyOf(billing))).toBe(1);
  });

  it('plans once per distinct channel set, however many connections share it', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `c${i}`);
    const plan = planFanout([envelopeFactory(), envelopeFactory()], new Map([['t1#orders', ids]]), on);
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]?.connectionIds).toHaveLength(10_000);
  });

  it('orders a channel’s numbered events by seq even when the producer’s clock disagrees', () => {
    const late = envelopeFactory({ at: Date.UTC(2026, 0, 1, 0, 0, 9), seq: 1, epoch: 'e' });
    const early = envelopeFactory({ at: Date.UTC(2026, 0, 1, 0, 0, 1), seq: 2, epoch: 'e' });
    const other = envelopeFactory({
      at: Date.UTC(2026, 0, 1, 0, 0, 5),
      channel: 'billing',
      seq: 7,
      epoch: 'e',
    });
    const ordered = orderEvents([late, other, early]);
    expect(ordered.filter((e) => e.channel === 'orders').map((e) => e.seq)).toEqual([1, 2]);
    // Each channel keeps the places its events hold in position order.
    expect(ordered.map((e) => e.channel)).toEqual(['orders', 'billing', 'orders']);
  });

  it('de-duplicates events delivered twice in one batch', () => {
    const e = envelopeFactory();
    const plan = planFanout([e, e], new Map([['t1#orders', ['c1']]]), on);
    expect(idsOf(framesOf(plan, 'c1'))).toEqual([e.id]);
  });

  it('splits frames at the events-per-frame cap', () => {
    const events = Array.from({ length: 120 }, () => envelopeFactory());
    const plan = planFanout(events, new Map([['t1#orders', ['c1']]]), { ...on, maxEventsPerFrame: 50 });
    const frames = framesOf(plan, 'c1');
    expect(frames.map((f) => (f.type === 'events' ? f.events.length : 1))).toEqual([50, 50, 20]);
    expect(idsOf(frames)).toEqual(events.map((e) => e.id));
  });

  it('splits so that no message exceeds 128 KB', () => {
    const payload = 'x'.repeat(30 * 1024);
    const events = Array.from({ length: 10 }, () => envelopeFactory({ data: { payload } }));
    const plan = planFanout(events, new Map([['t1#orders', ['c1']]]), on);
    const messages = plan.groups[0]?.messages ?? [];
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(128 * 1024);
    expect(messages.every((m) => m.bytes === Buffer.byteLength(m.body))).toBe(true);
    expect(idsOf(framesOf(plan, 'c1'))).toEqual(events.map((e) => e.id));
  });

  it('replaces an event too large for any message with a refresh for its channel, keeping the others', () => {
    const before = envelopeFactory();
    const huge = envelopeFactory({ data: { payload: 'y'.repeat(130 * 1024) } });
    const after = envelopeFactory();
    for (const options of [on, off]) {
      const plan = planFanout([before, huge, after], new Map([['t1#orders', ['c1']]]), options);
      const frames = framesOf(plan, 'c1');
      expect(frames).toContainEqual({
        type: 'refresh',
        channel: 'orders',
        reason: 'payload_too_large',
        eventId: huge.id,
      });
      expect(idsOf(frames)).toEqual([before.id, after.id]);
      const refreshIndex = frames.findIndex((f) => f.type === 'refresh');
      expect(idsOf(frames.slice(0, refreshIndex))).toEqual([before.id]);
    }
  });

  it('plans nothing for a channel without subscribers', () => {
    const plan = planFanout([envelopeFactory()], new Map(), on);
    expect(plan.groups).toHaveLength(0);
  });
});
