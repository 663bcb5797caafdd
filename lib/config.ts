/**
 * The stack's options: one zod schema, read from typed props and CDK context, validated at synth.
 * Every error names the option (`Invalid outbox-relay configuration: webhookRetrySchedule[2] must
 * be ...`). Defaults come from `src/contract/topology.ts` and the handlers' own constants, never restated.
 * No CDK imports here, so the schema is cheap to test. Documented in docs/configuration.md.
 */
import * as z from 'zod';
import { topology } from '../src/contract/topology.js';
import { DEFAULT_WEBHOOK_PORTS, WEBHOOK_ALLOWED_PORTS_ENV } from '../src/core/addressPolicy.js';
import { CONNECTION_EVENTS_ENV } from '../src/core/connectionEvents.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME } from '../src/core/fanoutPlan.js';
import { DEFAULT_FANOUT_CHUNK_THRESHOLD, FANOUT_ENV } from '../src/core/fanoutSettings.js';
import { DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS } from '../src/core/fanoutSubjects.js';
import { ALLOWED_ORIGINS_ENV } from '../src/core/originPolicy.js';
import {
  DEFAULT_MAX_CONNECTIONS_PER_TENANT,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  MAX_SUBSCRIPTIONS_PER_CONNECTION_LIMIT,
  QUOTA_ENV,
} from '../src/core/quotas.js';
import { DEFAULT_RESUME_MAX_EVENTS, RESUME_ENV } from '../src/core/resume.js';
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  MAX_ATTEMPTS_LIMIT,
  MAX_RETRY_DELAY_SECONDS,
  RETRY_SCHEDULE_ENV,
} from '../src/core/retrySchedule.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, JWT_ENV, MAX_TOKEN_LIFETIME_ENV } from '../src/core/token.js';
import { trackedTablesSchema } from '../src/core/trackedTables.js';
import {
  CIRCUIT_COOLDOWN_ENV,
  CIRCUIT_FAILURES_ENV,
  MAX_CIRCUIT_COOLDOWN_SECONDS,
  RECOMMENDED_CIRCUIT_POLICY,
} from '../src/core/webhookCircuit.js';
import {
  requiredRetentionSeconds,
  SQS_MAX_CONCURRENCY_RANGE,
  SQS_MAX_RETENTION_SECONDS,
} from './nag/invariants.js';

/** Context key of the options object (`cdk.json` → `context.outboxRelay`). */
export const CONTEXT_KEY = 'outboxRelay';

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Lambda's limits for an event source mapping's batch size and batching window. */
const MAX_BATCH_SIZE = 10_000;
const MAX_BATCHING_WINDOW_SECONDS = 300;
/** Lambda refuses an SQS mapping with a batch size above 10 unless its batching window is at least 1 s. */
export const SQS_UNWINDOWED_MAX_BATCH_SIZE = 10;

const mappingFunctions = [
  ...topology.streamMappings.map((m) => m.function),
  ...topology.queueMappings.map((m) => m.function),
] as const;
type MappingFunction = (typeof mappingFunctions)[number];
const queueMappingFunctions = topology.queueMappings.map((m) => m.function);
type QueueMappingFunction = (typeof queueMappingFunctions)[number];
const DAY_SECONDS = 24 * 60 * 60;

const fanoutMapping = topology.queueMappings.find((m) => m.function === 'fanout');

