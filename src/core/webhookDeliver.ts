/**
 * One receive of one delivery message: load the endpoint, sign, POST, decide, record. Pure core
 * with ports; `lambdas/webhook-delivery` adapts SQS to it and turns a `retry` decision into
 * ChangeMessageVisibility plus a batch item failure.
 */
import { type AddressPolicy, checkWebhookUrl } from './addressPolicy.js';
import type { AttemptOutcome, DeliveryAttempt, TenantNote } from './auditRecord.js';
import {
  type DeliveryOutcome,
  decideOutcome,
  type HttpAttemptResult,
  type StreakPolicy,
  streakWarrantsDisabling,
} from './deliveryOutcome.js';
import { consoleLog, type LogPort } from './log.js';
import { type CircuitPolicy, circuitOpenForSeconds, MAX_CIRCUIT_COOLDOWN_SECONDS } from './webhookCircuit.js';
import { activeSecrets, type WebhookEndpoint } from './webhookEndpoint.js';
import { AddressRefusedError } from './webhookErrors.js';
import { responseEvidence } from './webhookEvidence.js';
import {
  DEFAULT_FLOW_POLICY,
  type FlowPolicy,
  type FlowPort,
  LocalFlow,
  passFlowGate,
} from './webhookFlow.js';
import {
  attemptOfReceive,
  type DeadLetter,
  type DeadLetterReasonCode,
  type DeliveryMessage,
} from './webhookMessages.js';
import { signWebhook, type WebhookHeaders, webhookBody } from './webhookSigning.js';

export interface WebhookRequest {
  readonly url: string;
  readonly headers: WebhookHeaders & { readonly 'content-type': string; readonly 'user-agent': string };
  readonly body: string;
  readonly timeoutSeconds: number;
}

/** A tenant note, as the audit stores it (`recordTenantNote`). */
export type WebhookTenantNote = TenantNote & { code: 'webhook_endpoint_disabled' };

export interface DeliveryPorts {
  getEndpoint(tenantId: string, endpointId: string): Promise<WebhookEndpoint | undefined>;
  post(request: WebhookRequest): Promise<HttpAttemptResult>;
  /** The audit's `recordAttempt` (path `webhook`, the endpoint id as target). */
  recordAttempt(tenantId: string, eventId: string, attempt: DeliveryAttempt): Promise<unknown>;
  recordTenantNote(tenantId: string, note: WebhookTenantNote, now: Date): Promise<unknown>;
  /** Resets the failure streak (called only when there is one). */
  recordSuccess(endpoint: WebhookEndpoint): Promise<void>;
  /** Adds one to the failure streak; resolves with the new streak. */
  recordFailure(
    endpoint: WebhookEndpoint,
    now: Date,
  ): Promise<{ failureStreak: number; failingSince?: string }>;
  disableEndpoint(endpoint: WebhookEndpoint, reason: string, now: Date): Promise<void>;
  deadLetter(letter: DeadLetter): Promise<void>;
  /** Shared in-flight caps and rate limits (`webhookFlow.ts`). Absent: no flow control (unit tests). */
  flow?: FlowPort;
  /** Where survived failures are logged (the handler's logger). @default JSON lines on stderr */
  log?: LogPort;
}

export interface DeliveryConfig {
  readonly schedule: readonly number[];
  readonly streak: StreakPolicy;
  /** Per-endpoint circuit breaker (`webhookCircuit.ts`). @default off */
  readonly circuit?: CircuitPolicy;
  /** Per-endpoint in-flight caps and rate limits; used when `ports.flow` is given. */
  readonly flow?: FlowPolicy;
  /** This invocation's requests per endpoint (one per invocation; shared by its messages). */
  readonly local?: LocalFlow;
  readonly policy: AddressPolicy;
  readonly now: () => Date;
  readonly random: () => number;
  readonly userAgent?: string;
  /** Waits between audit write retries (tests pass an instant one). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The attempt's audit record could not be written after `AUDIT_WRITE_TRIES` tries. The handler
 * reports the message as failed, so it is received again and the attempt (and its record) is
 * made again: a receiver may see the request twice (same `webhook-id`), the audit never misses it.
 */
export class AttemptNotAuditedError extends Error {
  override readonly name = 'AttemptNotAuditedError';
  constructor(
    readonly eventId: string,
    readonly attempt: number,
    options: { cause: unknown },
  ) {
    super(`webhook attempt ${attempt} of event ${eventId} could not be audited`, options);
  }
}

/** Tries of an attempt's audit write, 100 ms apart doubling (about 1.5 s in all): rides out a blip. */
export const AUDIT_WRITE_TRIES = 5;

export type DeliveryDecision =
  | {
      readonly kind: 'done';
      readonly outcome: 'delivered' | 'dead_lettered';
      /** Whether a request was actually sent on this receive. */
      readonly attempted: boolean;
      readonly endpointDisabled: boolean;
    }
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly nextAttemptAt: string }
  /**
   * Nothing was sent (the endpoint's circuit is open, it has no free slot, or its rate slot is
   * later): put the message back as a new message with `attempt` (this receive's attempt number,
   * unused) and `reservedAt` (a rate slot it holds) after `delaySeconds`.
   */
  | {
      readonly kind: 'defer';
      readonly reason: DeferReason;
      readonly delaySeconds: number;
      readonly attempt: number;
      readonly reservedAt?: string;
    };

