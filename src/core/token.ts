/**
 * Connection tokens: a JWT naming the tenant (`tenant`), the subject (`sub`) and optionally the
 * channels it may subscribe to (`channels`; absent = any channel of the tenant; an entry ending
 * in `*` allows every channel with that prefix). Verification takes the key as a port: a shared
 * HS256 secret, or an OIDC issuer's JWKS (see src/aws/jwtSecret.ts).
 */
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import { type Env, readWholeNumber } from './envSettings.js';
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
/**
 * One key, or several HS256 secrets tried in order (current first, then the previous version),
 * so a secret can be rotated without refusing tokens signed just before the rotation.
 */
export type TokenKeys = TokenKey | readonly Uint8Array[];

/** Tokens may live at most a day by default: a leaked token must not stay useful for long. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** The authorizer's setting (`auth.maxTokenLifetimeSeconds` in the stack config). */
/** Where the token verifier's configuration comes from (src/aws/jwtSecret.ts); the stack sets them. */
export const JWT_ENV = {
  secret: 'JWT_SECRET',
  previousSecret: 'JWT_SECRET_PREVIOUS',
  secretArn: 'JWT_SECRET_ARN',
  issuer: 'JWT_ISSUER',
  audience: 'JWT_AUDIENCE',
  jwksUrl: 'JWT_JWKS_URL',
} as const;

export const MAX_TOKEN_LIFETIME_ENV = 'JWT_MAX_LIFETIME_SECONDS';

export interface TokenVerifyOptions {
  readonly issuer?: string;
  readonly audience?: string;
  /** Allowed clock skew in seconds. */
  readonly clockToleranceSeconds?: number;
  /** Longest accepted `exp - iat` (or `exp - now` without `iat`). @default DEFAULT_MAX_TOKEN_LIFETIME_SECONDS */
  readonly maxLifetimeSeconds?: number;
}

/** `JWT_MAX_LIFETIME_SECONDS` as a whole number of seconds ≥ 1; absent = the default; anything else throws. */
export function maxTokenLifetimeFromEnv(env: Env): number {
  return readWholeNumber(env, MAX_TOKEN_LIFETIME_ENV, {
    fallback: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    min: 1,
    unit: 'seconds',
  });
}

/** Verify a token and return the identity it names; throws `TokenRejectedError` with the refusal. */
export async function verifyConnectionToken(
  token: string | undefined,
  key: TokenKeys,
  options: TokenVerifyOptions = {},
): Promise<ConnectionIdentity> {
  if (token === undefined || token === '') throw new TokenRejectedError('missing', 'No token was sent');
  const payload = await verifiedPayload(token, key, options);
  checkLifetime(payload, options);
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

async function verifiedPayload(
  token: string,
  key: TokenKeys,
  options: TokenVerifyOptions,
): Promise<JWTPayload> {
  const keys: readonly TokenKey[] = key instanceof Uint8Array || typeof key === 'function' ? [key] : key;
  if (keys.length === 0) throw new TokenRejectedError('bad_signature', 'No key to verify the token with');
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  let lastRejection: TokenRejectedError | undefined;
  for (const candidate of keys) {
    try {
      const verifyOptions = {
        // A shared secret only ever signs HS256; a JWKS (OIDC) uses the issuer's asymmetric algorithms.
        algorithms:
          candidate instanceof Uint8Array
            ? ['HS256']
            : ['RS256', 'ES256', 'RS384', 'ES384', 'RS512', 'PS256'],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance,
        // A token without `exp` would be valid forever.
        requiredClaims: ['exp'],
      };
      const result =
        candidate instanceof Uint8Array
          ? await jwtVerify(token, candidate, verifyOptions)
          : await jwtVerify(token, candidate, verifyOptions);
      return result.payload;
    } catch (error) {
      lastRejection = toRejection(error);
      // Only a signature mismatch is worth trying the next (previous) secret for.
      if (lastRejection.refusal !== 'bad_signature') throw lastRejection;
    }
  }
  throw lastRejection ?? new TokenRejectedError('bad_signature', 'The token signature does not verify');
}

function checkLifetime(payload: JWTPayload, options: TokenVerifyOptions): void {
  const max = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const exp = payload.exp ?? 0;
  const start = payload.iat ?? Math.floor(Date.now() / 1000);
  if (exp - start > max + tolerance) {
    throw new TokenRejectedError(
      'lifetime_too_long',
      `The token lives ${exp - start} s; at most ${max} s is accepted`,
    );
  }
}

function toRejection(error: unknown): TokenRejectedError {
  if (error instanceof TokenRejectedError) return error;
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') {
      return new TokenRejectedError('missing_exp', 'The token must carry an expiry (`exp`)');
    }
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return new TokenRejectedError('not_yet_valid', 'The token is not valid yet (`nbf` is in the future)');
    }
    if (error.reason === 'invalid') {
      return new TokenRejectedError('bad_claims', `The token claim "${error.claim}" is malformed`);
    }
  }
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
