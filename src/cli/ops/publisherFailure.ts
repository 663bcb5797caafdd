/**
 * What the publisher's on-failure destination (`publisherDlq`) holds: Lambda's invocation record
 * for a stream batch that exhausted its retries or aged out. Metadata only (shard and sequence
 * range), never the records, so a redrive must re-read them from the stream while it retains them.
 */
import * as z from 'zod';

export const streamBatchFailureSchema = z.object({
  requestContext: z
    .object({
      condition: z.string().optional(),
      approximateInvokeCount: z.number().optional(),
      functionArn: z.string().optional(),
    })
    .optional(),
  responseContext: z
    .object({ functionError: z.string().optional(), statusCode: z.number().optional() })
    .optional(),
  timestamp: z.string().optional(),
  DDBStreamBatchInfo: z.object({
    shardId: z.string().min(1),
    startSequenceNumber: z.string().min(1),
    endSequenceNumber: z.string().min(1),
    approximateArrivalOfFirstRecord: z.string().optional(),
    approximateArrivalOfLastRecord: z.string().optional(),
    batchSize: z.number().int().optional(),
    streamArn: z.string().min(1),
  }),
});
export type StreamBatchFailure = z.infer<typeof streamBatchFailureSchema>;

/** Parse a publisher DLQ message body; undefined when it is not an on-failure record. */
export function parseStreamBatchFailure(body: string): StreamBatchFailure | undefined {
  try {
    const parsed = streamBatchFailureSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Sequence numbers are decimal strings of up to 40 digits: compare them as integers. */
export function sequenceAfter(sequence: string, end: string): boolean {
  return BigInt(sequence) > BigInt(end);
}
