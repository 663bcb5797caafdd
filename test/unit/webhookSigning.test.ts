import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { activeSecrets, generateSecret, rotateSecret } from '../../src/core/webhookEndpoint.js';
import { signWebhook, webhookBody } from '../../src/core/webhookSigning.js';
import { endpointFactory, envelopeFactory } from './webhookFactories.js';

function headersOf(signed: ReturnType<typeof signWebhook>): Record<string, string> {
  return { ...signed };
}

describe('Standard Webhooks signing', () => {
  it('produces headers that the standardwebhooks library verifies', () => {
    const secret = generateSecret();
    const body = webhookBody(envelopeFactory({ id: 'evt_sig' }), 'full');
    const signed = signWebhook({ id: 'evt_sig', timestamp: new Date(), body, secrets: [secret] });
    expect(signed['webhook-id']).toBe('evt_sig');
    expect(signed['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headersOf(signed))).toMatchObject({
      id: 'evt_sig',
      data: { total: 42 },
    });
  });

  it('signs exactly as the standardwebhooks library does, for any id, time and body (multi-byte, NUL)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (id, ms, body, key) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`;
          const timestamp = new Date(ms);
          const signed = signWebhook({ id, timestamp, body, secrets: [secret] });
          expect(signed['webhook-signature']).toBe(new Webhook(secret).sign(id, timestamp, body));
        },
      ),
    );
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('fails verification with another secret or a changed body', () => {
    const body = '{"a":1}';
    const signed = signWebhook({ id: 'evt_x', timestamp: new Date(), body, secrets: [generateSecret()] });
    expect(() => new Webhook(generateSecret()).verify(body, headersOf(signed))).toThrow(
      /No matching signature/,
    );
  });

  it('signs with both secrets during a rotation, space-separated, so either verifies', () => {
    const now = new Date();
    const before = endpointFactory();
    const oldSecret = before.secrets[0]?.secret ?? '';
    const rotated = rotateSecret(before, { now, graceSeconds: 3600 });
    const newSecret = rotated.secrets[0]?.secret ?? '';
    expect(activeSecrets(rotated, now)).toEqual([newSecret, oldSecret]);
    const body = '{"b":2}';
    const signed = signWebhook({ id: 'evt_r', timestamp: now, body, secrets: activeSecrets(rotated, now) });
    expect(signed['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headersOf(signed))).toEqual({ b: 2 });
    expect(new Webhook(newSecret).verify(body, headersOf(signed))).toEqual({ b: 2 });
  });

  it('stops signing with the old secret after the grace period', () => {
    const now = new Date('2026-11-20T10:00:00Z');
    const rotated = rotateSecret(endpointFactory(), { now, graceSeconds: 60 });
    expect(activeSecrets(rotated, new Date('2026-11-20T10:00:59Z'))).toHaveLength(2);
    expect(activeSecrets(rotated, new Date('2026-11-20T10:01:01Z'))).toEqual([rotated.secrets[0]?.secret]);
  });

  it('sends the envelope without data to summary endpoints', () => {
    const envelope = envelopeFactory();
    expect(JSON.parse(webhookBody(envelope, 'summary'))).not.toHaveProperty('data');
    expect(JSON.parse(webhookBody(envelope, 'summary'))).toMatchObject({
      id: envelope.id,
      type: envelope.type,
    });
    expect(JSON.parse(webhookBody(envelope, 'full'))).toEqual(envelope);
  });
});
