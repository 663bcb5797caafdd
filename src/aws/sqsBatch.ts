/**
 * The Lambda SQS event source's side of every SQS-fed handler, written once: the record shape we
 * read, the partial batch response (`ReportBatchItemFailures`: only the listed messages return),
 * and the send time with its fallback.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';

/** The fields of an SQS record the handlers use; everything else is kept (`loose`). */
export const sqsRecordSchema = z.looseObject({
  messageId: z.string().min(1),
  body: z.string(),
  receiptHandle: z.string().optional(),
  eventSourceARN: z.string().optional(),
  attributes: z
    .looseObject({
      SentTimestamp: z.string().optional(),
      ApproximateReceiveCount: z.string().optional(),
    })
    .optional(),
});
export type SqsRecord = z.infer<typeof sqsRecordSchema>;

/** The event: its records are parsed by the handler (each may need its own schema). */
export const sqsEventSchema = z.object({ Records: z.array(z.unknown()) });

/** Parses every record with `schema`; a record that does not fit fails the whole batch (it cannot be reported alone). */
export function parseSqsRecords<T>(event: unknown, schema: z.ZodType<T>): T[] {
  return sqsEventSchema.parse(event).Records.map((record) => schema.parse(record));
}

/** The partial batch response: the messages to receive again (an empty list deletes the whole batch). */
export function batchResponse(failedMessageIds: Iterable<string>): SQSBatchResponse {
  return { batchItemFailures: [...new Set(failedMessageIds)].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** When SQS accepted the message (`SentTimestamp`), or `fallback` where the attribute is missing or not a time. */
export function sentAt(record: Pick<SqsRecord, 'attributes'>, fallback: () => number = Date.now): Date {
  const sent = Number(record.attributes?.SentTimestamp);
  return new Date(Number.isFinite(sent) && sent > 0 ? sent : fallback());
}
