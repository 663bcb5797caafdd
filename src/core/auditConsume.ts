/**
 * The audit consumer's core: bus events from the audit queue → one audit record per event.
 * A body that is not a valid envelope is permanent: it is quarantined (source `audit`) and does
 * not fail its message, so it does not loop to the DLQ without a reason; if the quarantine write
 * fails, the message fails (nothing is lost). A failed audit write fails its message (retried).
 *
 * Event ids are unique per tenant. An event whose id the tenant already used for an event on
 * another channel (or of another type) is not merged into that record: it is quarantined
 * `DUPLICATE_EVENT_ID` with both sides in the details. (The producer helper refuses such a row
 * before it is written; this catches rows written without it.)
 */
import { parseBusEventMessage } from './busEventMessage.js';
import type { Envelope } from './envelope.js';
import type { QuarantineEntryInput } from './quarantine.js';

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  /** When SQS received it, ISO-8601 (stable across redeliveries). */
  readonly sentAt: string;
  /** The queue's ARN. */
  readonly origin: string;
  /** The message as received, for the quarantine. */
  readonly raw: unknown;
}

export interface AuditPorts {
  recordEvent(envelope: Envelope): Promise<{
    recorded: boolean;
    /** Set when the tenant's id is already taken by a different event (channel and type recorded first). */
    conflict?: { channel: string; type: string };
  }>;
  quarantine(entry: QuarantineEntryInput): Promise<void>;
}

export type AuditMessageStatus = 'recorded' | 'duplicate' | 'quarantined' | 'failed';

export interface AuditMessageResult {
  readonly messageId: string;
  readonly status: AuditMessageStatus;
  readonly eventId?: string;
  readonly failure?: string;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function recordAuditMessages(
  messages: readonly QueueMessage[],
  ports: AuditPorts,
): Promise<AuditMessageResult[]> {
  return Promise.all(
    messages.map(async (message): Promise<AuditMessageResult> => {
      const parsed = parseBusEventMessage(message.body);
      if (!parsed.ok) {
        try {
          await ports.quarantine({
            reason: 'INVALID_EVENT',
            message: parsed.message,
            source: 'audit',
            recordId: message.messageId,
            recordTime: message.sentAt,
            record: message.raw,
            origin: message.origin,
            ...(parsed.details ? { details: parsed.details } : {}),
          });
          return { messageId: message.messageId, status: 'quarantined' };
        } catch (error) {
          return {
            messageId: message.messageId,
            status: 'failed',
            failure: `quarantine write failed: ${errorText(error)}`,
          };
        }
      }
      const eventId = parsed.envelope.id;
      try {
        const { recorded, conflict } = await ports.recordEvent(parsed.envelope);
        if (conflict === undefined) {
          return { messageId: message.messageId, status: recorded ? 'recorded' : 'duplicate', eventId };
        }
        const { envelope } = parsed;
        await ports.quarantine({
          reason: 'DUPLICATE_EVENT_ID',
          message: `Tenant ${envelope.tenantId} already has an event ${eventId} (channel ${conflict.channel}, type ${conflict.type}); this one (channel ${envelope.channel}, type ${envelope.type}) was not recorded`,
          source: 'audit',
          recordId: message.messageId,
          recordTime: message.sentAt,
          record: message.raw,
          origin: message.origin,
          eventId,
          tenantId: envelope.tenantId,
          details: {
            recorded: conflict,
            refused: { channel: envelope.channel, type: envelope.type },
          },
        });
        return { messageId: message.messageId, status: 'quarantined', eventId };
      } catch (error) {
        return { messageId: message.messageId, status: 'failed', eventId, failure: errorText(error) };
      }
    }),
  );
}