const wholeNumber = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a number (${what})` })
    .int({ error: `must be a whole number ${what}` })
    .min(min, { error: `must be at least ${min} (${what})` })
    .max(max, { error: `must be at most ${max} (${what})` });

const retryDelay = z
  .number({ error: 'must be a positive number of seconds' })
  .int({ error: 'must be a whole number of seconds' })
  .min(0, { error: 'must be a positive number of seconds' })
  .max(MAX_RETRY_DELAY_SECONDS, {
    error: `must be at most ${MAX_RETRY_DELAY_SECONDS} seconds (the SQS visibility timeout limit)`,
  });

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const origin = z.string().regex(/^https?:\/\/[a-zA-Z0-9.-]+(:\d{1,5})?$/, {
  error: 'must be an origin such as https://app.example.com',
});

const authSchema = z
  .object({
    /** `hs256`: a shared secret generated in Secrets Manager; `oidc`: tokens of an OIDC issuer (Cognito, ...). */
    mode: z.enum(['hs256', 'oidc'], { error: 'must be "hs256" or "oidc"' }).default('hs256'),
    /** OIDC issuer (`iss`), e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>. */
    issuer: httpsUrl.optional(),
    /** Expected `aud` (a Cognito app client id, ...). */
    audience: z.string().min(1, { error: 'must not be empty' }).optional(),
    /** JWKS URL; default `<issuer>/.well-known/jwks.json`. */
    jwksUrl: httpsUrl.optional(),
    /** Longest token lifetime (`exp - iat`) the authorizer accepts (JWT_MAX_LIFETIME_SECONDS). */
    maxTokenLifetimeSeconds: wholeNumber(60, 30 * 24 * 60 * 60, 'seconds').default(
      DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    ),
  })
  .strict()
  // Validated as one object (so every error names its option), then narrowed once into the union.
  .transform((auth, ctx): AuthConfig => {
    const { mode, issuer, audience, jwksUrl, maxTokenLifetimeSeconds } = auth;
    if (mode === 'hs256') return { mode, maxTokenLifetimeSeconds };
    for (const [field, value] of [
      ['issuer', issuer],
      ['audience', audience],
    ] as const)
      if (value === undefined)
        ctx.issues.push({
          code: 'custom',
          path: [field],
          message: 'is required when auth.mode is "oidc"',
          input: auth,
        });
    if (issuer === undefined || audience === undefined) return z.NEVER;
    return { mode, issuer, audience, ...(jwksUrl !== undefined ? { jwksUrl } : {}), maxTokenLifetimeSeconds };
  });

/** How WebSocket tokens are verified: a generated HS256 secret, or an OIDC issuer's keys. */
export type AuthConfig =
  | { readonly mode: 'hs256'; readonly maxTokenLifetimeSeconds: number }
  | {
      readonly mode: 'oidc';
      readonly issuer: string;
      readonly audience: string;
      /** @default `<issuer>/.well-known/jwks.json` */
      readonly jwksUrl?: string;
      readonly maxTokenLifetimeSeconds: number;
    };

const batchSizesSchema = z
  .object(
    Object.fromEntries(
      mappingFunctions.map((fn) => [fn, wholeNumber(1, MAX_BATCH_SIZE, 'records per batch').optional()]),
    ) as Record<MappingFunction, z.ZodOptional<z.ZodNumber>>,
  )
  .strict();

const maxConcurrencySchema = z
  .object(
    Object.fromEntries(
      queueMappingFunctions.map((fn) => [
        fn,
        wholeNumber(
          SQS_MAX_CONCURRENCY_RANGE.min,
          SQS_MAX_CONCURRENCY_RANGE.max,
          'concurrent batches; Lambda allows 2-1000',
        ).optional(),
      ]),
    ) as Record<QueueMappingFunction, z.ZodOptional<z.ZodNumber>>,
  )
  .strict();

const deliveryQueue = topology.queues.webhookDeliveryQueue;

export const configSchema = z
  .object({
    /**
     * Leading part of the names the stack sets (bus, archive, API, dashboard, alarms), before the
     * stack name: `<prefix>-<stack>-bus`. The stack name alone keeps names unique per account.
     */
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,30}$/, {
        error: 'must be 2-31 lower-case letters, digits or dashes, starting with a letter',
      })
      .optional(),
    /** Retention of every log group (function logs and WebSocket access logs). */
    logRetentionDays: z
      .number({ error: 'must be a number of days' })
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        error: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    /** Retention of the event bus archive; 0 keeps events forever. */
    archiveRetentionDays: wholeNumber(0, 3650, 'days; 0 = forever').default(
      topology.bus.archiveRetentionDays,
    ),
    /** What happens to the tables (and the endpoints table's key) when the stack is deleted. */
    removalPolicy: z
      .enum(['retain', 'destroy'], { error: 'must be "retain" or "destroy"' })
      .default('retain'),
    /** Per-mapping batch size overrides (key = topology function name); default: the topology's. */
    batchSizes: batchSizesSchema.default({}),
    /** Per-SQS-mapping maximum concurrency (key = topology function name); default: the topology's. */
    maxConcurrency: maxConcurrencySchema.default({}),
    /**
     * Concurrency reserved for each function of the `$connect` path (authorizer and connect), so a
     * burst elsewhere cannot throttle new connections; 0 reserves none (the rule is then
     * acknowledged with that reason).
     */
    connectReservedConcurrency: wholeNumber(0, 1000, 'concurrent executions; 0 = none').default(
      topology.functions.wsAuthorizer.reservedConcurrency,
    ),
    /** Publish `connection.opened`/`connection.closed` on each tenant's channel `connections` (CONNECTION_EVENTS). */
    connectionEvents: z.boolean({ error: 'must be true or false' }).default(false),
    /** Days the webhook delivery queue keeps a message: the whole retry schedule must fit. */
    webhookDeliveryRetentionDays: wholeNumber(1, SQS_MAX_RETENTION_SECONDS / DAY_SECONDS, 'days').default(
      deliveryQueue.retentionDays,
    ),
    /** Seconds before attempt 1, 2, ...: the first is 0 (immediately). Sets WEBHOOK_RETRY_SCHEDULE. */
    webhookRetrySchedule: z
      .array(retryDelay, { error: 'must be a list of seconds' })
      .min(1, { error: 'must list at least the first attempt (0)' })
      .max(MAX_ATTEMPTS_LIMIT, { error: `must list at most ${MAX_ATTEMPTS_LIMIT} attempts` })
      .refine((s) => s[0] === 0, { error: 'must start with 0: the first attempt is immediate' })
      .default([...DEFAULT_RETRY_SCHEDULE_SECONDS]),
    /** Ports webhook URLs may use (WEBHOOK_ALLOWED_PORTS); the offline runtime reaches its loopback receivers on any port. */
    webhookAllowedPorts: z
      .array(wholeNumber(1, 65_535, 'a TCP port'), { error: 'must be a list of ports' })
      .min(1, { error: 'must list at least one port' })
      .max(20, { error: 'must list at most 20 ports' })
      .default([...DEFAULT_WEBHOOK_PORTS]),
    /** Per-endpoint circuit breaker of webhook delivery (src/core/webhookCircuit.ts); openAfterFailures 0 = off. */
    webhookCircuit: z
      .object({
        openAfterFailures: wholeNumber(0, 1_000, 'failures').default(
          RECOMMENDED_CIRCUIT_POLICY.openAfterFailures,
        ),
        cooldownSeconds: wholeNumber(1, MAX_CIRCUIT_COOLDOWN_SECONDS, 'seconds').default(
          RECOMMENDED_CIRCUIT_POLICY.cooldownSeconds,
        ),
      })
      .strict()
      .prefault({}),
    /** How WebSocket tokens are verified on `$connect`. */
    auth: authSchema.prefault({}),
    /** Origins allowed to open a WebSocket (browser `Origin` header); empty = any origin. */
    allowedOrigins: z.array(origin, { error: 'must be a list of origins' }).max(50).default([]),
    /** Existing tables whose streams also feed the publisher (see src/core/trackedTables.ts). */
    trackedTables: trackedTablesSchema.default([]),
    /** Address subscribed (by e-mail) to the alarm topic; absent = no topic subscription. */
    alarmEmail: z.email({ error: 'must be an e-mail address' }).optional(),
    /** Fan-out: message coalescing (API Gateway bills per message) and its batching window. */
    fanout: z
      .object({
        /** Several events for one connection in one `events` message (FANOUT_COALESCE). */
        coalesce: z.boolean({ error: 'must be true or false' }).default(true),
        /** Cap on events in one `events` message (FANOUT_MAX_EVENTS_PER_FRAME). */
        maxEventsPerFrame: wholeNumber(1, 10_000, 'events').default(DEFAULT_MAX_EVENTS_PER_FRAME),
        /** Above this many subscribers per batch, split into shard chunks (FANOUT_CHUNK_THRESHOLD). */
        chunkThreshold: wholeNumber(1, 10_000_000, 'subscribers').default(DEFAULT_FANOUT_CHUNK_THRESHOLD),
        /** Per-subject audit records for events with at most this many subscribers; 0 = none (FANOUT_SUBJECT_RECORDS_MAX). */
        subjectRecordsMaxSubscribers: wholeNumber(0, 10_000, 'subscribers').default(
          DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS,
        ),
        /** How long the fan-out mapping gathers events before invoking (more coalescing, more latency). */
        batchingWindowSeconds: wholeNumber(0, MAX_BATCHING_WINDOW_SECONDS, 'seconds').default(
          Math.max(fanoutMapping?.maxBatchingWindowSeconds ?? 0, 1),
        ),
      })
      .strict()
      .prefault({}),
    /** Per-connection limits, each refused with a documented error code (src/core/quotas.ts). */
    quotas: z
      .object({
        /** Channels one connection may be subscribed to at once (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION). */
        subscriptionsPerConnection: wholeNumber(
          1,
          MAX_SUBSCRIPTIONS_PER_CONNECTION_LIMIT,
          'channels',
        ).default(DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION),
        /** Open connections one tenant may have; 0 = no limit (WS_MAX_CONNECTIONS_PER_TENANT). */
        connectionsPerTenant: wholeNumber(0, 10_000_000, 'connections; 0 = no limit').default(
          DEFAULT_MAX_CONNECTIONS_PER_TENANT,
        ),
      })
      .strict()
      .prefault({}),
    /** More missed events than this on resume → `refresh` (RESUME_MAX_EVENTS). */
    resumeLimit: wholeNumber(1, 100_000, 'events').default(DEFAULT_RESUME_MAX_EVENTS),
    /**
     * Create the account-level role API Gateway needs to write access logs (AWS::ApiGateway::Account,
     * one per account and region; kept on stack deletion). Turn off when the account already has one.
     */
    apiGatewayAccountRole: z.boolean({ error: 'must be true or false' }).default(true),
    /** X-Ray active tracing on every function (Powertools tracer). */
    tracing: z.boolean({ error: 'must be true or false' }).default(true),
    /**
     * With tracing: bundle the Powertools tracer (X-Ray SDK) for `## <function>` and AWS SDK/HTTP
     * call subsegments. Off: Lambda's own segments only, and bundles ~107 KB smaller.
     */
    xraySdk: z.boolean({ error: 'must be true or false' }).default(false),
    /** Ship source maps in the deployed zips (and run with `--enable-source-maps`). */
    sourceMaps: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .strict()
  .superRefine((config, ctx) => {
    const retentionSeconds = config.webhookDeliveryRetentionDays * DAY_SECONDS;
    const needed = requiredRetentionSeconds(
      config.webhookRetrySchedule,
      deliveryQueue.visibilityTimeoutSeconds,
    );
    if (needed > retentionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookDeliveryRetentionDays'],
        message: `(${config.webhookDeliveryRetentionDays}) is shorter than the worst case of webhookRetrySchedule (${config.webhookRetrySchedule.length} attempts: ${Math.ceil(needed / DAY_SECONDS)} days with margin); SQS would delete retried messages before they reach the DLQ. Raise it or list fewer attempts`,
      });
    }
    const fanoutBatch = config.batchSizes.fanout ?? fanoutMapping?.batchSize ?? 10;
    if (fanoutBatch > SQS_UNWINDOWED_MAX_BATCH_SIZE && config.fanout.batchingWindowSeconds < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['fanout', 'batchingWindowSeconds'],
        message: `must be at least 1 when the fan-out batch size (${fanoutBatch}) is above ${SQS_UNWINDOWED_MAX_BATCH_SIZE} (a Lambda SQS mapping rule)`,
      });
    }
  });

