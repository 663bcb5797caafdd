/**
 * A tenant's webhook endpoint: schema, validation of operator input, defaults, secrets and their
 * rotation. Pure apart from random secret generation.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { type AddressPolicy, checkWebhookUrl } from './addressPolicy.js';
import { describeNameRefusal, isValidName, nameRefusal, tenantIdSchema } from './names.js';
import { MAX_ATTEMPTS_LIMIT } from './retrySchedule.js';
import { AddressRefusedError, WebhookConfigurationError } from './webhookErrors.js';
import { isValidFilter } from './webhookFilter.js';
import { MAX_IN_FLIGHT_LIMIT, MAX_RATE_LIMIT_PER_SECOND } from './webhookFlow.js';

export const WEBHOOK_CONTENT = ['full', 'summary'] as const;
export type WebhookContent = (typeof WEBHOOK_CONTENT)[number];

export const DEFAULT_TIMEOUT_SECONDS = 15;
/** The delivery Lambda runs 60 s and handles a batch concurrently, so one attempt may take at most 30 s. */
export const MAX_TIMEOUT_SECONDS = 30;
/** How long the previous secret keeps signing after `rotate-secret`, unless told otherwise. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 60 * 60;
export const SECRET_PREFIX = 'whsec_';

const isoTime = z.iso.datetime({ offset: true });
const filterSchema = z
  .string()
  .check(
    z.refine(isValidFilter, { message: 'must be "*", an exact name, or a prefix pattern such as "order.*"' }),
  );
/** A channel filter's name part must be a valid channel name (docs/names.md). */
const channelFilterSchema = filterSchema.check(
  z.refine(
    (filter) =>
      filter === '*' || isValidName('channel', filter.endsWith('.*') ? filter.slice(0, -1) : filter),
    {
      message:
        'must name a valid channel (docs/names.md): no "#", whitespace or control characters, at most 256 bytes',
    },
  ),
);

export const endpointSecretSchema = z.object({
  secret: z.string().check(z.regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by base64')),
  createdAt: isoTime,
  /** Set on the previous secret by a rotation: it signs until then. */
  expiresAt: z.optional(isoTime),
});
export type EndpointSecret = z.infer<typeof endpointSecretSchema>;

/** The settings an operator chooses (add / update). */
export const endpointSettingsSchema = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(2048)),
  description: z.optional(z.string().check(z.maxLength(256))),
  eventTypes: z.array(filterSchema).check(z.maxLength(100)),
  channels: z.array(channelFilterSchema).check(z.maxLength(100)),
  content: z.enum(WEBHOOK_CONTENT),
  timeoutSeconds: z.number().check(z.int(), z.gte(1), z.lte(MAX_TIMEOUT_SECONDS)),
  maxAttempts: z.number().check(z.int(), z.gte(1), z.lte(MAX_ATTEMPTS_LIMIT)),
  /** Requests in flight at once while the endpoint is fast (src/core/webhookFlow.ts). @default 10 */
  maxInFlight: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_IN_FLIGHT_LIMIT))),
  /** Requests per second at most; absent = no limit. */
  rateLimitPerSecond: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_RATE_LIMIT_PER_SECOND))),
});
export type EndpointSettings = z.infer<typeof endpointSettingsSchema>;

