/**
 * What a redrive does with one message of each DLQ kind. A webhook delivery goes back to the
 * delivery queue only when its endpoint exists and is enabled: otherwise the delivery Lambda would
 * refuse it and park it again, and a redrive would chase it forever.
 */
import { readDlqMessage } from '../../aws/webhookQueues.js';
import type { WebhookEndpoint } from '../../core/webhookEndpoint.js';
import { type DeliveryMessage, deadLetterSchema } from '../../core/webhookMessages.js';
import type { ReceivedDlqMessage, RedriveDecision } from './boundedRedrive.js';

export interface WebhookRedriveDeps {
  /** The endpoint as stored now, or undefined when there is none. */
  readonly findEndpoint: (
    tenantId: string,
    endpointId: string,
  ) => Promise<Pick<WebhookEndpoint, 'enabled' | 'disabledReason'> | undefined>;
  /** Sends a fresh delivery message (attempt 1) to the delivery queue. */
  readonly sendDelivery: (message: DeliveryMessage) => Promise<void>;
  /** Only this endpoint's messages (`--endpoint`). */
  readonly endpointId?: string | undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The decider for the webhook DLQ; endpoint look-ups are cached for the run. */
export function webhookRedriveDecider(
  deps: WebhookRedriveDeps,
): (message: ReceivedDlqMessage) => Promise<RedriveDecision> {
  const cache = new Map<string, Promise<Pick<WebhookEndpoint, 'enabled' | 'disabledReason'> | undefined>>();
  return async (message) => {
    const delivery = readDlqMessage(message.body);
    if (!delivery) return { action: 'skip', reason: 'not a webhook delivery message' };
    const key = `${delivery.eventId}#${delivery.endpointId}`;
    if (deps.endpointId !== undefined && delivery.endpointId !== deps.endpointId)
      return { action: 'skip', key, notSelected: true, reason: `for endpoint ${delivery.endpointId}` };
    const cacheKey = `${delivery.tenantId}#${delivery.endpointId}`;
    let lookup = cache.get(cacheKey);
    if (!lookup) {
      lookup = deps.findEndpoint(delivery.tenantId, delivery.endpointId);
      cache.set(cacheKey, lookup);
    }
    const endpoint = await lookup;
    if (!endpoint) {
      const letter = deadLetterSchema.safeParse(parseJson(message.body));
      const removed = letter.success && letter.data.deadLetter.code === 'endpoint_removed';
      return {
        action: 'skip',
        key,
        reason: removed
          ? `endpoint ${delivery.endpointId} was removed; discard with "dlq delete webhook --id ${message.messageId}"`
          : `endpoint ${delivery.endpointId} is unknown to tenant ${delivery.tenantId}; discard with "dlq delete webhook --id ${message.messageId}"`,
      };
    }
    if (!endpoint.enabled) {
      return {
        action: 'skip',
        key,
        reason: `endpoint ${delivery.endpointId} is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}; enable it first`,
      };
    }
    return {
      action: 'redrive',
      key,
      describe: `event ${delivery.eventId} to endpoint ${delivery.endpointId}, attempt count reset`,
      perform: () => deps.sendDelivery({ ...delivery, attempt: 1 }),
    };
  };
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

export interface QueueRedriveDeps {
  /** The queue a message goes back to, or a reason it cannot. */
  readonly targetOf: (message: ReceivedDlqMessage) => { url: string; name: string } | { reason: string };
  readonly send: (queueUrl: string, body: string) => Promise<void>;
  /** Only this message (`--id`). */
  readonly messageId?: string | undefined;
}

/** The decider for the bus-event DLQs (audit, fanout, dispatch, bus): back to the consumer's queue. */
export function queueRedriveDecider(
  deps: QueueRedriveDeps,
): (message: ReceivedDlqMessage) => RedriveDecision {
  return (message) => {
    const eventId = field(parseJson(message.body), 'detail', 'id');
    const key = typeof eventId === 'string' ? eventId : undefined;
    const keyed = key === undefined ? {} : { key };
    if (deps.messageId !== undefined && message.messageId !== deps.messageId)
      return { action: 'skip', ...keyed, notSelected: true, reason: 'not the selected message' };
    const target = deps.targetOf(message);
    if ('reason' in target) return { action: 'skip', ...keyed, reason: target.reason };
    return {
      action: 'redrive',
      ...keyed,
      describe: `${key ? `event ${key}` : 'message'} back to ${target.name}`,
      perform: () => deps.send(target.url, message.body),
    };
  };
}
