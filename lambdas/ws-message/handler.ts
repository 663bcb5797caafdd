/**
 * Routes `subscribe`, `unsubscribe`, `resume`, `ping`, `fetch`, `ack` and `$default`: parse the message, let the
 * core decide, and post the reply frames through the `@connections` API (as in AWS, where a
 * route's return value is not sent to the client unless a route response is configured).
 */
import * as z from 'zod';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getConnectionsApi } from '../../src/aws/connectionsApi.js';
import { connectionTtl, getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { recordResumeMetrics } from '../../src/aws/deliveryMetrics.js';
import { reportForeignItems } from '../../src/aws/foreignItems.js';
import { getSequencesRepository } from '../../src/aws/sequencesRepository.js';
import { getTelemetry, instrumentHandler } from '../../src/aws/telemetry.js';
import { identityFromAuthorizer } from '../../src/core/authorizerContext.js';
import { handleClientMessage } from '../../src/core/clientMessages.js';
import { errorFrame, serializeFrame } from '../../src/core/frames.js';
import { METRIC_SERVICE } from '../../src/core/metricNames.js';
import { quotasFromEnv } from '../../src/core/quotas.js';
import { resumeSettingsFromEnv } from '../../src/core/resume.js';
import { ConnectionGoneError } from '../../src/core/websocketErrors.js';

const telemetry = getTelemetry(METRIC_SERVICE.wsMessage);

const messageEventSchema = z.object({
  requestContext: z
    .object({
      connectionId: z.string().min(1),
      routeKey: z.string().optional(),
      connectedAt: z.number().optional(),
      authorizer: z.unknown().optional(),
    })
    .loose(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown): Promise<{ statusCode: number }> => {
    const parsed = messageEventSchema.safeParse(event);
    if (!parsed.success) return { statusCode: 400 };
    const { requestContext, isBase64Encoded } = parsed.data;
    const { connectionId } = requestContext;
    const api = getConnectionsApi();
    const send = async (bodies: readonly string[]): Promise<void> => {
      for (const body of bodies) {
        try {
          await api.post(connectionId, body);
        } catch (error) {
          if (error instanceof ConnectionGoneError) return; // the client left; $disconnect cleans up
          throw error;
        }
      }
    };

    const identity = identityFromAuthorizer(requestContext.authorizer);
    if (!identity) {
      await send([
        serializeFrame(errorFrame('INTERNAL', 'The connection has no verified identity; reconnect')),
      ]);
      return { statusCode: 403 };
    }
    const body =
      isBase64Encoded && parsed.data.body
        ? Buffer.from(parsed.data.body, 'base64').toString('utf8')
        : parsed.data.body;
    const connections = getConnectionsRepository();
    const audit = getAuditRepository();
    const sequences = getSequencesRepository();
    const expiresAt = connectionTtl(requestContext.connectedAt ?? Date.now());
    try {
      const frames = await handleClientMessage(
        body ?? undefined,
        { connectionId, identity },
        {
          subscribe: (id, who, channels) =>
            connections.addSubscriptions(id, who.tenantId, channels, expiresAt),
          unsubscribe: (id, _who, channels) => connections.removeSubscriptions(id, channels),
          subscriptionsOf: (id) => connections.listSubscriptions(id),
          getEvent: async (tenantId, eventId) => (await audit.getEvent(tenantId, eventId))?.envelope,
          queryChannel: (tenantId, channel, options) => audit.queryChannel(tenantId, channel, options),
          isSubscribed: (id, channel) => connections.isSubscribed(id, channel),
          currentEpoch: async (tenantId, channel) => (await sequences.ensureCounter(tenantId, channel)).epoch,
          querySeq: (tenantId, channel, epoch, options) => audit.querySeq(tenantId, channel, epoch, options),
          onForeignItems: reportForeignItems,
          receipts: {
            getEvents: async (tenantId, ids) =>
              (await audit.getEvents(tenantId, ids)).map((item) => item.envelope),
            recordSubjects: async (records) => {
              try {
                await audit.recordSubjects(records);
              } catch (error) {
                // A replay already read is still sent; only a receipt's failure is the client's to retry.
                if (records.some((r) => r.outcome === 'received')) throw error;
                telemetry.logger.error('could not record replayed events per subject', {
                  connectionId,
                  error,
                });
              }
            },
          },
        },
        resumeSettingsFromEnv(process.env),
        quotasFromEnv(process.env),
      );
      recordResumeMetrics(telemetry.metrics, frames);
      await send(frames);
      return { statusCode: 200 };
    } catch (error) {
      telemetry.logger.error('message handling failed', {
        connectionId,
        error,
      });
      await send([
        serializeFrame(errorFrame('INTERNAL', 'The server could not handle this message; try again')),
      ]).catch(() => undefined);
      return { statusCode: 500 };
    }
  },
);
