/**
 * The tenant webhook API over HTTP (docs/webhooks-api.yaml): routes, request parsing, the token
 * check and the mapping of errors to statuses. Pure apart from its two ports, the token verifier
 * (the WebSocket's: src/core/token.ts) and the operations (src/aws/webhookAdmin.ts). Every route
 * acts on the token's tenant only; another tenant's endpoint or event is a 404, exactly like an
 * unknown one. `lambdas/webhook-api` (API Gateway HTTP API) and the offline runtime serve it.
 */
import * as z from 'zod/mini';
import type { ConnectionIdentity } from './token.js';
import { type Actor, endpointView, type WebhookAdmin } from './webhookAdmin.js';
import type { EndpointSettings, EndpointSettingsInput, EndpointSettingsPatch } from './webhookEndpoint.js';
import {
  WebhookConfigurationError,
  WebhookEndpointNotFoundError,
  WebhookEventNotFoundError,
  WebhookRequestError,
} from './webhookErrors.js';
import { TokenRejectedError } from './websocketErrors.js';

export interface ApiRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/webhooks/endpoints/ep_1`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface WebhookApiPorts {
  verify(token: string | undefined): Promise<ConnectionIdentity>;
  readonly admin: WebhookAdmin;
  /** Where unexpected errors go (passed whole). */
  logError?(message: string, error: unknown): void;
}

/** Request bodies larger than this are refused (endpoint settings are small). */
export const MAX_API_BODY_BYTES = 64 * 1024;
export const API_PREFIX = '/webhooks';

export type ApiErrorCode =
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_REQUEST'
  | 'INVALID_SETTING'
  | 'BODY_TOO_LARGE'
  | 'INTERNAL';

function error(status: number, code: ApiErrorCode, message: string, field?: string): ApiResponse {
  return { status, body: { error: code, message, ...(field !== undefined ? { field } : {}) } };
}

// Only the names and JSON types are checked here; values are validated (and refused per field,
// INVALID_SETTING) by the core's endpoint rules, the same for the API and the CLI.
const settingsFields = {
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  channels: z.array(z.string()),
  content: z.string(),
  timeoutSeconds: z.number(),
  maxAttempts: z.number(),
  maxInFlight: z.number(),
  rateLimitPerSecond: z.number(),
} satisfies Record<keyof EndpointSettings, z.ZodMiniType>;
const createSchema = z.required(z.partial(z.strictObject(settingsFields)), { url: true });
const patchSchema = z.partial(
  z.strictObject({
    ...settingsFields,
    description: z.nullable(z.string()),
    maxInFlight: z.nullable(z.number()),
    rateLimitPerSecond: z.nullable(z.number()),
  }),
);
const disableSchema = z.strictObject({
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});
const rotateSchema = z.strictObject({
  graceSeconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(7 * 24 * 3600))),
});
const recoverSchema = z.strictObject({ since: z.iso.datetime({ offset: true }) });
const resendSchema = z.strictObject({ eventId: z.string().check(z.minLength(1), z.maxLength(128)) });
const limitSchema = z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)));

function parseBody<T>(schema: z.ZodMiniType<T>, body: string | undefined): T {
  let json: unknown = {};
  if (body !== undefined && body.trim() !== '') {
    try {
      json = JSON.parse(body);
    } catch {
      throw new WebhookRequestError('body', 'is not JSON');
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    throw new WebhookRequestError(field, issue?.message ?? 'invalid');
  }
  return parsed.data;
}

function bearer(headers: ApiRequest['headers']): string | undefined {
  const value = headers.authorization ?? headers.Authorization;
  const match = value === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

type Route = (
  match: RegExpExecArray,
  request: ApiRequest,
  actor: Actor,
  tenantId: string,
  admin: WebhookAdmin,
) => Promise<ApiResponse>;

const ID = '([A-Za-z0-9_.:-]{1,128})';
const ROUTES: readonly { method: string; pattern: RegExp; run: Route }[] = [
  {
    method: 'GET',
    pattern: /^\/webhooks\/endpoints$/,
    run: async (_m, _r, _a, tenantId, admin) => ({
      status: 200,
      body: { endpoints: (await admin.list(tenantId)).map((e) => endpointView(e)) },
    }),
  },
  {
    method: 'POST',
    pattern: /^\/webhooks\/endpoints$/,
    run: async (_m, r, actor, tenantId, admin) => {
      // `content` is checked against its values by the core (a precise INVALID_SETTING).
      const input = parseBody(createSchema, r.body) as EndpointSettingsInput;
      const endpoint = await admin.create(actor, tenantId, input);
      return { status: 201, body: { endpoint: endpointView(endpoint, true) } };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}$`),
    run: async (m, _r, _a, tenantId, admin) => ({
      status: 200,
      body: { endpoint: endpointView(await admin.get(tenantId, m[1] ?? '')) },
    }),
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}$`),
    run: async (m, r, actor, tenantId, admin) => {
      const patch = parseBody(patchSchema, r.body);
      if (Object.keys(patch).length === 0)
        throw new WebhookRequestError('body', 'names no setting to change');
      const updated = await admin.update(actor, tenantId, m[1] ?? '', patch as EndpointSettingsPatch);
      return { status: 200, body: { endpoint: endpointView(updated) } };
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}$`),
    run: async (m, _r, actor, tenantId, admin) => {
      await admin.remove(actor, tenantId, m[1] ?? '');
      return { status: 200, body: { deleted: m[1] } };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/disable$`),
    run: async (m, r, actor, tenantId, admin) => {
      const { reason } = parseBody(disableSchema, r.body);
      const endpoint = await admin.setEnabled(actor, tenantId, m[1] ?? '', false, reason);
      return { status: 200, body: { endpoint: endpointView(endpoint) } };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/enable$`),
    run: async (m, r, actor, tenantId, admin) => {
      parseBody(z.strictObject({}), r.body);
      const endpoint = await admin.setEnabled(actor, tenantId, m[1] ?? '', true);
      return { status: 200, body: { endpoint: endpointView(endpoint) } };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/rotate-secret$`),
    run: async (m, r, actor, tenantId, admin) => {
      const { graceSeconds } = parseBody(rotateSchema, r.body);
      const rotated = await admin.rotateSecret(actor, tenantId, m[1] ?? '', graceSeconds);
      return { status: 200, body: { endpoint: endpointView(rotated, true) } };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/attempts$`),
    run: async (m, r, _a, tenantId, admin) => {
      const limit = limitSchema.safeParse(r.query.limit);
      if (!limit.success) throw new WebhookRequestError('limit', 'must be a whole number from 1 to 1000');
      return {
        status: 200,
        body: { attempts: await admin.endpointAttempts(tenantId, m[1] ?? '', limit.data ?? 100) },
      };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/recover$`),
    run: async (m, r, actor, tenantId, admin) => {
      const { since } = parseBody(recoverSchema, r.body);
      return { status: 202, body: await admin.recover(actor, tenantId, m[1] ?? '', new Date(since)) };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/resend$`),
    run: async (m, r, actor, tenantId, admin) => {
      const { eventId } = parseBody(resendSchema, r.body);
      return { status: 202, body: await admin.resend(actor, tenantId, m[1] ?? '', eventId) };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/webhooks/endpoints/${ID}/test$`),
    run: async (m, r, actor, tenantId, admin) => {
      parseBody(z.strictObject({}), r.body);
      return { status: 202, body: await admin.sendTest(actor, tenantId, m[1] ?? '') };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/webhooks/events/${ID}/attempts$`),
    run: async (m, _r, _a, tenantId, admin) => ({
      status: 200,
      body: await admin.eventAttempts(tenantId, m[1] ?? ''),
    }),
  },
  {
    method: 'GET',
    pattern: /^\/webhooks\/event-types$/,
    run: async (_m, _r, _a, tenantId, admin) => ({
      status: 200,
      body: { eventTypes: await admin.eventTypes(tenantId) },
    }),
  },
];

