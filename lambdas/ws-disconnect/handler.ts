/** `$disconnect`: remove the connection and its subscriptions (best effort in AWS too; TTL and 410 pruning back it up). */
import * as z from 'zod';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';

const telemetry = getTelemetry(METRIC_SERVICE.wsDisconnect);

const disconnectEventSchema = z.object({
  requestContext: z.object({ connectionId: z.string().min(1) }).loose(),
});

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown): Promise<{ statusCode: number }> => {
    const parsed = disconnectEventSchema.safeParse(event);
    if (!parsed.success) return { statusCode: 400 };
    await getConnectionsRepository().deleteConnection(parsed.data.requestContext.connectionId);
    return { statusCode: 200 };
  },
);
