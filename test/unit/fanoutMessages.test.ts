import { describe, expect, it } from 'vitest';
import { parseFanoutMessage } from '../../src/core/fanoutMessages.js';
import { sendCloseFrames } from '../../src/core/goingAway.js';
import { TARGETED_DELIVERY_KIND } from '../../src/core/targetedDelivery.js';
import { ConnectionGoneError } from '../../src/core/websocketErrors.js';
import { envelopeFactory } from '../helpers/envelopes.js';

describe('fan-out queue messages', () => {
  it('reads an EventBridge event’s envelope', () => {
    const envelope = envelopeFactory();
    const body = JSON.stringify({
      version: '0',
      id: 'x',
      'detail-type': envelope.type,
      source: 'outbox-relay',
      detail: envelope,
    });
    expect(parseFanoutMessage(body)).toEqual({ kind: 'event', envelope });
  });

  it('reads a targeted delivery', () => {
    const delivery = {
      kind: TARGETED_DELIVERY_KIND,
      connectionId: 'c1',
      attempt: 1,
      messages: [{ kind: 'event', body: '{}', bytes: 2, eventIds: ['e1'], refreshedEventIds: [] }],
      events: [{ id: 'e1', tenantId: 't1', channel: 'orders' }],
    };
    expect(parseFanoutMessage(JSON.stringify(delivery))).toMatchObject({ kind: 'targeted', delivery });
  });

  it('names the reason for each kind of poison message', () => {
    expect(parseFanoutMessage('{oops')).toMatchObject({ kind: 'poison', reason: 'invalid_json' });
    expect(parseFanoutMessage('{"hello":1}')).toMatchObject({ kind: 'poison', reason: 'not_an_event' });
    expect(
      parseFanoutMessage(
        JSON.stringify({ 'detail-type': 't', source: 's', detail: { id: 'missing-fields' } }),
      ),
    ).toMatchObject({ kind: 'poison', reason: 'invalid_envelope' });
    expect(parseFanoutMessage(JSON.stringify({ kind: TARGETED_DELIVERY_KIND }))).toMatchObject({
      kind: 'poison',
      reason: 'invalid_targeted_delivery',
    });
  });
});

describe('going away', () => {
  it('posts a close frame to every connection and prunes the gone ones', async () => {
    const posted: string[] = [];
    const deleted: string[] = [];
    const result = await sendCloseFrames(
      {
        listConnectionIds: async (tenantId) => (tenantId === 't1' ? ['a', 'b', 'gone'] : []),
        post: async (id, body) => {
          if (id === 'gone') throw new ConnectionGoneError(id);
          posted.push(`${id}:${body}`);
        },
        deleteConnection: async (id) => {
          deleted.push(id);
        },
      },
      { tenantId: 't1', reason: 'deploy', reconnectAfterMs: 2000 },
    );
    expect(result).toEqual({ connections: 3, sent: 2, gone: 1, failed: [], disconnected: 0 });
    expect(posted).toEqual([
      'a:{"type":"close","reason":"deploy","reconnectAfterMs":2000}',
      'b:{"type":"close","reason":"deploy","reconnectAfterMs":2000}',
    ]);
    expect(deleted).toEqual(['gone']);
  });

  it('with disconnect, closes each connection after its frame, never before and never a gone one', async () => {
    const order: string[] = [];
    const result = await sendCloseFrames(
      {
        listConnectionIds: async () => ['a', 'gone'],
        post: async (id) => {
          if (id === 'gone') throw new ConnectionGoneError(id);
          order.push(`post:${id}`);
        },
        deleteConnection: async () => undefined,
        disconnect: async (id) => {
          order.push(`disconnect:${id}`);
        },
      },
      { reason: 'deploy' },
    );
    expect(order).toEqual(['post:a', 'disconnect:a']);
    expect(result).toMatchObject({ sent: 1, gone: 1, disconnected: 1 });
  });
});
