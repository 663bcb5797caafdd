/**
 * Connection tokens: a JWT naming the tenant (`tenant`), the subject (`sub`) and optionally the
 * channels it may subscribe to (`channels`; absent = any channel of the tenant; an entry ending
 * in `*` allows every channel with that prefix). Verification takes the key as a port: a shared
 * HS256 secret, or an OIDC issuer's JWKS (see src/aws/jwtSecret.ts).
 */
import { errors, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import {
  describeNameRefusal,
  isValidName,
  nameRefusalOfIssues,
  subjectSchema,
  tenantIdSchema,
} from './names.js';
import { TokenRejectedError } from './websocketErrors.js';

/** A `channels` entry: a channel name, or a channel-name prefix followed by `*` (`*` alone: any). */
const channelPatternSchema = z
  .string()
  .refine(
    (entry) => entry === '*' || isValidName('channel', entry.endsWith('*') ? entry.slice(0, -1) : entry),
    {
      message: 'must be a channel name (docs/names.md), optionally followed by *',
    },
  );

/** `sub` and `tenant` follow the name rules of `names.ts` (docs/names.md). */
export const tokenClaimsSchema = z.object({
  sub: subjectSchema,
  tenant: tenantIdSchema,
  channels: z.array(channelPatternSchema).max(100).optional(),
});

/** Who a connection belongs to, as the authorizer hands it to every route. */
export interface ConnectionIdentity {
  readonly tenantId: string;
  readonly subject: string;
  /** Channels the token allows; `undefined` = any channel of the tenant. */
  readonly allowedChannels: readonly string[] | undefined;
}

export type TokenKey = Uint8Array | JWTVerifyGetKey;

export interface TokenVerifyOptions {
  readonly issuer?: string;
  readonly audience?: string;
  /** Allowed clock skew in seconds. */
  readonly clockToleranceSeconds?: number;
}

/** Verify a token and return the identity it names; throws `TokenRejectedError` with the refusal. */
export async function verifyConnectionToken(
  token: string | undefined,
  key: TokenKey,
  options: TokenVerifyOptions = {},
): Promise<ConnectionIdentity> {
  if (token === undefined || token === '')
    throw new TokenRejectedError('missing', 'No token in the query string');
  let payload: unknown;
  try {
    const verifyOptions = {
      // A shared secret only ever signs HS256; a JWKS (OIDC) uses the issuer's asymmetric algorithms.
      algorithms:
        key instanceof Uint8Array ? ['HS256'] : ['RS256', 'ES256', 'RS384', 'ES384', 'RS512', 'PS256'],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 5,
    };
    const result =
      key instanceof Uint8Array
        ? await jwtVerify(token, key, verifyOptions)
        : await jwtVerify(token, key, verifyOptions);
    payload = result.payload;
  } catch (error) {
    throw toRejection(error);
  }
  const claims = tokenClaimsSchema.safeParse(payload);
  if (!claims.success) {
    const name = nameRefusalOfIssues(claims.error.issues);
    throw new TokenRejectedError(
      'bad_claims',
      name
        ? `The token's ${name.path} claim is not a valid name: ${describeNameRefusal(name.kind, name.refusal)}`
        : 'The token must carry `sub`, `tenant` and optionally `channels`',
    );
  }
  return { tenantId: claims.data.tenant, subject: claims.data.sub, allowedChannels: claims.data.channels };
}

function toRejection(error: unknown): TokenRejectedError {
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'The token has expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError('bad_signature', 'The token signature does not verify');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejectedError('wrong_issuer', `The token claim "${error.claim}" is not accepted`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenRejectedError('bad_signature', 'The token algorithm is not accepted');
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return new TokenRejectedError('bad_signature', 'No key matches the token');
  return new TokenRejectedError('malformed', 'The token is not a valid JWT');
}

/** Whether a token's channel list allows `channel` (`undefined` = any; `prefix*` = any with that prefix). */
export function isChannelAllowed(allowed: readonly string[] | undefined, channel: string): boolean {
  if (allowed === undefined) return true;
  return allowed.some((entry) =>
    entry.endsWith('*') ? channel.startsWith(entry.slice(0, -1)) : entry === channel,
  );
}

export interface MintTokenInput {
  readonly tenantId: string;
  readonly subject: string;
  readonly channels?: readonly string[];
  /** Lifetime in seconds (default 1 hour); negative values mint an already expired token (tests). */
  readonly expiresInSeconds?: number;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Mint an HS256 token (dev CLI, tests, examples). Production tokens come from the application's login. */
export async function mintConnectionToken(input: MintTokenInput, secret: Uint8Array): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    tenant: input.tenantId,
    ...(input.channels ? { channels: [...input.channels] } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + (input.expiresInSeconds ?? 3600));
  if (input.issuer) jwt.setIssuer(input.issuer);
  if (input.audience) jwt.setAudience(input.audience);
  return jwt.sign(secret);
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}
