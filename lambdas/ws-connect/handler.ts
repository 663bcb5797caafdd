/** `$connect`: the authorizer has verified the token; store the connection with a TTL past the 2-hour limit. */
import * as z from 'zod';
import { publishConnectionEvent } from '../../src/aws/connectionEvents.js';
import { connectionTtl, getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { identityFromAuthorizer } from '../../src/core/authorizerContext.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';
import { quotasFromEnv, tenantConnectionQuotaReached } from '../../src/core/quotas.js';

const telemetry = getTelemetry(METRIC_SERVICE.wsConnect);

const connectEventSchema = z.object({
  requestContext: z
    .object({
      connectionId: z.string().min(1),
      connectedAt: z.number().optional(),
      authorizer: z.unknown().optional(),
    })
    .loose(),
});

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown): Promise<{ statusCode: number; body?: string }> => {
    const parsed = connectEventSchema.safeParse(event);
    if (!parsed.success) return { statusCode: 400, body: 'Bad request' };
    const { connectionId, connectedAt, authorizer } = parsed.data.requestContext;
    const identity = identityFromAuthorizer(authorizer);
    // Without an authorizer context the route is misconfigured: refuse rather than store an anonymous connection.
    if (!identity) return { statusCode: 403, body: 'Forbidden' };
    const connections = getConnectionsRepository();
    const quotas = quotasFromEnv(process.env);
    // A soft limit: two connects racing may both pass; records of vanished connections count until their TTL.
    if ((quotas.maxConnectionsPerTenant ?? 0) > 0) {
      const open = await connections.countConnections(identity.tenantId);
      if (tenantConnectionQuotaReached(open, quotas)) {
        telemetry.logger.info('connection refused: tenant connection quota', {
          tenantId: identity.tenantId,
          open,
          max: quotas.maxConnectionsPerTenant,
        });
        return { statusCode: 429, body: 'Too many connections for this tenant' };
      }
    }
    const now = connectedAt ?? Date.now();
    await connections.putConnection({
      connectionId,
      tenantId: identity.tenantId,
      subject: identity.subject,
      ...(identity.allowedChannels ? { allowedChannels: [...identity.allowedChannels] } : {}),
      connectedAt: new Date(now).toISOString(),
      expiresAt: connectionTtl(now),
    });
    await publishConnectionEvent('connection.opened', identity, connectionId, telemetry.logger);
    return { statusCode: 200 };
  },
);
