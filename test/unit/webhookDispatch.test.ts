import { describe, expect, it } from 'vitest';
import { dispatchRecords, parseDispatchBody, planDeliveries } from '../../src/core/webhookDispatch.js';
import type { DeliveryMessage } from '../../src/core/webhookMessages.js';
import { endpointFactory, envelopeFactory } from './webhookFactories.js';

function busBody(detail: unknown): string {
  return JSON.stringify({
    version: '0',
    id: 'eb-1',
    'detail-type': 'order.created',
    source: 'outbox-relay',
    detail,
  });
}

describe('webhook dispatch', () => {
  it('plans one delivery per enabled matching endpoint of the tenant', () => {
    const envelope = envelopeFactory({ type: 'order.created', channel: 'orders' });
    const all = endpointFactory({ id: 'ep_all' });
    const orders = endpointFactory({ id: 'ep_orders', eventTypes: ['order.*'] });
    const invoices = endpointFactory({ id: 'ep_invoices', eventTypes: ['invoice.*'] });
    const off = endpointFactory({ id: 'ep_off', enabled: false });
    const otherTenant = endpointFactory({ id: 'ep_other', tenantId: 'tenant-b' });
    const planned = planDeliveries(envelope, [all, orders, invoices, off, otherTenant]);
    expect(planned.map((m) => m.endpointId)).toEqual(['ep_all', 'ep_orders']);
    expect(planned[0]).toEqual({
      eventId: envelope.id,
      endpointId: 'ep_all',
      tenantId: 'tenant-a',
      attempt: 1,
      envelope,
    });
  });

  it('reads the envelope from the EventBridge event body, and explains a bad body', () => {
    const envelope = envelopeFactory();
    expect(parseDispatchBody(busBody(envelope))).toEqual({ ok: true, envelope });
    expect(parseDispatchBody('nope')).toMatchObject({ ok: false, code: 'body_not_json' });
    expect(parseDispatchBody(busBody({ ...envelope, tenantId: '' }))).toMatchObject({
      ok: false,
      code: 'not_a_bus_event',
      reason: expect.stringMatching(/detail\.tenantId/),
    });
  });

  it('quarantines invalid bodies, reports records whose sends failed, and lists endpoints once per tenant', async () => {
    const ok = envelopeFactory({ id: 'evt_ok' });
    const unlucky = envelopeFactory({ id: 'evt_unlucky' });
    const endpoint = endpointFactory();
    const quarantined: string[] = [];
    let lists = 0;
    const sent: DeliveryMessage[] = [];
    const result = await dispatchRecords(
      [
        { messageId: 'm1', body: busBody(ok) },
        { messageId: 'm2', body: '{"not":"an event"}' },
        { messageId: 'm3', body: busBody(unlucky) },
      ],
      {
        listEndpoints: async () => {
          lists += 1;
          return [endpoint];
        },
        sendDeliveries: async (messages) => {
          sent.push(...messages);
          return messages.filter((m) => m.eventId === 'evt_unlucky');
        },
        quarantine: async ({ messageId, reason }) => {
          quarantined.push(`${messageId}: ${reason}`);
        },
      },
    );
    expect(result).toEqual({ failedMessageIds: ['m3'], deliveries: 1, quarantined: 1 });
    expect(quarantined[0]).toMatch(/^m2: not an EventBridge event/);
    expect(lists).toBe(1);
    expect(sent.map((m) => m.eventId).sort()).toEqual(['evt_ok', 'evt_unlucky']);
  });
});
