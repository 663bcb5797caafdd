/**
 * The shared flow state of webhook endpoints (src/core/webhookFlow.ts), kept on each endpoint's
 * own record in the endpoints table, because several delivery invocations run at once on AWS:
 *
 * - `leases`: a map lease id → expiry (epoch ms), one per request in flight. Acquire is one
 *   conditional UpdateItem (`size(leases)` under the cap; the cap is the endpoint's `maxInFlight`
 *   only while `lastLatencyMs` is under the slow threshold, else 1), so concurrent invocations can
 *   never exceed it. A refused acquire reads the record once to tell "full" from "a lease has
 *   expired" (reclaimed with a conditional REMOVE) or "no map yet" (an endpoint written before).
 * - `lastLatencyMs`: the last request's duration, written by the release.
 * - `nextSlotAt` (epoch ms): the rate limit's next free slot, advanced by one interval per request.
 *
 * Cost: two writes per delivery (acquire, release), plus one read and a write when an endpoint is
 * saturated; these items are small and the writes target attributes no other writer touches.
 */
import { randomBytes } from 'node:crypto';
import { topology } from '../contract/topology.js';
import type { WebhookEndpoint } from '../core/webhookEndpoint.js';
import {
  type FlowLease,
  type FlowPort,
  leaseAgeMs,
  leaseExpired,
  leaseExpiry,
  maxInFlightOf,
  rateIntervalMs,
  SLOW_MAX_IN_FLIGHT,
} from '../core/webhookFlow.js';
import { requireEnv } from './env.js';
import { isAwsError } from './sdk/awsErrors.js';
import {
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  UpdateCommand,
} from './sdk/dynamo.js';
import { endpointKey } from './webhookEndpointsRepository.js';

export function createWebhookFlowControl(deps: { client: DocumentClientLike; tableName: string }): FlowPort {
  const { client: clientLike, tableName } = deps;
  const client = documentSender(clientLike);

  const isConditionFailure = (error: unknown) => isAwsError(error, 'ConditionalCheckFailedException');

  const tryAcquire = async (
    endpoint: WebhookEndpoint,
    leaseId: string,
    expires: number,
    slowAfterMs: number,
  ) => {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: endpointKey(endpoint.tenantId, endpoint.id),
          UpdateExpression: 'SET leases.#lease = :expires',
          // A slow or never measured endpoint gets SLOW_MAX_IN_FLIGHT; a fast one its maxInFlight.
          ConditionExpression:
            'attribute_exists(pk) AND (size(leases) < :slowCap OR (size(leases) < :cap AND lastLatencyMs < :slowMs))',
          ExpressionAttributeNames: { '#lease': leaseId },
          ExpressionAttributeValues: {
            ':expires': expires,
            ':slowCap': SLOW_MAX_IN_FLIGHT,
            ':cap': maxInFlightOf(endpoint),
            ':slowMs': slowAfterMs,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  return {
    async acquire(endpoint, now, policy) {
      const leaseId = randomBytes(8).toString('hex');
      const expires = leaseExpiry(endpoint, now, policy);
      const lease: FlowLease = { tenantId: endpoint.tenantId, endpointId: endpoint.id, leaseId };
      if (await tryAcquire(endpoint, leaseId, expires, policy.slowAfterMs))
        return { kind: 'acquired', lease };

      const read = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: endpointKey(endpoint.tenantId, endpoint.id),
          ProjectionExpression: 'leases, lastLatencyMs',
          ConsistentRead: true,
        }),
      );
      const item = read.Item;
      const lastLatencyMs = typeof item?.lastLatencyMs === 'number' ? item.lastLatencyMs : undefined;
      const saturated = {
        kind: 'saturated' as const,
        ...(lastLatencyMs !== undefined ? { lastLatencyMs } : {}),
      };
      if (!item) return saturated; // removed meanwhile: the next receive dead-letters the message
      const leases = item.leases;
      if (typeof leases !== 'object' || leases === null) {
        // An endpoint stored before flow control: give it its map, then try again.
        await client
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key: endpointKey(endpoint.tenantId, endpoint.id),
              UpdateExpression: 'SET leases = if_not_exists(leases, :empty)',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':empty': {} },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
      } else {
        const entries = Object.entries(leases as Record<string, unknown>);
        const expired = entries.filter(([, value]) => typeof value !== 'number' || leaseExpired(value, now));
        if (expired.length === 0) {
          const ages = entries.map(([, value]) => leaseAgeMs(Number(value), endpoint, now, policy));
          return ages.length > 0 ? { ...saturated, oldestInFlightMs: Math.max(...ages) } : saturated;
        }
        // Reclaim only what is still the expired value (another invocation may have done it).
        const names = Object.fromEntries(expired.map(([id], i) => [`#l${i}`, id]));
        const values = Object.fromEntries(expired.map(([, value], i) => [`:v${i}`, value]));
        await client
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key: endpointKey(endpoint.tenantId, endpoint.id),
              UpdateExpression: `REMOVE ${expired.map((_, i) => `leases.#l${i}`).join(', ')}`,
              ConditionExpression: expired.map((_, i) => `leases.#l${i} = :v${i}`).join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
      }
      return (await tryAcquire(endpoint, leaseId, expires, policy.slowAfterMs))
        ? { kind: 'acquired', lease }
        : saturated;
    },

    async release(lease, durationMs) {
      await client
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: endpointKey(lease.tenantId, lease.endpointId),
            UpdateExpression:
              durationMs === undefined
                ? 'REMOVE leases.#lease'
                : 'REMOVE leases.#lease SET lastLatencyMs = :ms',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#lease': lease.leaseId },
            ...(durationMs === undefined
              ? {}
              : { ExpressionAttributeValues: { ':ms': Math.round(durationMs) } }),
          }),
        )
        .catch((error: unknown) => {
          // The endpoint was removed while its request ran: nothing to free.
          if (!isConditionFailure(error)) throw error;
        });
    },

    async reserveRateSlot(endpoint, now) {
      const interval = rateIntervalMs(endpoint.rateLimitPerSecond ?? 1);
      const key = endpointKey(endpoint.tenantId, endpoint.id);
      for (let round = 0; round < 3; round += 1) {
        // Busy: take the next slot in line.
        try {
          const out = await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET nextSlotAt = nextSlotAt + :interval',
              ConditionExpression: 'nextSlotAt >= :now',
              ExpressionAttributeValues: { ':interval': interval, ':now': now.getTime() },
              ReturnValues: 'UPDATED_OLD',
            }),
          );
          const slot = out.Attributes?.nextSlotAt;
          if (typeof slot === 'number') return new Date(slot);
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
        // Idle (no slot pending): this request goes now; the next one waits one interval.
        try {
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET nextSlotAt = :next',
              ConditionExpression:
                'attribute_exists(pk) AND (attribute_not_exists(nextSlotAt) OR nextSlotAt < :now)',
              ExpressionAttributeValues: { ':next': now.getTime() + interval, ':now': now.getTime() },
            }),
          );
          return now;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      // Lost three races in a row: the endpoint is busy; send a second later than now.
      return new Date(now.getTime() + 1000);
    },
  };
}

let fromEnv: FlowPort | undefined;

export function getWebhookFlowControl(): FlowPort {
  fromEnv ??= createWebhookFlowControl({
    client: getDocumentSender(),
    tableName: requireEnv(topology.tables.webhookEndpoints.env),
  });
  return fromEnv;
}
