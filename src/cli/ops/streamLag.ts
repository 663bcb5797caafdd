/**
 * The publisher's iterator age on the local runtime: the age of the oldest stream record it has not
 * checkpointed yet, which is what Lambda's IteratorAge metric measures. The runtime keeps its
 * checkpoints in `<dataDir>/dynamodb/checkpoints.json` (the last sequence number done per shard), so the
 * CLI reads the record after each checkpoint and takes its creation time. Read-only.
 */
import { readFile } from 'node:fs/promises';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import * as z from 'zod';

const checkpointsSchema = z.object({
  version: z.literal(1),
  mappings: z.record(
    z.string(),
    z.object({
      streamArn: z.string(),
      shards: z.record(
        z.string(),
        z.object({ sequenceNumber: z.string().optional(), finished: z.boolean().optional() }),
      ),
    }),
  ),
});

/** The publisher's stream mappings are named `publisher:<table>` by the runtime. */
const PUBLISHER_MAPPING_PREFIX = 'publisher:';

export type StreamLag = { readonly seconds: number } | { readonly unavailable: string };

export async function localStreamLag(
  streams: DynamoDBStreamsClient,
  checkpointsPath: string,
  now = new Date(),
): Promise<StreamLag> {
  let text: string;
  try {
    text = await readFile(checkpointsPath, 'utf8');
  } catch {
    return {
      unavailable: `no stream checkpoints at ${checkpointsPath} yet (written once the first event is published; an in-memory runtime keeps none)`,
    };
  }
  let parsed: z.infer<typeof checkpointsSchema>;
  try {
    parsed = checkpointsSchema.parse(JSON.parse(text));
  } catch {
    return { unavailable: `${checkpointsPath} is not a checkpoints file this CLI can read` };
  }
  let oldest: number | undefined;
  for (const [mappingId, mapping] of Object.entries(parsed.mappings)) {
    if (!mappingId.startsWith(PUBLISHER_MAPPING_PREFIX)) continue;
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: mapping.streamArn }));
    for (const shard of described.StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId ?? '';
      const checkpoint = mapping.shards[shardId];
      if (checkpoint?.finished) continue;
      const iterator = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: mapping.streamArn,
          ShardId: shardId,
          ...(checkpoint?.sequenceNumber
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint.sequenceNumber }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      if (!iterator.ShardIterator) continue;
      const page = await streams.send(
        new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 1 }),
      );
      const created = page.Records?.[0]?.dynamodb?.ApproximateCreationDateTime;
      if (created) oldest = Math.min(oldest ?? created.getTime(), created.getTime());
    }
  }
  return { seconds: oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000) };
}
