import { describe, expect, it } from 'vitest';
import {
  isChannelAllowed,
  mintConnectionToken,
  secretKey,
  verifyConnectionToken,
} from '../../src/core/token.js';
import { TokenRejectedError } from '../../src/core/websocketErrors.js';

const secret = secretKey('test-secret-0123456789');

async function refusalOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.refusal;
    throw error;
  }
  return 'accepted';
}

describe('connection token verification', () => {
  it('accepts a valid token and returns tenant, subject and allowed channels', async () => {
    const token = await mintConnectionToken(
      { tenantId: 't1', subject: 'agent-7', channels: ['orders'] },
      secret,
    );
    await expect(verifyConnectionToken(token, secret)).resolves.toEqual({
      tenantId: 't1',
      subject: 'agent-7',
      allowedChannels: ['orders'],
    });
  });

  it('treats an absent channels claim as any channel of the tenant', async () => {
    const token = await mintConnectionToken({ tenantId: 't1', subject: 's' }, secret);
    const identity = await verifyConnectionToken(token, secret);
    expect(identity.allowedChannels).toBeUndefined();
  });

  it('refuses a missing token', async () => {
    expect(await refusalOf(verifyConnectionToken(undefined, secret))).toBe('missing');
    expect(await refusalOf(verifyConnectionToken('', secret))).toBe('missing');
    // The same check guards the HTTP API (a header), so the message names no transport.
    await expect(verifyConnectionToken(undefined, secret)).rejects.toThrow(/^No token was sent$/);
  });

  it('refuses an expired token', async () => {
    const token = await mintConnectionToken({ tenantId: 't1', subject: 's', expiresInSeconds: -60 }, secret);
    expect(await refusalOf(verifyConnectionToken(token, secret))).toBe('expired');
  });

  it('refuses a token signed with another secret', async () => {
    const token = await mintConnectionToken(
      { tenantId: 't1', subject: 's' },
      secretKey('another-secret-xyz'),
    );
    expect(await refusalOf(verifyConnectionToken(token, secret))).toBe('bad_signature');
  });

  it('refuses garbage as malformed', async () => {
    expect(await refusalOf(verifyConnectionToken('not.a.jwt', secret))).toBe('malformed');
  });

  it('refuses a token without a tenant claim', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('s')
      .setExpirationTime('1h')
      .sign(secret);
    expect(await refusalOf(verifyConnectionToken(token, secret))).toBe('bad_claims');
  });

  it('refuses an unsigned (alg none) token', async () => {
    const { UnsecuredJWT } = await import('jose');
    const token = new UnsecuredJWT({ tenant: 't1' }).setSubject('s').setExpirationTime('1h').encode();
    expect(await refusalOf(verifyConnectionToken(token, secret))).not.toBe('accepted');
  });

  it('checks issuer and audience when configured', async () => {
    const token = await mintConnectionToken(
      { tenantId: 't1', subject: 's', issuer: 'me', audience: 'ws' },
      secret,
    );
    await expect(
      verifyConnectionToken(token, secret, { issuer: 'me', audience: 'ws' }),
    ).resolves.toMatchObject({ tenantId: 't1' });
    expect(await refusalOf(verifyConnectionToken(token, secret, { issuer: 'someone-else' }))).toBe(
      'wrong_issuer',
    );
  });

  it('keeps tenants apart: the tenant comes from the signed token only', async () => {
    const token = await mintConnectionToken({ tenantId: 'tenant-a', subject: 's' }, secret);
    const identity = await verifyConnectionToken(token, secret);
    expect(identity.tenantId).toBe('tenant-a');
    // Tampering with the payload to claim another tenant breaks the signature.
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ tenant: 'tenant-b', sub: 's', exp: 9_999_999_999 })).toString(
      'base64url',
    );
    expect(await refusalOf(verifyConnectionToken(`${header}.${forged}.${signature}`, secret))).toBe(
      'bad_signature',
    );
  });
});

describe('channel permissions', () => {
  it('allows any channel without a list, exact names and prefix wildcards with one', () => {
    expect(isChannelAllowed(undefined, 'x')).toBe(true);
    expect(isChannelAllowed(['orders'], 'orders')).toBe(true);
    expect(isChannelAllowed(['orders'], 'orders2')).toBe(false);
    expect(isChannelAllowed(['orders.*'], 'orders.eu')).toBe(true);
    expect(isChannelAllowed(['orders.*'], 'billing')).toBe(false);
    expect(isChannelAllowed([], 'orders')).toBe(false);
  });
});
