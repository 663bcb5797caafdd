/**
 * `$disconnect`: remove the connection and its subscriptions (best effort in AWS too; TTL and 410
 * pruning back it up), and publish `connection.closed` when connection events are on.
 */
import * as z from 'zod';
import { publishConnectionEvent } from '../../src/aws/connectionEvents.js';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { identityFromAuthorizer } from '../../src/core/authorizerContext.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';

const telemetry = getTelemetry(METRIC_SERVICE.wsDisconnect);

const disconnectEventSchema = z.object({
  requestContext: z.object({ connectionId: z.string().min(1), authorizer: z.unknown().optional() }).loose(),
});

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown): Promise<{ statusCode: number }> => {
    const parsed = disconnectEventSchema.safeParse(event);
    if (!parsed.success) return { statusCode: 400 };
    const { connectionId, authorizer } = parsed.data.requestContext;
    await getConnectionsRepository().deleteConnection(connectionId);
    // API Gateway passes $connect's authorizer context to $disconnect too.
    const identity = identityFromAuthorizer(authorizer);
    if (identity) await publishConnectionEvent('connection.closed', identity, connectionId, telemetry.logger);
    return { statusCode: 200 };
  },
);
