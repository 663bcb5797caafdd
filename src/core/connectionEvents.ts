/**
 * Lifecycle events (opt-in, `connectionEvents` in the stack config, `CONNECTION_EVENTS` for the
 * handlers): `connection.opened` when a subject connects, `connection.closed` when it goes, on
 * the tenant's channel `connections`, so webhooks, rules and subscribers can react when an agent
 * comes and goes. They are outbox rows like any event (numbered, audited, fanned out), written
 * by the connect and disconnect routes without ever failing them. Pure.
 */
import type { OutboxRowInput } from './outboxRow.js';
import type { ConnectionIdentity } from './token.js';

export const CONNECTION_EVENTS_ENV = 'CONNECTION_EVENTS';
/** The channel lifecycle events are published on (per tenant, like every channel). */
export const CONNECTION_EVENTS_CHANNEL = 'connections';
export type ConnectionEventType = 'connection.opened' | 'connection.closed';

/**
 * The outbox row of one lifecycle event. Its id is derived from the connection, so a retried
 * connect or disconnect never publishes the event twice.
 */
export function connectionEvent(
  type: ConnectionEventType,
  identity: Pick<ConnectionIdentity, 'tenantId' | 'subject'>,
  connectionId: string,
  at: Date,
): OutboxRowInput {
  return {
    eventId: `${type}.${connectionId}`,
    tenantId: identity.tenantId,
    channel: CONNECTION_EVENTS_CHANNEL,
    type,
    resourceId: identity.subject,
    data: { subject: identity.subject, connectionId },
    occurredAt: at.toISOString(),
  };
}
