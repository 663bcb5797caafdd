/** Factories for the WebSocket tests (envelopes with positions, in order). */
import { ENVELOPE_VERSION, type Envelope, positionOf } from '../../src/core/envelope.js';

let counter = 0;

export function envelopeFactory(overrides: Partial<Envelope> & { at?: number } = {}): Envelope {
  counter += 1;
  const id = overrides.id ?? `evt-${String(counter).padStart(6, '0')}`;
  const time = new Date(overrides.at ?? Date.UTC(2026, 0, 1, 0, 0, 0, counter)).toISOString();
  const { at: _at, ...rest } = overrides;
  return {
    version: ENVELOPE_VERSION,
    id,
    source: 'outbox',
    tenantId: 't1',
    channel: 'orders',
    type: 'order.updated',
    resourceId: null,
    time,
    position: positionOf(time, id),
    data: { n: counter },
    ...rest,
  };
}