export const webhookEndpointSchema = z.extend(endpointSettingsSchema, {
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  tenantId: tenantIdSchema,
  /** Newest first; more than one only during a rotation's grace period. */
  secrets: z.array(endpointSecretSchema).check(z.minLength(1)),
  enabled: z.boolean(),
  /** Consecutive failed attempts across events; reset by any success. */
  failureStreak: z.number().check(z.int(), z.gte(0)),
  /** When the current failure streak began. */
  failingSince: z.optional(isoTime),
  /** The latest failed attempt (the circuit breaker's clock, src/core/webhookCircuit.ts). */
  lastFailureAt: z.optional(isoTime),
  disabledReason: z.optional(z.string()),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

/**
 * An endpoint without its signing secrets: what dispatch needs to route an event. The dispatcher
 * reads only these attributes, and its role may read no other (the secrets stay with delivery).
 */
export const webhookRoutingSchema = z.omit(webhookEndpointSchema, { secrets: true });
export type WebhookRouting = z.infer<typeof webhookRoutingSchema>;
/** The stored attributes of a routing read: the item's keys and every field but `secrets`. */
export const WEBHOOK_ROUTING_ATTRIBUTES: readonly string[] = [
  'pk',
  'sk',
  ...Object.keys(webhookRoutingSchema.shape),
];

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function newEndpointId(): string {
  return `ep_${randomBytes(10).toString('hex')}`;
}

function configurationError(error: z.core.$ZodError): WebhookConfigurationError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'endpoint';
  return new WebhookConfigurationError(field, issue?.message ?? 'invalid value');
}

function parseSettings(input: unknown, policy: AddressPolicy): EndpointSettings {
  const parsed = endpointSettingsSchema.safeParse(input);
  if (!parsed.success) throw configurationError(parsed.error);
  try {
    checkWebhookUrl(parsed.data.url, policy);
  } catch (error) {
    if (error instanceof AddressRefusedError) throw new WebhookConfigurationError('url', error.message);
    throw error;
  }
  return parsed.data;
}

export type EndpointSettingsInput = Partial<EndpointSettings> & { url: string };

/** Builds a new endpoint from operator input, applying defaults; throws WebhookConfigurationError naming the field. */
export function createEndpoint(
  input: EndpointSettingsInput,
  context: {
    tenantId: string;
    now: Date;
    policy: AddressPolicy;
    defaultMaxAttempts: number;
    id?: string;
    secret?: string;
  },
): WebhookEndpoint {
  const settings = parseSettings(
    {
      eventTypes: [],
      channels: [],
      content: 'full',
      timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
      maxAttempts: Math.min(context.defaultMaxAttempts, MAX_ATTEMPTS_LIMIT),
      ...withoutUndefined(input),
    },
    context.policy,
  );
  const refusal = nameRefusal('tenantId', context.tenantId);
  if (refusal !== undefined)
    throw new WebhookConfigurationError('tenant', describeNameRefusal('tenantId', refusal, context.tenantId));
  const now = context.now.toISOString();
  return {
    ...settings,
    id: context.id ?? newEndpointId(),
    tenantId: context.tenantId,
    secrets: [{ secret: context.secret ?? generateSecret(), createdAt: now }],
    enabled: true,
    failureStreak: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** A change of settings: absent = unchanged, `null` = removed (optional settings only). */
export type EndpointSettingsPatch = { [K in keyof EndpointSettings]?: EndpointSettings[K] | null };

/** Applies a partial change of settings; the result is validated as a whole. */
export function updateEndpoint(
  endpoint: WebhookEndpoint,
  patch: EndpointSettingsPatch,
  context: { now: Date; policy: AddressPolicy },
): WebhookEndpoint {
  // Everything that is not a setting (id, secrets, enabled, failure streak, ...) is kept as it is.
  const {
    url,
    description,
    eventTypes,
    channels,
    content,
    timeoutSeconds,
    maxAttempts,
    maxInFlight,
    rateLimitPerSecond,
    ...state
  } = endpoint;
  const current: EndpointSettings = {
    url,
    description,
    eventTypes,
    channels,
    content,
    timeoutSeconds,
    maxAttempts,
    maxInFlight,
    rateLimitPerSecond,
  };
  const merged: Record<string, unknown> = { ...withoutUndefined(current), ...withoutUndefined(patch) };
  for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
  const settings = parseSettings(merged, context.policy);
  return {
    ...state,
    ...settings,
    updatedAt: context.now.toISOString(),
  };
}

/**
 * Adds a new secret in front; the previous ones keep signing until `now + graceSeconds`
 * (secrets already past their expiry are dropped). With grace 0 the old secret stops at once.
 */
export function rotateSecret(
  endpoint: WebhookEndpoint,
  context: { now: Date; graceSeconds: number; secret?: string },
): WebhookEndpoint {
  if (!Number.isInteger(context.graceSeconds) || context.graceSeconds < 0) {
    throw new WebhookConfigurationError('grace', 'must be a whole number of seconds, 0 or more');
  }
  const now = context.now.toISOString();
  const graceEnd = new Date(context.now.getTime() + context.graceSeconds * 1000).toISOString();
  const previous = activeSecretEntries(endpoint, context.now)
    .filter(() => context.graceSeconds > 0)
    .map((entry) => ({
      secret: entry.secret,
      createdAt: entry.createdAt,
      expiresAt: entry.expiresAt !== undefined && entry.expiresAt < graceEnd ? entry.expiresAt : graceEnd,
    }));
  return {
    ...endpoint,
    secrets: [{ secret: context.secret ?? generateSecret(), createdAt: now }, ...previous],
    updatedAt: now,
  };
}

function activeSecretEntries(endpoint: Pick<WebhookEndpoint, 'secrets'>, now: Date): EndpointSecret[] {
  const at = now.getTime();
  return endpoint.secrets.filter(
    (entry) => entry.expiresAt === undefined || Date.parse(entry.expiresAt) > at,
  );
}

/** The secrets that sign a request sent at `now`, newest first (several during a rotation). */
export function activeSecrets(endpoint: Pick<WebhookEndpoint, 'secrets'>, now: Date): string[] {
  const active = activeSecretEntries(endpoint, now).map((entry) => entry.secret);
  // Never sign with nothing: if every secret expired (clock skew), the newest still signs.
  const newest = endpoint.secrets[0];
  return active.length > 0 ? active : newest ? [newest.secret] : [];
}

/** The endpoint as shown to operators: secrets masked unless asked for. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, SECRET_PREFIX.length + 4)}…`;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
