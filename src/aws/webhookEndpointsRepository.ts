/**
 * The one module that reads and writes the webhook endpoints table (`pk = TENANT#<id>`,
 * `sk = ENDPOINT#<id>`; the stack encrypts the table with KMS because it holds signing secrets).
 * Reads parse every item with `webhookEndpointSchema`; a corrupt item raises instead of being skipped.
 *
 * Settings, secrets and the failure streak are written by separate UpdateItem calls touching only
 * their own attributes, so an operator's `update` never overwrites a streak a delivery just counted.
 */
import { topology } from '../contract/topology.js';
import { type ForeignItemsSink, keepOwnItems } from '../core/foreignItems.js';
import { encodeKey, keyPrefix } from '../core/keyCodec.js';
import {
  WEBHOOK_ROUTING_ATTRIBUTES,
  type WebhookEndpoint,
  type WebhookRouting,
  webhookEndpointSchema,
  webhookRoutingSchema,
} from '../core/webhookEndpoint.js';
import { WebhookEndpointNotFoundError } from '../core/webhookErrors.js';
import { requireEnv } from './env.js';
import { reportForeignItems } from './foreignItems.js';
import { isAwsError } from './sdk/awsErrors.js';
import {
  DeleteCommand,
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from './sdk/dynamo.js';

export class CorruptWebhookEndpointError extends Error {
  override readonly name = 'CorruptWebhookEndpointError';
}

/** The catalogue of a tenant: event types and channels its events have used. */
export type CatalogueKind = 'eventType' | 'channel';
const CATALOGUE_TAG: Record<CatalogueKind, string> = { eventType: 'EVENTTYPE', channel: 'CHANNEL' };

/** `TENANT#<tenant>` / `ENDPOINT#<id>`, through the key codec (src/core/keyCodec.ts). */
export function endpointKey(tenantId: string, endpointId: string): { pk: string; sk: string } {
  return { pk: encodeKey(['TENANT', tenantId]), sk: encodeKey(['ENDPOINT', endpointId]) };
}

export interface WebhookEndpointsRepository {
  /** Stores a new endpoint; refuses to overwrite an existing id. */
  create(endpoint: WebhookEndpoint): Promise<void>;
  get(tenantId: string, endpointId: string): Promise<WebhookEndpoint | undefined>;
  /** Finds an endpoint by id alone (operators rarely know the tenant by heart). Scans: CLI use only. */
  findById(endpointId: string): Promise<WebhookEndpoint | undefined>;
  listByTenant(tenantId: string): Promise<WebhookEndpoint[]>;
  /** A tenant's endpoints without their secrets (dispatch: its role may not read `secrets`). */
  listRoutingByTenant(tenantId: string): Promise<WebhookRouting[]>;
  /** Every endpoint (scan): CLI use only. */
  listAll(): Promise<WebhookEndpoint[]>;
  saveSettings(endpoint: WebhookEndpoint): Promise<void>;
  saveSecrets(endpoint: WebhookEndpoint): Promise<void>;
  remove(tenantId: string, endpointId: string): Promise<void>;
  setEnabled(
    tenantId: string,
    endpointId: string,
    enabled: boolean,
    reason: string | undefined,
    now: Date,
  ): Promise<void>;
  recordSuccess(tenantId: string, endpointId: string): Promise<void>;
  /** Notes that a tenant's events of this type on this channel exist (the catalogue); idempotent. */
  recordSeen(tenantId: string, kind: CatalogueKind, name: string, now: Date): Promise<void>;
  /** The tenant's catalogue of one kind: names with when each was first seen. */
  listSeen(tenantId: string, kind: CatalogueKind): Promise<{ name: string; firstSeenAt: string }[]>;
  recordFailure(
    tenantId: string,
    endpointId: string,
    now: Date,
  ): Promise<{ failureStreak: number; failingSince?: string }>;
}

export function createWebhookEndpointsRepository(deps: {
  client: DocumentClientLike;
  tableName: string;
  /** Told about endpoints whose stored tenant differs from the one asked for (dropped). */
  onForeignItems?: ForeignItemsSink;
}): WebhookEndpointsRepository {
  const { client: clientLike, tableName, onForeignItems } = deps;
  const client = documentSender(clientLike);

  const parse = (item: Record<string, unknown>): WebhookEndpoint => {
    const result = webhookEndpointSchema.safeParse(item);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new CorruptWebhookEndpointError(
        `webhook endpoint item ${String(item.pk)}/${String(item.sk)} does not match its schema: ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    return result.data;
  };

  const update = async (
    tenantId: string,
    endpointId: string,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ) => {
    try {
      return await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: endpointKey(tenantId, endpointId),
          ConditionExpression: 'attribute_exists(pk)',
          ...input,
        }),
      );
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException'))
        throw new WebhookEndpointNotFoundError(tenantId, endpointId, { cause: error });
      throw error;
    }
  };

  const scanAll = async (filter?: { expression: string; values: Record<string, unknown> }) => {
    const out: WebhookEndpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ExclusiveStartKey: start,
          ...(filter
            ? { FilterExpression: filter.expression, ExpressionAttributeValues: filter.values }
            : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(parse(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  };

  return {
    async create(endpoint) {
      await client.send(
        new PutCommand({
          TableName: tableName,
          // `leases`: the flow control's in-flight slots (src/aws/webhookFlowControl.ts).
          Item: { ...endpointKey(endpoint.tenantId, endpoint.id), ...endpoint, leases: {} },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async get(tenantId, endpointId) {
      const result = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: endpointKey(tenantId, endpointId),
          ConsistentRead: true,
        }),
      );
      return result.Item ? parse(result.Item) : undefined;
    },

    async findById(endpointId) {
      const found = await scanAll({
        expression: 'sk = :sk',
        values: { ':sk': encodeKey(['ENDPOINT', endpointId]) },
      });
      return found[0];
    },

    async listByTenant(tenantId) {
      const out: WebhookEndpoint[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': encodeKey(['TENANT', tenantId]),
              ':prefix': keyPrefix(['ENDPOINT']),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) out.push(parse(item));
        start = page.LastEvaluatedKey;
      } while (start);
      // Last line: an endpoint stored for another tenant is never used for this one's events.
      return keepOwnItems(
        out,
        { tenantId },
        (e) => ({ tenantId: e.tenantId }),
        'webhookEndpoints',
        onForeignItems,
      );
    },

    async listRoutingByTenant(tenantId) {
      // Named placeholders: several attribute names (url, content, ...) are DynamoDB reserved words.
      const names = Object.fromEntries(WEBHOOK_ROUTING_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));
      const out: WebhookRouting[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#a0 = :pk AND begins_with(#a1, :prefix)',
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':pk': encodeKey(['TENANT', tenantId]),
              ':prefix': keyPrefix(['ENDPOINT']),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const parsed = webhookRoutingSchema.safeParse(item);
          if (!parsed.success) {
            throw new CorruptWebhookEndpointError(
              `webhook endpoint item ${String(item.pk)}/${String(item.sk)} does not match its schema: ${parsed.error.issues[0]?.path.join('.')}`,
            );
          }
          out.push(parsed.data);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return keepOwnItems(
        out,
        { tenantId },
        (e) => ({ tenantId: e.tenantId }),
        'webhookEndpoints',
        onForeignItems,
      );
    },

    listAll() {
      // The table also holds other items per tenant (the event-type catalogue).
      return scanAll({
        expression: 'begins_with(sk, :prefix)',
        values: { ':prefix': keyPrefix(['ENDPOINT']) },
      });
    },

    async saveSettings(endpoint) {
      // Optional settings are SET when present and REMOVEd when absent.
      const optional = {
        description: endpoint.description,
        maxInFlight: endpoint.maxInFlight,
        rateLimitPerSecond: endpoint.rateLimitPerSecond,
      };
      const sets = Object.entries(optional)
        .filter(([, value]) => value !== undefined)
        .map(([name]) => `, ${name} = :${name}`)
        .join('');
      const removes = Object.entries(optional)
        .filter(([, value]) => value === undefined)
        .map(([name]) => name);
      await update(endpoint.tenantId, endpoint.id, {
        UpdateExpression:
          'SET #url = :url, eventTypes = :eventTypes, channels = :channels, content = :content, timeoutSeconds = :timeout, maxAttempts = :maxAttempts, updatedAt = :updatedAt' +
          sets +
          (removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''),
        ExpressionAttributeNames: { '#url': 'url' },
        ExpressionAttributeValues: {
          ':url': endpoint.url,
          ':eventTypes': endpoint.eventTypes,
          ':channels': endpoint.channels,
          ':content': endpoint.content,
          ':timeout': endpoint.timeoutSeconds,
          ':maxAttempts': endpoint.maxAttempts,
          ':updatedAt': endpoint.updatedAt,
          ...Object.fromEntries(
            Object.entries(optional)
              .filter(([, value]) => value !== undefined)
              .map(([name, value]) => [`:${name}`, value]),
          ),
        },
      });
    },

    async saveSecrets(endpoint) {
      await update(endpoint.tenantId, endpoint.id, {
        UpdateExpression: 'SET secrets = :secrets, updatedAt = :updatedAt',
        ExpressionAttributeValues: { ':secrets': endpoint.secrets, ':updatedAt': endpoint.updatedAt },
      });
    },

    async remove(tenantId, endpointId) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: endpointKey(tenantId, endpointId),
            ConditionExpression: 'attribute_exists(pk)',
          }),
        );
      } catch (error) {
        if (isAwsError(error, 'ConditionalCheckFailedException'))
          throw new WebhookEndpointNotFoundError(tenantId, endpointId);
        throw error;
      }
    },

    async setEnabled(tenantId, endpointId, enabled, reason, now) {
      // Enabling starts afresh: the old streak must not disable the endpoint again at its next failure.
      await update(
        tenantId,
        endpointId,
        enabled
          ? {
              UpdateExpression:
                'SET enabled = :true, failureStreak = :zero, updatedAt = :now REMOVE disabledReason, failingSince, lastFailureAt',
              ExpressionAttributeValues: { ':true': true, ':zero': 0, ':now': now.toISOString() },
            }
          : {
              UpdateExpression: 'SET enabled = :false, disabledReason = :reason, updatedAt = :now',
              ExpressionAttributeValues: {
                ':false': false,
                ':reason': reason ?? 'disabled by an operator',
                ':now': now.toISOString(),
              },
            },
      );
    },

    async recordSeen(tenantId, kind, name, now) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: encodeKey(['TENANT', tenantId]),
              sk: encodeKey([CATALOGUE_TAG[kind], name]),
              name,
              firstSeenAt: now.toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      }
    },

    async listSeen(tenantId, kind) {
      const out: { name: string; firstSeenAt: string }[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': encodeKey(['TENANT', tenantId]),
              ':prefix': keyPrefix([CATALOGUE_TAG[kind]]),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          if (typeof item.name === 'string' && typeof item.firstSeenAt === 'string')
            out.push({ name: item.name, firstSeenAt: item.firstSeenAt });
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    },

    async recordSuccess(tenantId, endpointId) {
      await update(tenantId, endpointId, {
        UpdateExpression: 'SET failureStreak = :zero REMOVE failingSince, lastFailureAt',
        ExpressionAttributeValues: { ':zero': 0 },
      });
    },

    async recordFailure(tenantId, endpointId, now) {
      const result = await update(tenantId, endpointId, {
        UpdateExpression:
          'ADD failureStreak :one SET failingSince = if_not_exists(failingSince, :now), lastFailureAt = :now',
        ExpressionAttributeValues: { ':one': 1, ':now': now.toISOString() },
        ReturnValues: 'ALL_NEW',
      });
      const attributes = result.Attributes ?? {};
      const failureStreak = typeof attributes.failureStreak === 'number' ? attributes.failureStreak : 1;
      const failingSince = typeof attributes.failingSince === 'string' ? attributes.failingSince : undefined;
      return { failureStreak, ...(failingSince ? { failingSince } : {}) };
    },
  };
}

let fromEnv: WebhookEndpointsRepository | undefined;

/** The repository for the table named by `WEBHOOK_ENDPOINTS_TABLE`, on the shared document client. */
export function getWebhookEndpointsRepository(): WebhookEndpointsRepository {
  fromEnv ??= createWebhookEndpointsRepository({
    client: getDocumentSender(),
    tableName: requireEnv(topology.tables.webhookEndpoints.env),
    onForeignItems: reportForeignItems,
  });
  return fromEnv;
}