/** The options as a user writes them (every field optional). */
export type OutboxRelayOptions = z.input<typeof configSchema>;
/** The validated options with defaults applied. */
export type OutboxRelayConfig = z.output<typeof configSchema>;

export class InvalidConfigurationError extends Error {
  override readonly name = 'InvalidConfigurationError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid outbox-relay configuration: ${problems.join('; ')}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? String(key) : `${out}.${String(key)}`;
  }, '');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where = formatPath(issue.path);
    return issue.keys.map((key) => `${where === '' ? key : `${where}.${key}`} is not an option`).join('; ');
  }
  const where = formatPath(issue.path);
  return where === '' ? issue.message : `${where} ${issue.message}`;
}

/** Validate options; throws `InvalidConfigurationError` naming every bad option. */
export function parseConfig(options: unknown): OutboxRelayConfig {
  const result = configSchema.safeParse(options ?? {});
  if (!result.success) throw new InvalidConfigurationError(result.error.issues.map(describeIssue));
  return result.data;
}

/** Reads CDK context: `node.tryGetContext(key)`. */
export type ContextReader = (key: string) => unknown;

/** A `-c` value is a string: JSON when it parses (`false`, `[0,5]`, `{...}`), else a comma list or text. */
function coerceContextValue(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  try {
    return JSON.parse(text);
  } catch {
    // Lists may be written as `0,5,300` on the command line.
    if (text.includes(',')) return text.split(',').map((part) => coerceContextValue(part));
    return text;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const existing = target[head];
  const child: Record<string, unknown> =
    typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? { ...existing } : {};
  setPath(child, rest, value);
  target[head] = child;
}

const OPTION_PATHS = [
  'namePrefix',
  'logRetentionDays',
  'archiveRetentionDays',
  'removalPolicy',
  'webhookRetrySchedule',
  'webhookAllowedPorts',
  'webhookCircuit',
  'webhookCircuit.openAfterFailures',
  'webhookCircuit.cooldownSeconds',
  'auth',
  'auth.mode',
  'auth.issuer',
  'auth.audience',
  'auth.jwksUrl',
  'auth.maxTokenLifetimeSeconds',
  'allowedOrigins',
  'trackedTables',
  'alarmEmail',
  'fanout',
  'fanout.coalesce',
  'fanout.maxEventsPerFrame',
  'fanout.chunkThreshold',
  'fanout.subjectRecordsMaxSubscribers',
  'connectionEvents',
  'fanout.batchingWindowSeconds',
  'resumeLimit',
  'quotas',
  'quotas.subscriptionsPerConnection',
  'quotas.connectionsPerTenant',
  'tracing',
  'xraySdk',
  'sourceMaps',
  'apiGatewayAccountRole',
  'batchSizes',
  ...mappingFunctions.map((fn) => `batchSizes.${fn}`),
  'maxConcurrency',
  ...queueMappingFunctions.map((fn) => `maxConcurrency.${fn}`),
  'connectReservedConcurrency',
  'webhookDeliveryRetentionDays',
] as const;

/**
 * Options from CDK context: the object under `outboxRelay` (cdk.json), then one key per option
 * (`-c outboxRelay.webhookRetrySchedule=0,5,300`, `-c outboxRelay.fanout.coalesce=false`).
 */
export function optionsFromContext(read: ContextReader): Record<string, unknown> {
  const base = coerceContextValue(read(CONTEXT_KEY));
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base))) {
    throw new InvalidConfigurationError([`context ${CONTEXT_KEY} must be an object of options`]);
  }
  const options: Record<string, unknown> = { ...(base ?? {}) };
  for (const path of OPTION_PATHS) {
    const raw = read(`${CONTEXT_KEY}.${path}`);
    if (raw !== undefined) setPath(options, path.split('.'), coerceContextValue(raw));
  }
  // A single value where a list is expected (`-c outboxRelay.allowedOrigins=https://a.example`).
  for (const key of ['webhookRetrySchedule', 'allowedOrigins', 'webhookAllowedPorts'] as const) {
    const value = options[key];
    if (value !== undefined && !Array.isArray(value) && read(`${CONTEXT_KEY}.${key}`) !== undefined)
      options[key] = [value];
  }
  return options;
}

