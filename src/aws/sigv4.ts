/**
 * AWS Signature Version 4 for one request, with `node:crypto` only: the fan-out signs one
 * `@connections` POST per message, and the SDK client's middleware stack costs several times the
 * request itself (performance.md). The signing key is cached per day, region and service.
 */
import { createHash, createHmac, hash } from 'node:crypto';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface RequestToSign {
  readonly method: string;
  /** Host header value (with the port when it is not the scheme's default). */
  readonly host: string;
  /** The path as sent on the wire (already percent-encoded). */
  readonly path: string;
  readonly body: Buffer | string;
  /** Extra headers to sign (lower-case names). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SigningScope {
  readonly region: string;
  readonly service: string;
}

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as AWS expects. */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Canonical URI as the SDK's signer builds it for every service but S3: empty, `.` and `..`
 * segments resolved first (as the SDK does), then each segment of the (already encoded) path
 * escaped once more, so `%3D` in an id signs as `%253D`.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const leading = path.startsWith('/') ? '/' : '';
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `${leading}${segments.map((segment) => uriEscape(segment)).join('/')}${trailing}`;
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One-shot SHA-256 (no Hash object per call): the fast path's canonical request. */
function sha256HexOnce(data: Buffer | string): string {
  return hash('sha256', data, 'hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string, day: string, scope: SigningScope): Buffer {
  const cacheKey = `${secret}\u0000${day}\u0000${scope.region}\u0000${scope.service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), scope.region), scope.service), 'aws4_request');
    if (signingKeys.size > 16) signingKeys.clear(); // rotated credentials: keep the map small
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * The headers to add to the request: `x-amz-date`, `x-amz-security-token` (temporary credentials)
 * and `authorization`. Signs `host`, those and the given headers, and the body's SHA-256.
 */
export function signRequest(
  request: RequestToSign,
  credentials: Credentials,
  scope: SigningScope,
  now: Date = new Date(),
): Record<string, string> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: request.host,
    'x-amz-date': date,
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  const [pathPart = '/', query = ''] = request.path.split('?', 2);
  const canonicalQuery = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [k = '', v = ''] = pair.split('=', 2);
      return [uriEscape(decodeURIComponent(k)), uriEscape(decodeURIComponent(v))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(pathPart),
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, scope))
    .update(stringToSign, 'utf8')
    .digest('hex');
  const { host: _host, ...added } = headers;
  return {
    ...added,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/**
 * `canonicalPath(\`${base}/${segment}\`)` for many segments under one base (the `@connections/{id}`
 * posts): the base's part is computed once, each segment escaped once more. A segment the
 * general rules would treat specially (empty, `.`, `..`, one holding `/` or `?`) takes the
 * general path.
 */
export function canonicalPathsUnder(base: string): (segment: string) => string {
  // `x` stands for any ordinary last segment: what precedes it is the same for every such one.
  const prefix = canonicalPath(`${base}/x`).slice(0, -1);
  return (segment) =>
    segment === '' || segment === '.' || segment === '..' || segment.includes('/') || segment.includes('?')
      ? canonicalPath(`${base}/${segment}`)
      : `${prefix}${uriEscape(segment)}`;
}

/**
 * HMAC-SHA256 under one key as two one-shot hashes (RFC 2104: H(K^opad || H(K^ipad || data))),
 * with the padded keys and the input buffer prepared once: an `Hmac` object per call cost the
 * fan-out's signer more than both of its hashes together.
 */
export function hmacSha256HexWithKey(key: Buffer): (data: string) => string {
  const block = 64;
  if (key.length > block) return (data) => createHmac('sha256', key).update(data, 'utf8').digest('hex');
  const outer = Buffer.alloc(block + 32);
  let inner = Buffer.alloc(block + 512);
  for (let i = 0; i < block; i++) {
    const k = key[i] ?? 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  return (data) => {
    // At most 3 bytes per UTF-16 unit: the whole string always fits.
    if (inner.length - block < data.length * 3) {
      const grown = Buffer.alloc(block + data.length * 3);
      inner.copy(grown, 0, 0, block);
      inner = grown;
    }
    const length = inner.write(data, block, 'utf8');
    hash('sha256', inner.subarray(0, block + length), 'buffer').copy(outer, block);
    return hash('sha256', outer, 'hex');
  };
}

/** A body to post to many connections: its bytes and their SHA-256, computed once. */
export interface PreparedBody {
  readonly bytes: Buffer;
  readonly sha256: string;
}

export function prepareBody(text: string): PreparedBody {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, sha256: sha256HexOnce(bytes) };
}

/**
 * `signRequest`'s headers for a POST with no extra headers to sign, to one host: the fan-out's
 * hot path signs one `@connections` post per subscriber. Same canonical request and signature as
 * `signRequest` (tests compare them), with what does not change between calls computed once:
 * the host's canonical header, the date per second, the token's header per token, the signing
 * key per secret and day; the caller brings the canonical URI and the body's hash.
 */
export function createPostSigner(
  host: string,
  scope: SigningScope,
): (
  canonicalUri: string,
  body: PreparedBody,
  credentials: Credentials,
  nowMs: number,
) => Record<string, string> {
  const hostHeader = `host:${host.trim().replace(/\s+/g, ' ')}\n`;
  const scopeTail = `/${scope.region}/${scope.service}/aws4_request`;
  let second = Number.NaN;
  let date = '';
  let day = '';
  let credentialScope = '';
  let token: string | undefined;
  let tokenHeader = '';
  let keySecret: string | undefined;
  let keyDay = '';
  let signWithKey: (data: string) => string = () => '';
  return (canonicalUri, body, credentials, nowMs) => {
    const nowSecond = Math.floor(nowMs / 1000);
    if (nowSecond !== second) {
      second = nowSecond;
      date = amzDate(new Date(nowSecond * 1000));
      day = date.slice(0, 8);
      credentialScope = `${day}${scopeTail}`;
    }
    if (keySecret !== credentials.secretAccessKey || keyDay !== day) {
      signWithKey = hmacSha256HexWithKey(signingKey(credentials.secretAccessKey, day, scope));
      keySecret = credentials.secretAccessKey;
      keyDay = day;
    }
    const sessionToken = credentials.sessionToken || undefined;
    if (sessionToken !== token) {
      token = sessionToken;
      tokenHeader =
        sessionToken === undefined
          ? ''
          : `x-amz-security-token:${sessionToken.trim().replace(/\s+/g, ' ')}\n`;
    }
    const signedHeaders = token === undefined ? 'host;x-amz-date' : 'host;x-amz-date;x-amz-security-token';
    const canonicalRequest = `POST\n${canonicalUri}\n\n${hostHeader}x-amz-date:${date}\n${tokenHeader}\n${signedHeaders}\n${body.sha256}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${credentialScope}\n${sha256HexOnce(canonicalRequest)}`;
    const signature = signWithKey(stringToSign);
    const authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    const headers: Record<string, string> = { 'x-amz-date': date };
    if (token !== undefined) headers['x-amz-security-token'] = token;
    headers.authorization = authorization;
    return headers;
  };
}