/** Handles one request: token → route → operation → response. Never throws. */
export async function handleWebhookApi(request: ApiRequest, ports: WebhookApiPorts): Promise<ApiResponse> {
  let identity: ConnectionIdentity;
  try {
    identity = await ports.verify(bearer(request.headers));
  } catch (caught) {
    if (caught instanceof TokenRejectedError) {
      return error(401, 'UNAUTHORIZED', `${caught.message} (send "Authorization: Bearer <token>")`);
    }
    ports.logError?.('token verification failed', caught);
    return error(500, 'INTERNAL', 'token verification failed');
  }
  const candidates = ROUTES.map((route) => ({ route, match: route.pattern.exec(request.path) })).filter(
    (c) => c.match !== null,
  );
  if (candidates.length === 0) return error(404, 'NOT_FOUND', `no route ${request.path}`);
  const chosen = candidates.find((c) => c.route.method === request.method.toUpperCase());
  if (!chosen?.match) {
    return error(
      405,
      'METHOD_NOT_ALLOWED',
      `${request.method} is not allowed on ${request.path} (allowed: ${candidates.map((c) => c.route.method).join(', ')})`,
    );
  }
  if (request.body !== undefined && Buffer.byteLength(request.body) > MAX_API_BODY_BYTES) {
    return error(413, 'BODY_TOO_LARGE', `the request body exceeds ${MAX_API_BODY_BYTES} bytes`);
  }
  const actor: Actor = { via: 'api', subject: identity.subject };
  try {
    return await chosen.route.run(chosen.match, request, actor, identity.tenantId, ports.admin);
  } catch (caught) {
    if (caught instanceof WebhookEndpointNotFoundError)
      return error(404, 'NOT_FOUND', `no webhook endpoint ${caught.endpointId}`);
    if (caught instanceof WebhookEventNotFoundError)
      return error(404, 'NOT_FOUND', `no event ${caught.eventId}`);
    if (caught instanceof WebhookConfigurationError)
      return error(400, 'INVALID_SETTING', caught.message, caught.field);
    if (caught instanceof WebhookRequestError)
      return error(400, 'INVALID_REQUEST', caught.message, caught.field);
    ports.logError?.('webhook API operation failed', caught);
    return error(500, 'INTERNAL', 'the operation failed; nothing was changed or it may be retried');
  }
}
