/**
 * The console's API routes (dev only: the token route signs with the local JWT secret).
 * Each route validates its input with the shared schemas and answers JSON.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AuditRepository, createAuditRepository } from '../../src/aws/auditRepository.js';
import { topology } from '../../src/contract/topology.js';
import { JWT_ENV, mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import {
  type ConsoleConfig,
  type EventDetails,
  tokenRequestSchema,
  writeEventsRequestSchema,
} from './apiSchemas.js';
import type { ConsoleContext } from './context.js';
import { ConsoleRequestError } from './http.js';

/** Console tokens live for an hour; the SDK asks for a new one on every reconnect anyway. */
const TOKEN_LIFETIME_SECONDS = 60 * 60;

export interface ConsoleRoutes {
  config(): ConsoleConfig;
  mintToken(body: unknown): Promise<{ token: string; expiresInSeconds: number }>;
  writeEvents(body: unknown): Promise<{ eventIds: string[] }>;
  eventDetails(tenantId: string, eventId: string): Promise<EventDetails>;
  dropConnections(): Promise<{ dropped: number }>;
}

function requireSetting(ctx: ConsoleContext, name: string): string {
  const value = ctx.env[name];
  if (value === undefined || value === '') {
    throw new ConsoleRequestError(503, 'NOT_CONFIGURED', `The runtime does not provide ${name}`);
  }
  return value;
}

function documentClientFor(ctx: ConsoleContext): DynamoDBDocumentClient {
  const endpoint = ctx.env.AWS_ENDPOINT_URL_DYNAMODB ?? ctx.endpoints.dynamodb;
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...(endpoint ? { endpoint } : {}),
      region: ctx.env.AWS_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: ctx.env.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: ctx.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

export function createConsoleRoutes(ctx: ConsoleContext): ConsoleRoutes {
  let client: DynamoDBDocumentClient | undefined;
  let audit: AuditRepository | undefined;
  // Demo events get strictly increasing times, so their position order is their write order.
  let lastOccurredMs = 0;

  const documentClient = (): DynamoDBDocumentClient => {
    client ??= documentClientFor(ctx);
    return client;
  };

  return {
    config: () => ({
      webSocketUrl: ctx.endpoints.webSocket ?? '',
      canDropConnections: ctx.dropConnections !== undefined,
      defaults: { tenantId: 't1', subject: 'console', channels: ['orders'] },
    }),

    async mintToken(body) {
      const request = tokenRequestSchema.parse(body);
      const secret = requireSetting(ctx, JWT_ENV.secret);
      const token = await mintConnectionToken(
        {
          tenantId: request.tenantId,
          subject: request.subject,
          ...(request.channels ? { channels: request.channels } : {}),
          expiresInSeconds: TOKEN_LIFETIME_SECONDS,
        },
        secretKey(secret),
      );
      return { token, expiresInSeconds: TOKEN_LIFETIME_SECONDS };
    },

    async writeEvents(body) {
      const request = writeEventsRequestSchema.parse(body);
      const tableName = requireSetting(ctx, topology.tables.outbox.env);
      const eventIds: string[] = [];
      // One at a time: rows of one channel reach the stream in write order.
      for (let n = 1; n <= request.count; n += 1) {
        lastOccurredMs = Math.max(Date.now(), lastOccurredMs + 1);
        const event = newOutboxEvent(
          {
            tenantId: request.tenantId,
            channel: request.channel,
            type: request.type,
            resourceId: `demo-${lastOccurredMs}`,
            data: { message: request.message ?? 'Hello from the console', n, of: request.count },
          },
          new Date(lastOccurredMs),
        );
        await appendToOutbox(documentClient(), event, { tableName });
        eventIds.push(event.eventId);
      }
      return { eventIds };
    },

    async eventDetails(tenantId, eventId) {
      audit ??= createAuditRepository({
        client: documentClient(),
        tableName: requireSetting(ctx, topology.tables.audit.env),
      });
      const { event, attempts, subjects } = await audit.getEventWithAttempts(tenantId, eventId);
      return { event: event ?? null, attempts: [...attempts], subjects: [...subjects] };
    },

    async dropConnections() {
      if (!ctx.dropConnections) {
        throw new ConsoleRequestError(503, 'UNAVAILABLE', 'This runtime cannot drop connections');
      }
      return { dropped: await ctx.dropConnections() };
    },
  };
}
