/** `$connect`: the authorizer has verified the token; store the connection with a TTL past the 2-hour limit. */
import * as z from 'zod';
import { connectionTtl, getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { identityFromAuthorizer } from '../../src/core/authorizerContext.js';

const telemetry = getTelemetry('wsConnect');

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
    const now = connectedAt ?? Date.now();
    await getConnectionsRepository().putConnection({
      connectionId,
      tenantId: identity.tenantId,
      subject: identity.subject,
      ...(identity.allowedChannels ? { allowedChannels: [...identity.allowedChannels] } : {}),
      connectedAt: new Date(now).toISOString(),
      expiresAt: connectionTtl(now),
    });
    return { statusCode: 200 };
  },
);
