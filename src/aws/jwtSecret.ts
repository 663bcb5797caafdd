/**
 * The `$connect` token verifier, configured from the environment and cached at module scope
 * (one Secrets Manager read / one JWKS cache per warm Lambda):
 * - OIDC (Cognito or any issuer): `JWT_JWKS_URL` (+ `JWT_ISSUER`, `JWT_AUDIENCE`), verified with jose's remote JWKS;
 * - otherwise HS256 with the secret in `JWT_SECRET` (local/dev) or in the Secrets Manager secret `JWT_SECRET_ARN`
 *   (SecretString, either the secret itself or JSON `{"secret": "..."}`).
 * `JWT_ISSUER` / `JWT_AUDIENCE`, when set, are checked in both modes; `JWT_MAX_LIFETIME_SECONDS` caps `exp - iat`.
 *
 * Rotation: tokens verify against the current secret and, when there is one, the previous version
 * (`JWT_SECRET_PREVIOUS` locally; the `AWSPREVIOUS` stage in Secrets Manager), so clients holding a
 * token signed just before a rotation are not dropped. A signature that matches neither makes a
 * warm authorizer re-read the secret (at most once a minute), so a rotation is seen without a cold start.
 */
import { createRemoteJWKSet } from 'jose';
import * as z from 'zod/mini';
import {
  type ConnectionIdentity,
  JWT_ENV,
  maxTokenLifetimeFromEnv,
  secretKey,
  type TokenKeys,
  verifyConnectionToken,
} from '../core/token.js';
import { TokenRejectedError } from '../core/websocketErrors.js';
import { MissingConfigurationError, optionalEnv } from './env.js';
import { isAwsError } from './sdk/awsErrors.js';
import { GetSecretValueCommand, getSecretsSender } from './sdk/secretsManager.js';

export { JWT_ENV } from '../core/token.js';

export type TokenVerifier = (token: string | undefined) => Promise<ConnectionIdentity>;

let cachedKey: Promise<TokenKeys> | undefined;
let cachedAt = 0;
let cachedFor: string | undefined;

/** A warm authorizer re-reads the secret after a signature mismatch at most this often. */
export const SECRET_RELOAD_INTERVAL_MS = 60_000;

const secretJsonSchema = z.object({ secret: z.string().check(z.minLength(1)) });

function secretOf(value: string): string {
  try {
    const parsed = secretJsonSchema.safeParse(JSON.parse(value));
    if (parsed.success) return parsed.data.secret;
  } catch {
    // not JSON: the string is the secret itself
  }
  return value;
}

async function readSecretVersion(arn: string, stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string> {
  const result = await getSecretsSender().send(
    new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }),
  );
  return secretOf(result.SecretString ?? '');
}

async function loadKey(): Promise<TokenKeys> {
  const jwksUrl = optionalEnv(JWT_ENV.jwksUrl);
  if (jwksUrl) return createRemoteJWKSet(new URL(jwksUrl));
  const secret = optionalEnv(JWT_ENV.secret);
  if (secret) {
    const previous = optionalEnv(JWT_ENV.previousSecret);
    return previous ? [secretKey(secret), secretKey(previous)] : [secretKey(secret)];
  }
  const arn = optionalEnv(JWT_ENV.secretArn);
  if (!arn)
    throw new MissingConfigurationError(`${JWT_ENV.secret} or ${JWT_ENV.secretArn} or ${JWT_ENV.jwksUrl}`);
  const current = await readSecretVersion(arn, 'AWSCURRENT');
  if (current === '') throw new MissingConfigurationError(`${JWT_ENV.secretArn} (the secret is empty)`);
  let previous = '';
  try {
    previous = await readSecretVersion(arn, 'AWSPREVIOUS');
  } catch (error) {
    // A secret that was never rotated has no AWSPREVIOUS version.
    if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
  }
  return previous === '' || previous === current
    ? [secretKey(current)]
    : [secretKey(current), secretKey(previous)];
}

/** The verifier for this process's configuration (key material cached after the first call). */
export function getTokenVerifier(): TokenVerifier {
  return async (token) => {
    // Keyed on the configuration, so a process that restarts the offline runtime with a new secret re-reads it.
    const config = [JWT_ENV.jwksUrl, JWT_ENV.secret, JWT_ENV.previousSecret, JWT_ENV.secretArn]
      .map((name) => optionalEnv(name) ?? '')
      .join('\n');
    if (cachedFor !== config) {
      cachedKey = undefined;
      cachedFor = config;
    }
    const options = {
      issuer: optionalEnv(JWT_ENV.issuer),
      audience: optionalEnv(JWT_ENV.audience),
      maxLifetimeSeconds: maxTokenLifetimeFromEnv(process.env),
    };
    try {
      return await verifyConnectionToken(token, await keys(), options);
    } catch (error) {
      const stale = Date.now() - cachedAt >= SECRET_RELOAD_INTERVAL_MS;
      // The secret may have been rotated since this warm instance read it: read it again, once.
      if (!(error instanceof TokenRejectedError && error.refusal === 'bad_signature' && stale)) throw error;
      if (optionalEnv(JWT_ENV.jwksUrl)) throw error; // jose's JWKS set refreshes itself
      cachedKey = undefined;
      return verifyConnectionToken(token, await keys(), options);
    }
  };
}

function keys(): Promise<TokenKeys> {
  if (cachedKey === undefined) {
    cachedAt = Date.now();
    cachedKey = loadKey().catch((error: unknown) => {
      cachedKey = undefined; // do not cache a failed Secrets Manager read
      throw error;
    });
  }
  return cachedKey;
}

/** Forget the cached key (tests that change the environment). */
export function resetTokenVerifierCache(): void {
  cachedKey = undefined;
}