export type DeferReason = 'circuit_open' | 'saturated' | 'rate_limited';

export const DEFAULT_USER_AGENT = 'outbox-relay-webhooks/1';

export async function deliverMessage(
  message: DeliveryMessage,
  approximateReceiveCount: number,
  ports: DeliveryPorts,
  config: DeliveryConfig,
): Promise<DeliveryDecision> {
  const attempt = attemptOfReceive(message, approximateReceiveCount);
  const startedAt = config.now();
  const endpoint = await ports.getEndpoint(message.tenantId, message.endpointId);

  const skip = async (code: DeadLetterReasonCode, reason: string): Promise<DeliveryDecision> => {
    await recordAttemptSafely(
      ports,
      message,
      {
        ...attemptKey(message, attempt, startedAt, endpoint),
        outcome: 'refused',
        error: reason,
        durationMs: 0,
      },
      config.sleep,
    );
    await ports.deadLetter(deadLetterOf(message, { code, reason, attempts: attempt - 1, at: startedAt }));
    return { kind: 'done', outcome: 'dead_lettered', attempted: false, endpointDisabled: false };
  };

  if (!endpoint) return skip('endpoint_removed', `endpoint ${message.endpointId} no longer exists`);
  if (!endpoint.enabled) {
    return skip(
      'endpoint_disabled',
      `endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`,
    );
  }
  // Only reached when an earlier DLQ send failed, or the limit was lowered meanwhile.
  if (attempt > endpoint.maxAttempts) {
    return skip(
      'attempts_exhausted',
      `attempt ${attempt} is beyond the endpoint's limit of ${endpoint.maxAttempts}`,
    );
  }

  const openFor = config.circuit ? circuitOpenForSeconds(endpoint, startedAt, config.circuit) : undefined;
  if (openFor !== undefined) {
    // Spread the deferred messages over 10 % more, so they do not all probe the endpoint at once.
    const delaySeconds = Math.min(
      Math.ceil(openFor * (1 + 0.1 * config.random())),
      MAX_CIRCUIT_COOLDOWN_SECONDS,
    );
    return { kind: 'defer', reason: 'circuit_open', delaySeconds, attempt };
  }

  let result: HttpAttemptResult;
  if (ports.flow) {
    const local = config.local ?? new LocalFlow();
    const gate = await passFlowGate({
      endpoint,
      ...(message.reservedAt !== undefined ? { reservedAt: message.reservedAt } : {}),
      flow: ports.flow,
      local,
      policy: config.flow ?? DEFAULT_FLOW_POLICY,
      now: config.now,
      random: config.random,
    });
    if (gate.kind === 'defer') {
      return {
        kind: 'defer',
        reason: gate.reason,
        delaySeconds: gate.delaySeconds,
        attempt,
        ...(gate.reservedAt !== undefined ? { reservedAt: gate.reservedAt } : {}),
      };
    }
    local.started(endpoint.id);
    try {
      result = await attemptOnce(message, endpoint, ports, config, config.now());
    } finally {
      local.finished(endpoint.id);
    }
    await ports.flow.release(gate.lease, result.durationMs).catch((error: unknown) => {
      // The lease expires by itself; a failed release must not turn a sent request into a retry.
      (ports.log ?? consoleLog).error('webhook flow lease not released', { endpointId: endpoint.id, error });
    });
  } else {
    result = await attemptOnce(message, endpoint, ports, config, startedAt);
  }
  const now = config.now();
  let outcome: DeliveryOutcome = decideOutcome({
    result,
    attempt,
    maxAttempts: endpoint.maxAttempts,
    schedule: config.schedule,
    now,
    random: config.random,
  });

  let endpointDisabled = false;
  if (outcome.kind === 'delivered') {
    if (endpoint.failureStreak > 0) await ports.recordSuccess(endpoint);
  } else {
    const disableReason = outcome.kind === 'dead' ? outcome.disableEndpoint : undefined;
    const streak = await ports.recordFailure(endpoint, now);
    if (disableReason) {
      await disable(ports, endpoint, disableReason, now);
      endpointDisabled = true;
    } else if (streakWarrantsDisabling(streak, now, config.streak)) {
      const reason = `failed ${streak.failureStreak} consecutive attempts since ${streak.failingSince ?? now.toISOString()}`;
      await disable(ports, endpoint, reason, now);
      endpointDisabled = true;
      outcome = {
        kind: 'dead',
        code: 'endpoint_disabled',
        reason: `endpoint disabled automatically: ${reason}`,
        failure: outcome.failure,
      };
    }
  }

  const nextAttemptAt =
    outcome.kind === 'retry'
      ? new Date(now.getTime() + outcome.delaySeconds * 1000).toISOString()
      : undefined;
  await recordAttemptSafely(
    ports,
    message,
    {
      ...attemptKey(message, attempt, startedAt, endpoint),
      outcome: auditOutcome(outcome),
      ...(result.kind === 'response' ? { statusCode: result.status } : {}),
      ...(result.kind === 'response' && result.body !== undefined
        ? responseEvidence(
            result.body,
            endpoint.secrets.map((s) => s.secret),
          )
        : {}),
      ...(outcome.kind === 'delivered' ? {} : { error: outcome.failure }),
      durationMs: result.durationMs,
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
    },
    config.sleep,
  );

  if (outcome.kind === 'delivered')
    return { kind: 'done', outcome: 'delivered', attempted: true, endpointDisabled };
  if (outcome.kind === 'retry' && nextAttemptAt) {
    return { kind: 'retry', delaySeconds: outcome.delaySeconds, nextAttemptAt };
  }
  if (outcome.kind === 'dead') {
    await ports.deadLetter(
      deadLetterOf(message, {
        code: outcome.code,
        reason: outcome.reason,
        attempts: attempt,
        at: now,
        ...(result.kind === 'response' ? { lastStatus: result.status } : { lastError: result.message }),
      }),
    );
  }
  return { kind: 'done', outcome: 'dead_lettered', attempted: true, endpointDisabled };
}

