/** The event EventBridge delivers to a rule's target: what an SQS message body from a rule contains. */
import * as z from 'zod';

export const busEventSchema = z.object({
  version: z.literal('0'),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
  /** Set on events re-sent from the archive (AWS names the replay here). */
  'replay-name': z.string().optional(),
});
export type BusEvent = z.infer<typeof busEventSchema>;
