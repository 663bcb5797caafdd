import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getTokenVerifier, JWT_ENV, resetTokenVerifierCache } from '../../src/aws/jwtSecret.js';
import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  MAX_TOKEN_LIFETIME_ENV,
  maxTokenLifetimeFromEnv,
  mintConnectionToken,
  secretKey,
  verifyConnectionToken,
} from '../../src/core/token.js';
import { TOKEN_REFUSALS, TokenRejectedError } from '../../src/core/websocketErrors.js';

const secret = secretKey('test-secret-0123456789');
const now = () => Math.floor(Date.now() / 1000);

async function refusalOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.refusal;
    throw error;
  }
  return 'accepted';
}

function signed(claims: Record<string, unknown>, key = secret): Promise<string> {
  return new SignJWT({ tenant: 't1', sub: 's', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
}

describe('token rules', () => {
  it('refuses a token without exp with its own reason', async () => {
    expect(await refusalOf(verifyConnectionToken(await signed({ iat: now() }), secret))).toBe('missing_exp');
  });

  it('refuses a lifetime above the maximum (default 24 h), measured from iat', async () => {
    const iat = now();
    const dayPlus = await signed({ iat, exp: iat + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + 3600 });
    expect(await refusalOf(verifyConnectionToken(dayPlus, secret))).toBe('lifetime_too_long');
    const day = await signed({ iat, exp: iat + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS });
    expect(await refusalOf(verifyConnectionToken(day, secret))).toBe('accepted');
  });

  it('measures the lifetime from now when iat is absent', async () => {
    const long = await signed({ exp: now() + 2 * DEFAULT_MAX_TOKEN_LIFETIME_SECONDS });
    expect(await refusalOf(verifyConnectionToken(long, secret))).toBe('lifetime_too_long');
    const short = await signed({ exp: now() + 600 });
    expect(await refusalOf(verifyConnectionToken(short, secret))).toBe('accepted');
  });

  it('honours a configured maximum', async () => {
    const token = await mintConnectionToken({ tenantId: 't1', subject: 's', expiresInSeconds: 7200 }, secret);
    expect(await refusalOf(verifyConnectionToken(token, secret, { maxLifetimeSeconds: 3600 }))).toBe(
      'lifetime_too_long',
    );
    expect(await refusalOf(verifyConnectionToken(token, secret, { maxLifetimeSeconds: 7200 }))).toBe(
      'accepted',
    );
  });

  it('refuses a future nbf as not_yet_valid, not wrong_issuer', async () => {
    const token = await signed({ iat: now(), nbf: now() + 600, exp: now() + 1200 });
    expect(await refusalOf(verifyConnectionToken(token, secret))).toBe('not_yet_valid');
  });

  it.each([
    ['exp as a string', { exp: 'tomorrow' }],
    ['nbf as a string', { exp: 4_000_000_000, nbf: 'now' }],
    ['iat as an object', { exp: 4_000_000_000, iat: { at: 1 } }],
  ])('refuses malformed registered claims (%s) as bad_claims', async (_name, claims) => {
    expect(await refusalOf(verifyConnectionToken(await signed(claims), secret))).toBe('bad_claims');
  });

  it('refuses malformed own claims (tenant not a string) as bad_claims', async () => {
    const token = await signed({ tenant: 42, iat: now(), exp: now() + 60 });
    expect(await refusalOf(verifyConnectionToken(token, secret))).toBe('bad_claims');
  });

  it('keeps wrong_issuer for a token of another issuer', async () => {
    const token = await mintConnectionToken({ tenantId: 't1', subject: 's', issuer: 'them' }, secret);
    expect(await refusalOf(verifyConnectionToken(token, secret, { issuer: 'me' }))).toBe('wrong_issuer');
  });

  it('verifies against the current and the previous secret (rotation)', async () => {
    const previous = secretKey('previous-secret-abcdef');
    const current = secretKey('current-secret-123456');
    const old = await mintConnectionToken({ tenantId: 't1', subject: 's' }, previous);
    const fresh = await mintConnectionToken({ tenantId: 't1', subject: 's' }, current);
    expect(await refusalOf(verifyConnectionToken(old, [current, previous]))).toBe('accepted');
    expect(await refusalOf(verifyConnectionToken(fresh, [current, previous]))).toBe('accepted');
    // Once the previous version is gone, its tokens are refused.
    expect(await refusalOf(verifyConnectionToken(old, [current]))).toBe('bad_signature');
  });

  it('does not try the previous secret to rescue an expired token', async () => {
    const previous = secretKey('previous-secret-abcdef');
    const expired = await mintConnectionToken(
      { tenantId: 't1', subject: 's', expiresInSeconds: -120 },
      previous,
    );
    expect(await refusalOf(verifyConnectionToken(expired, [secret, previous]))).toBe('expired');
  });

  it('reads the maximum from JWT_MAX_LIFETIME_SECONDS and refuses a bad value', () => {
    expect(maxTokenLifetimeFromEnv({})).toBe(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
    expect(maxTokenLifetimeFromEnv({ [MAX_TOKEN_LIFETIME_ENV]: '3600' })).toBe(3600);
    expect(() => maxTokenLifetimeFromEnv({ [MAX_TOKEN_LIFETIME_ENV]: '1h' })).toThrow(RangeError);
    expect(() => maxTokenLifetimeFromEnv({ [MAX_TOKEN_LIFETIME_ENV]: '0' })).toThrow(RangeError);
  });
});

describe('token parsing never throws anything but a refusal', () => {
  const refusals = new Set<string>(TOKEN_REFUSALS);
  const check = async (token: string) => {
    try {
      await verifyConnectionToken(token, secret);
      return false; // a random string never verifies
    } catch (error) {
      return error instanceof TokenRejectedError && refusals.has(error.refusal);
    }
  };

  it('on arbitrary strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), async (text) => (await check(text)) || text === ''),
      { numRuns: 10_000 },
    );
  });

  it('on three dot-separated base64url parts of arbitrary JSON', async () => {
    const part = fc
      .oneof(fc.jsonValue(), fc.string({ unit: 'binary' }))
      .map((value) =>
        Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url'),
      );
    await fc.assert(
      fc.asyncProperty(part, part, fc.string(), async (header, payload, signature) =>
        check(`${header}.${payload}.${signature}`),
      ),
      { numRuns: 10_000 },
    );
  });

  it('on correctly signed tokens with arbitrary claims', async () => {
    const claims = fc.dictionary(
      fc.constantFrom('exp', 'nbf', 'iat', 'tenant', 'sub', 'channels', 'iss', 'aud', 'x'),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(claims, async (payload) => {
        const token = await new SignJWT(payload as Record<string, unknown>)
          .setProtectedHeader({ alg: 'HS256' })
          .sign(secret);
        try {
          await verifyConnectionToken(token, secret);
          return true; // some random claims are a valid token: fine
        } catch (error) {
          return error instanceof TokenRejectedError && refusals.has(error.refusal);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('the authorizer verifier keeps the previous secret through a rotation', () => {
  const secrets = mockClient(SecretsManagerClient);
  const saved = { ...process.env };

  beforeEach(() => {
    secrets.reset();
    resetTokenVerifierCache();
    for (const name of Object.values(JWT_ENV)) delete process.env[name];
    process.env[JWT_ENV.secretArn] = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt';
  });
  afterEach(() => {
    process.env = { ...saved };
    resetTokenVerifierCache();
    vi.useRealTimers();
  });

  it('accepts tokens of AWSCURRENT and AWSPREVIOUS', async () => {
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'new-secret-value' })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: JSON.stringify({ secret: 'old-secret-value' }) });
    const verify = getTokenVerifier();
    const old = await mintConnectionToken({ tenantId: 't1', subject: 'a' }, secretKey('old-secret-value'));
    const fresh = await mintConnectionToken({ tenantId: 't1', subject: 'b' }, secretKey('new-secret-value'));
    await expect(verify(old)).resolves.toMatchObject({ subject: 'a' });
    await expect(verify(fresh)).resolves.toMatchObject({ subject: 'b' });
    const foreign = await mintConnectionToken({ tenantId: 't1', subject: 'c' }, secretKey('nope'));
    expect(await refusalOf(verify(foreign))).toBe('bad_signature');
  });

  it('works with a secret that was never rotated (no AWSPREVIOUS)', async () => {
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'only-secret' })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .rejects(new ResourceNotFoundException({ message: 'no previous', $metadata: {} }));
    const token = await mintConnectionToken({ tenantId: 't1', subject: 'a' }, secretKey('only-secret'));
    await expect(getTokenVerifier()(token)).resolves.toMatchObject({ tenantId: 't1' });
  });

  it('a warm verifier re-reads the secret after a rotation instead of refusing the new tokens', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'v1' })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .rejects(new ResourceNotFoundException({ message: 'no previous', $metadata: {} }));
    const verify = getTokenVerifier();
    await expect(
      verify(await mintConnectionToken({ tenantId: 't1', subject: 'a' }, secretKey('v1'))),
    ).resolves.toBeDefined();
    // Rotation: v2 becomes current, v1 previous.
    secrets.reset();
    secrets
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'v2' })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: 'v1' });
    vi.setSystemTime(Date.now() + 61_000);
    const v2 = await mintConnectionToken({ tenantId: 't1', subject: 'b' }, secretKey('v2'));
    await expect(verify(v2)).resolves.toMatchObject({ subject: 'b' });
    const v1 = await mintConnectionToken({ tenantId: 't1', subject: 'c' }, secretKey('v1'));
    await expect(verify(v1)).resolves.toMatchObject({ subject: 'c' });
  });

  it('in dev, JWT_SECRET_PREVIOUS keeps the previous secret', async () => {
    delete process.env[JWT_ENV.secretArn];
    process.env[JWT_ENV.secret] = 'dev-current';
    process.env[JWT_ENV.previousSecret] = 'dev-previous';
    const old = await mintConnectionToken({ tenantId: 't1', subject: 'a' }, secretKey('dev-previous'));
    await expect(getTokenVerifier()(old)).resolves.toMatchObject({ subject: 'a' });
  });

  it('applies JWT_MAX_LIFETIME_SECONDS', async () => {
    delete process.env[JWT_ENV.secretArn];
    process.env[JWT_ENV.secret] = 'dev-current';
    process.env[MAX_TOKEN_LIFETIME_ENV] = '600';
    const token = await mintConnectionToken(
      { tenantId: 't1', subject: 'a', expiresInSeconds: 3600 },
      secretKey('dev-current'),
    );
    expect(await refusalOf(getTokenVerifier()(token))).toBe('lifetime_too_long');
  });
});
