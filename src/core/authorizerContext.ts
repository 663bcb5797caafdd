/**
 * The REQUEST authorizer's context: API Gateway passes it to `$connect` and to every later route
 * of the connection as `requestContext.authorizer`. Context values must be strings, numbers or
 * booleans, so the channel list travels as a JSON string (`""` = any channel of the tenant).
 */
import * as z from 'zod/mini';
import { subjectSchema, tenantIdSchema } from './names.js';
import type { ConnectionIdentity } from './token.js';

export interface AuthorizerContext {
  readonly tenantId: string;
  readonly sub: string;
  readonly channels: string;
  readonly [key: string]: string;
}

export function toAuthorizerContext(identity: ConnectionIdentity): AuthorizerContext {
  return {
    tenantId: identity.tenantId,
    sub: identity.subject,
    channels: identity.allowedChannels === undefined ? '' : JSON.stringify(identity.allowedChannels),
  };
}

const channelsJson = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    if (text === '') return undefined;
    try {
      const parsed = z.array(z.string()).safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through
    }
    ctx.issues.push({
      code: 'custom',
      message: 'channels must be a JSON array of strings or ""',
      input: text,
    });
    return z.NEVER;
  }),
);

/** Checked again on every route (names: docs/names.md), so no route trusts a name it did not check. */
export const authorizerContextSchema = z.object({
  tenantId: tenantIdSchema,
  sub: subjectSchema,
  channels: z.optional(channelsJson),
});

/** The identity from `requestContext.authorizer`, or undefined when it is absent or malformed. */
export function identityFromAuthorizer(authorizer: unknown): ConnectionIdentity | undefined {
  const parsed = authorizerContextSchema.safeParse(authorizer);
  if (!parsed.success) return undefined;
  return { tenantId: parsed.data.tenantId, subject: parsed.data.sub, allowedChannels: parsed.data.channels };
}
