/**
 * The `$connect` token verifier, configured from the environment and cached at module scope
 * (one Secrets Manager read / one JWKS cache per warm Lambda):
 * - OIDC (Cognito or any issuer): `JWT_JWKS_URL` (+ `JWT_ISSUER`, `JWT_AUDIENCE`), verified with jose's remote JWKS;
 * - otherwise HS256 with the secret in `JWT_SECRET` (local/dev) or in the Secrets Manager secret `JWT_SECRET_ARN`
 *   (SecretString, either the secret itself or JSON `{"secret": "..."}`).
 * `JWT_ISSUER` / `JWT_AUDIENCE`, when set, are checked in both modes.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createRemoteJWKSet } from 'jose';
import * as z from 'zod';
import { type ConnectionIdentity, secretKey, type TokenKey, verifyConnectionToken } from '../core/token.js';
import { MissingConfigurationError, optionalEnv } from './env.js';

export const JWT_ENV = {
  secret: 'JWT_SECRET',
  secretArn: 'JWT_SECRET_ARN',
  issuer: 'JWT_ISSUER',
  audience: 'JWT_AUDIENCE',
  jwksUrl: 'JWT_JWKS_URL',
} as const;

export type TokenVerifier = (token: string | undefined) => Promise<ConnectionIdentity>;

let cachedKey: Promise<TokenKey> | undefined;
let cachedFor: string | undefined;
let secretsClient: SecretsManagerClient | undefined;

const secretJsonSchema = z.object({ secret: z.string().min(1) });

async function loadKey(): Promise<TokenKey> {
  const jwksUrl = optionalEnv(JWT_ENV.jwksUrl);
  if (jwksUrl) return createRemoteJWKSet(new URL(jwksUrl));
  const secret = optionalEnv(JWT_ENV.secret);
  if (secret) return secretKey(secret);
  const arn = optionalEnv(JWT_ENV.secretArn);
  if (!arn)
    throw new MissingConfigurationError(`${JWT_ENV.secret} or ${JWT_ENV.secretArn} or ${JWT_ENV.jwksUrl}`);
  secretsClient ??= new SecretsManagerClient({});
  const result = await secretsClient.send(new GetSecretValueCommand({ SecretId: arn }));
  const value = result.SecretString ?? '';
  let fromJson: string | undefined;
  try {
    const parsed = secretJsonSchema.safeParse(JSON.parse(value));
    fromJson = parsed.success ? parsed.data.secret : undefined;
  } catch {
    fromJson = undefined;
  }
  const resolved = fromJson ?? value;
  if (resolved === '') throw new MissingConfigurationError(`${JWT_ENV.secretArn} (the secret is empty)`);
  return secretKey(resolved);
}

/** The verifier for this process's configuration (key material cached after the first call). */
export function getTokenVerifier(): TokenVerifier {
  return async (token) => {
    // Keyed on the configuration, so a process that restarts the offline runtime with a new secret re-reads it.
    const config = [JWT_ENV.jwksUrl, JWT_ENV.secret, JWT_ENV.secretArn]
      .map((name) => optionalEnv(name) ?? '')
      .join('\n');
    if (cachedFor !== config) {
      cachedKey = undefined;
      cachedFor = config;
    }
    cachedKey ??= loadKey().catch((error: unknown) => {
      cachedKey = undefined; // do not cache a failed Secrets Manager read
      throw error;
    });
    const key = await cachedKey;
    return verifyConnectionToken(token, key, {
      issuer: optionalEnv(JWT_ENV.issuer),
      audience: optionalEnv(JWT_ENV.audience),
    });
  };
}

/** Forget the cached key (tests that change the environment). */
export function resetTokenVerifierCache(): void {
  cachedKey = undefined;
}
