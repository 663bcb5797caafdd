/**
 * `POST @connections/{id}` as one SigV4-signed request on a keep-alive socket: the fan-out's hot
 * path (one call per subscriber and message). Errors are translated as the SDK path of
 * `connectionsApi.ts` translates them: 410 → `ConnectionGoneError`; throttling (429) and network
 * failures are retried here with exponential back-off and full jitter (as the SDK's standard retry
 * strategy does), then surface as `PostToConnectionFailedError`; any other status (5xx included)
 * surfaces at once with its status, for the fan-out's targeted retry.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ConnectionGoneError, PostToConnectionFailedError } from '../core/websocketErrors.js';
import {
  type Credentials,
  canonicalPathsUnder,
  createPostSigner,
  type PreparedBody,
  prepareBody,
} from './sigv4.js';

export interface SignedPostOptions {
  /** The stage's management endpoint, `https://{api}.execute-api.{region}.amazonaws.com/{stage}`. */
  readonly endpoint: string;
  readonly region: string;
  /**
   * Read at most once a second (not per post: a fan-out posts thousands a second), so rotated
   * credentials are picked up within a second. Lambda's live in the environment and stay the
   * same within an invocation.
   */
  readonly credentials: () => Credentials;
  /** Attempts for throttling and network failures. @default 3 */
  readonly maxAttempts?: number;
  /** Base of the exponential back-off. @default 100 */
  readonly baseDelayMs?: number;
  /** Injected in tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock (signing date, credentials' second). Injected in tests. @default Date.now */
  readonly now?: () => number;
}

export type SignedPost = (connectionId: string, body: string) => Promise<void>;

interface Answer {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
}

/** Bodies whose bytes and hash are kept (each up to the 128 KB message limit). */
const MAX_PREPARED_BODIES = 16;

class RetryableNetworkError extends Error {
  override readonly name = 'RetryableNetworkError';
}

/** The SDK's label encoding: `encodeURIComponent` plus `!'()*`. */
function encodeLabel(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function isThrottling(answer: Answer): boolean {
  return answer.status === 429 || /Throttl|LimitExceeded|TooManyRequests/.test(answer.errorType);
}

export function createSignedPost(options: SignedPostOptions): SignedPost {
  const url = new URL(options.endpoint);
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') throw new Error(`Unsupported endpoint ${options.endpoint}`);
  // One pool per endpoint, sockets kept open between posts and between invocations.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, keepAliveMsecs: 10_000 })
    : new HttpAgent({ keepAlive: true, keepAliveMsecs: 10_000 });
  const send = secure ? httpsRequest : httpRequest;
  const basePath = url.pathname.replace(/\/+$/, '');
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const sign = createPostSigner(url.host, { region: options.region, service: 'execute-api' });
  const pathPrefix = `${basePath}/@connections/`;
  const canonicalUriOf = canonicalPathsUnder(`${basePath}/@connections`);
  // One message goes to many connections (the same string): its bytes and hash are computed once.
  // A few are kept, as chunks of different messages are delivered at the same time.
  const bodies = new Map<string, PreparedBody>();
  const prepared = (text: string): PreparedBody => {
    let body = bodies.get(text);
    if (!body) {
      if (bodies.size >= MAX_PREPARED_BODIES) bodies.clear();
      body = prepareBody(text);
      bodies.set(text, body);
    }
    return body;
  };
  const clock = options.now ?? Date.now;
  let credentials: Credentials | undefined;
  let credentialsSecond = Number.NaN;

  function once(path: string, canonicalUri: string, body: PreparedBody): Promise<Answer> {
    const now = clock();
    const second = Math.floor(now / 1000);
    if (credentials === undefined || second !== credentialsSecond) {
      credentials = options.credentials();
      credentialsSecond = second;
    }
    const headers = sign(canonicalUri, body, credentials, now);
    headers['content-length'] = String(body.bytes.byteLength);
    return new Promise((resolve, reject) => {
      const req = send(
        { agent, method: 'POST', hostname: url.hostname, port: url.port, path, headers },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          res.on('error', (error) => reject(new RetryableNetworkError(error.message)));
          if (status >= 200 && status < 300) {
            // Success needs neither the body nor the headers: drain, and free the socket.
            res.on('end', () => resolve({ status, errorType: '', message: '' }));
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const errorType = String(res.headers['x-amzn-errortype'] ?? '').split(':', 1)[0] ?? '';
            resolve({ status, errorType, message: Buffer.concat(chunks).toString('utf8').slice(0, 500) });
          });
        },
      );
      req.on('error', (error) => reject(new RetryableNetworkError(error.message, { cause: error })));
      req.end(body.bytes);
    });
  }

  return async (connectionId, text) => {
    const label = encodeLabel(connectionId);
    const path = `${pathPrefix}${label}`;
    const canonicalUri = canonicalUriOf(label);
    const body = prepared(text);
    let failure = 'no attempt';
    let cause: unknown;
    let status: number | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
      let answer: Answer;
      try {
        answer = await once(path, canonicalUri, body);
      } catch (error) {
        // A keep-alive socket the server closed, a reset: the SDK retries these too.
        failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        cause = error;
        status = undefined;
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) return;
      if (answer.status === 410) throw new ConnectionGoneError(connectionId);
      status = answer.status;
      cause = undefined;
      failure = `${answer.errorType || `HTTP ${answer.status}`}: ${answer.message}`;
      if (!isThrottling(answer)) break;
    }
    throw new PostToConnectionFailedError(
      connectionId,
      status,
      failure,
      cause === undefined ? undefined : { cause },
    );
  };
}

/** Lambda's credentials from its environment, or undefined where there are none (then use the SDK). */
export function credentialsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Credentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}
