/** One event's fan-out summary with every count 0 unless given. */
import type { EventFanoutSummary } from '../../src/core/fanoutDelivery.js';

export function fanoutSummaryFactory(overrides: Partial<EventFanoutSummary> = {}): EventFanoutSummary {
  return {
    eventId: 'evt-1',
    tenantId: 't1',
    channel: 'orders',
    subscribers: 0,
    delivered: 0,
    gone: 0,
    requeued: 0,
    failed: 0,
    refreshed: 0,
    messages: 0,
    ...overrides,
  };
}
