/**
 * The body of a message that a bus rule put on an SQS queue: the whole EventBridge event as JSON,
 * whose `detail` is our envelope. Pure: body text → envelope, or why it is not one.
 */
import * as z from 'zod/mini';
import { type Envelope, envelopeSchema } from './envelope.js';

const busEventSchema = z.looseObject({ 'detail-type': z.string(), source: z.string(), detail: z.unknown() });

export type BusEventMessage =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly message: string; readonly details?: Record<string, unknown> };

export function parseBusEventMessage(body: string): BusEventMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return {
      ok: false,
      message: `The message body is not JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  const event = busEventSchema.safeParse(json);
  if (!event.success) return { ok: false, message: 'The message body is not an EventBridge event' };
  const envelope = envelopeSchema.safeParse(event.data.detail);
  if (!envelope.success) {
    const issues = envelope.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      code: i.code,
      message: i.message,
    }));
    return {
      ok: false,
      message: `The event's detail is not a valid envelope: ${issues.map((i) => `${i.path || '(detail)'}: ${i.message}`).join('; ')}`,
      details: { issues },
    };
  }
  return { ok: true, envelope: envelope.data };
}
