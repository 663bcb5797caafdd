/**
 * The hand-written SigV4 signer: AWS's published test vectors (sig-v4 test suite, `get-vanilla`,
 * `post-vanilla`), and the same signature as the SDK's own signer (@smithy/signature-v4) for
 * `@connections` posts with ids that need escaping, temporary credentials and hostile bodies; the
 * fan-out's fast path (`createPostSigner`) against both.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  amzDate,
  canonicalPath,
  canonicalPathsUnder,
  createPostSigner,
  hmacSha256HexWithKey,
  prepareBody,
  signRequest,
} from '../../src/aws/sigv4.js';

const VECTOR_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const VECTOR_SCOPE = { region: 'us-east-1', service: 'service' };
const VECTOR_DATE = new Date('2015-08-30T12:36:00Z');

function signatureOf(authorization: string | undefined): string | undefined {
  return /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1];
}

describe('signRequest', () => {
  it('matches the AWS test suite vector get-vanilla', () => {
    const headers = signRequest(
      { method: 'GET', host: 'example.amazonaws.com', path: '/', body: '' },
      VECTOR_CREDENTIALS,
      VECTOR_SCOPE,
      VECTOR_DATE,
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('matches the AWS test suite vector post-vanilla', () => {
    const headers = signRequest(
      { method: 'POST', host: 'example.amazonaws.com', path: '/', body: '' },
      VECTOR_CREDENTIALS,
      VECTOR_SCOPE,
      VECTOR_DATE,
    );
    expect(signatureOf(headers.authorization)).toBe(
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    );
  });

  it('escapes each path segment once more (an encoded id signs double-encoded)', () => {
    expect(canonicalPath('/live/@connections/abc%3D')).toBe('/live/%40connections/abc%253D');
    // The SDK resolves dot segments before escaping; a signature must agree with it.
    expect(canonicalPath('/live/@connections/.')).toBe('/live/%40connections');
    expect(canonicalPath('/live/@connections/..')).toBe('/live');
    expect(amzDate(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102T030405Z');
  });

  type SourceData = string | ArrayBuffer | ArrayBufferView;
  const bytes = (data: SourceData): string | Uint8Array =>
    typeof data === 'string'
      ? data
      : ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);

  /** node:crypto behind the SDK's hash interface. */
  class NodeSha256 {
    private readonly hash: Hash | Hmac;
    constructor(secret?: SourceData) {
      this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
    }
    update(data: SourceData): void {
      this.hash.update(bytes(data));
    }
    digest(): Promise<Uint8Array> {
      return Promise.resolve(new Uint8Array(this.hash.digest()));
    }
    reset(): void {}
  }

  it('signs @connections posts exactly as the SDK signer does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('.', '..', '...')),
        fc.string({ maxLength: 200 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{10,60}$/), { nil: undefined }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        async (connectionId, body, sessionToken, when) => {
          const credentials = { ...VECTOR_CREDENTIALS, ...(sessionToken ? { sessionToken } : {}) };
          const scope = { region: 'eu-west-1', service: 'execute-api' };
          const host = 'abc123.execute-api.eu-west-1.amazonaws.com';
          const path = `/live/@connections/${encodeURIComponent(connectionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
          const ours = signRequest({ method: 'POST', host, path, body }, credentials, scope, when);
          const label = path.slice('/live/@connections/'.length);
          const fast = createPostSigner(host, scope)(
            canonicalPathsUnder('/live/@connections')(label),
            prepareBody(body),
            credentials,
            when.getTime(),
          );
          const sdk = new SignatureV4({
            credentials,
            region: scope.region,
            service: scope.service,
            sha256: NodeSha256,
            applyChecksum: false,
          });
          const signed = await sdk.sign(
            { method: 'POST', protocol: 'https:', hostname: host, path, headers: { host }, body, query: {} },
            { signingDate: when },
          );
          expect(ours.authorization).toBe(signed.headers.authorization);
          expect(fast.authorization).toBe(signed.headers.authorization);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** The SDK's label encoding, as `signedConnectionsPost.ts` builds the path. */
const encodeLabel = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('createPostSigner (the fan-out fast path)', () => {
  const hostileText = fc.string({ unit: 'binary', maxLength: 120 });
  const id = fc.oneof(
    hostileText,
    fc.constantFrom('', '.', '..', '...', '%', '%3D', 'a/b', 'a?b=c', 'abc=', '\u0000', ' a b '),
  );
  const time = fc.date({ min: new Date('1970-01-01'), max: new Date('2099-12-31'), noInvalidDate: true });
  const credentials = fc.record({
    accessKeyId: fc.constantFrom('AKIDEXAMPLE', 'ASIA1234567890'),
    secretAccessKey: fc.constantFrom('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'other-secret'),
    sessionToken: fc.option(fc.oneof(fc.constantFrom('', ' tok  en ', 'token'), hostileText), {
      nil: undefined,
    }),
  });

  it('produces exactly the headers signRequest produces, call after call (its caches included)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', '/live', '/prod/v1', '/a%20b', '/x/./y/../z'),
        fc.constantFrom('abc.execute-api.eu-west-1.amazonaws.com', '127.0.0.1:4510', ' spaced  host '),
        fc.array(fc.tuple(id, hostileText, credentials, time, fc.integer({ min: 0, max: 2_500 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (base, host, calls) => {
          const scope = { region: 'eu-west-1', service: 'execute-api' };
          const sign = createPostSigner(host, scope);
          const canonicalUri = canonicalPathsUnder(`${base}/@connections`);
          for (const [connectionId, body, creds, when, laterMs] of calls) {
            // The same second again (the date cache) and a moment later (maybe the next second).
            for (const at of [when.getTime(), when.getTime() + laterMs]) {
              const path = `${base}/@connections/${encodeLabel(connectionId)}`;
              const expected = signRequest({ method: 'POST', host, path, body }, creds, scope, new Date(at));
              const fast = sign(canonicalUri(encodeLabel(connectionId)), prepareBody(body), creds, at);
              expect(fast).toEqual(expected);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds the canonical path signRequest would, for any last segment', () => {
    fc.assert(
      fc.property(fc.constantFrom('', '/', '/live', '/a/b/', '/a/..', '/./x'), id, (base, segment) => {
        expect(canonicalPathsUnder(base)(segment)).toBe(canonicalPath(`${base}/${segment}`));
      }),
      { numRuns: 500 },
    );
  });

  it('computes HMAC-SHA256 as node:crypto does, call after call with one key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 100 }),
        fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 40 })), {
          maxLength: 6,
        }),
        (keyBytes, inputs) => {
          const key = Buffer.from(keyBytes);
          const mac = hmacSha256HexWithKey(key);
          for (const data of [...inputs, 'x'.repeat(700), '']) {
            expect(mac(data)).toBe(createHmac('sha256', key).update(data, 'utf8').digest('hex'));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hashes a body as its UTF-8 bytes', () => {
    const body = prepareBody('ünï ✓');
    expect(body.bytes.equals(Buffer.from('ünï ✓', 'utf8'))).toBe(true);
    expect(body.sha256).toBe(createHash('sha256').update(Buffer.from('ünï ✓', 'utf8')).digest('hex'));
  });
});
