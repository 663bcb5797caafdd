/**
 * Per-hop arrival times: an invocation interceptor (RuntimeOptions.invocationInterceptor) that, for
 * every handler invocation, records how long after `data.sentAt` each record reached the handler.
 * Tells where end-to-end latency goes (stream → publisher, bus → fan-out, → dispatcher, → delivery).
 */
import * as z from 'zod';
import { nowMs } from './harness.js';

const streamEventSchema = z.object({
  Records: z.array(
    z.object({
      dynamodb: z.object({
        NewImage: z
          .object({ data: z.object({ M: z.object({ sentAt: z.object({ N: z.string() }) }).loose() }) })
          .loose(),
      }),
    }),
  ),
});
const sqsEventSchema = z.object({ Records: z.array(z.object({ body: z.string() })) });
const withSentAt = z.object({ data: z.object({ sentAt: z.number() }).loose() }).loose();
/** A bus event (`detail`), a targeted fan-out retry (`envelope`) or a webhook delivery message (`event`). */
const carriers = [
  z
    .object({ detail: withSentAt })
    .loose()
    .transform((v) => v.detail.data.sentAt),
  z
    .object({ envelope: withSentAt })
    .loose()
    .transform((v) => v.envelope.data.sentAt),
  z
    .object({ event: withSentAt })
    .loose()
    .transform((v) => v.event.data.sentAt),
];

function sentAtOfBody(body: string): number | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const carrier of carriers) {
    const parsed = carrier.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

export class HopTimer {
  readonly samples = new Map<string, number[]>();
  enabled = true;

  readonly interceptor = (functionName: string, event: unknown): void => {
    if (!this.enabled) return;
    const at = nowMs();
    const list = this.samples.get(functionName) ?? [];
    const stream = streamEventSchema.safeParse(event);
    if (stream.success) {
      for (const r of stream.data.Records) list.push(at - Number(r.dynamodb.NewImage.data.M.sentAt.N));
    } else {
      const sqs = sqsEventSchema.safeParse(event);
      if (sqs.success) {
        for (const r of sqs.data.Records) {
          const sentAt = sentAtOfBody(r.body);
          if (sentAt !== undefined) list.push(at - sentAt);
        }
      }
    }
    this.samples.set(functionName, list);
  };

  reset(): void {
    this.samples.clear();
  }
}