async function attemptOnce(
  message: DeliveryMessage,
  endpoint: WebhookEndpoint,
  ports: DeliveryPorts,
  config: DeliveryConfig,
  startedAt: Date,
): Promise<HttpAttemptResult> {
  try {
    checkWebhookUrl(endpoint.url, config.policy);
  } catch (error) {
    if (error instanceof AddressRefusedError) {
      return { kind: 'error', code: 'url_refused', message: error.message, durationMs: 0 };
    }
    throw error;
  }
  const body = webhookBody(message.envelope, endpoint.content);
  const signed = signWebhook({
    id: message.eventId,
    timestamp: startedAt,
    body,
    secrets: activeSecrets(endpoint, startedAt),
  });
  return ports.post({
    url: endpoint.url,
    headers: {
      ...signed,
      'content-type': 'application/json',
      'user-agent': config.userAgent ?? DEFAULT_USER_AGENT,
    },
    body,
    timeoutSeconds: endpoint.timeoutSeconds,
  });
}

async function disable(
  ports: DeliveryPorts,
  endpoint: WebhookEndpoint,
  reason: string,
  now: Date,
): Promise<void> {
  await ports.disableEndpoint(endpoint, reason, now);
  await ports.recordTenantNote(
    endpoint.tenantId,
    {
      code: 'webhook_endpoint_disabled',
      details: { endpointId: endpoint.id, url: endpoint.url, reason },
      message: `Webhook endpoint ${endpoint.id} (${endpoint.url}) was disabled: ${reason}. Fix the receiver, then run "outbox-relay webhooks enable ${endpoint.id} --tenant ${endpoint.tenantId}" and "webhooks redrive --endpoint ${endpoint.id}".`,
    },
    now,
  );
}

function attemptKey(
  message: DeliveryMessage,
  attempt: number,
  at: Date,
  endpoint: WebhookEndpoint | undefined,
) {
  return {
    path: 'webhook' as const,
    target: message.endpointId,
    tenantId: message.tenantId,
    ...(endpoint ? { subject: endpoint.url } : {}),
    attempt,
    at: at.toISOString(),
  };
}

function auditOutcome(outcome: DeliveryOutcome): AttemptOutcome {
  if (outcome.kind === 'delivered') return 'delivered';
  if (outcome.kind === 'retry') return 'failed';
  if (outcome.code === 'endpoint_gone') return 'gone';
  if (outcome.code === 'url_refused') return 'refused';
  return 'dead-lettered';
}

function deadLetterOf(
  message: DeliveryMessage,
  detail: {
    code: DeadLetterReasonCode;
    reason: string;
    attempts: number;
    at: Date;
    lastStatus?: number;
    lastError?: string;
  },
): DeadLetter {
  const { at, ...rest } = detail;
  return {
    eventId: message.eventId,
    endpointId: message.endpointId,
    tenantId: message.tenantId,
    attempt: message.attempt,
    envelope: message.envelope,
    deadLetter: { ...rest, at: at.toISOString() },
  };
}

/**
 * Every attempt is recorded: the write is retried a few times, and if it still fails the message
 * is failed (`AttemptNotAuditedError`) so the attempt is made and recorded again. A duplicate
 * request (same `webhook-id`, which receivers de-duplicate) is the price; an unrecorded one is not paid.
 */
async function recordAttemptSafely(
  ports: DeliveryPorts,
  { tenantId, eventId }: { readonly tenantId: string; readonly eventId: string },
  attempt: DeliveryAttempt,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<void> {
  for (let tryNumber = 1; ; tryNumber += 1) {
    try {
      await ports.recordAttempt(tenantId, eventId, attempt);
      return;
    } catch (error) {
      if (tryNumber >= AUDIT_WRITE_TRIES)
        throw new AttemptNotAuditedError(eventId, attempt.attempt, { cause: error });
      await sleep(100 * 2 ** (tryNumber - 1));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