/** Typed props win over context; context over defaults. Objects merge one level deep. */
export function resolveConfig(input: {
  props?: OutboxRelayOptions;
  context?: ContextReader;
}): OutboxRelayConfig {
  const fromContext = input.context ? optionsFromContext(input.context) : {};
  const merged: Record<string, unknown> = { ...fromContext };
  for (const [key, value] of Object.entries(input.props ?? {})) {
    if (value === undefined) continue;
    const existing = merged[key];
    const bothObjects =
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof existing === 'object' &&
      existing !== null &&
      !Array.isArray(existing);
    merged[key] = bothObjects ? { ...existing, ...value } : value;
  }
  return parseConfig(merged);
}

/** Environment variables (beyond the topology's) that carry the options to the handlers. */
export const CONFIG_ENV = {
  webhookRetrySchedule: RETRY_SCHEDULE_ENV,
  webhookCircuitFailures: CIRCUIT_FAILURES_ENV,
  webhookCircuitCooldownSeconds: CIRCUIT_COOLDOWN_ENV,
  fanoutCoalesce: FANOUT_ENV.coalesce,
  fanoutMaxEventsPerFrame: FANOUT_ENV.maxEventsPerFrame,
  fanoutChunkThreshold: FANOUT_ENV.chunkThreshold,
  fanoutSubjectRecordsMax: FANOUT_ENV.subjectRecordsMaxSubscribers,
  connectionEvents: CONNECTION_EVENTS_ENV,
  resumeMaxEvents: RESUME_ENV.maxEvents,
  allowedOrigins: ALLOWED_ORIGINS_ENV,
  jwtSecretArn: JWT_ENV.secretArn,
  jwtIssuer: JWT_ENV.issuer,
  jwtAudience: JWT_ENV.audience,
  jwksUrl: JWT_ENV.jwksUrl,
  maxTokenLifetimeSeconds: MAX_TOKEN_LIFETIME_ENV,
  subscriptionsPerConnection: QUOTA_ENV.subscriptionsPerConnection,
  connectionsPerTenant: QUOTA_ENV.connectionsPerTenant,
  webhookAllowedPorts: WEBHOOK_ALLOWED_PORTS_ENV,
} as const;
