/**
 * The webhook HTTP client. Node's `http`/`https` modules with `request-filtering-agent` (global
 * fetch takes no agent): the address a name resolves to is checked at connect time, just before
 * the socket opens, so DNS rebinding cannot reach a private address. Redirects are never
 * followed (Node's client does not follow them; a 3xx is reported as a failure). The response
 * body is read up to a cap and discarded; the whole attempt has one deadline.
 */
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { type AddressPolicy, checkResolvedAddress, checkWebhookUrl } from '../core/addressPolicy.js';
import type { HttpAttemptResult } from '../core/deliveryOutcome.js';
import type { WebhookRequest } from '../core/webhookDeliver.js';
import { AddressRefusedError } from '../core/webhookErrors.js';
import { EVIDENCE_BODY_BYTES } from '../core/webhookEvidence.js';

/** Bytes of the body kept for the attempt's evidence: the cap plus room to blank a secret across it. */
const EVIDENCE_READ_BYTES = EVIDENCE_BODY_BYTES + 128;

/** We only need the status; a receiver's body beyond this is not read. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhookHttpClientOptions {
  readonly policy: AddressPolicy;
  /** Test seam: a fake DNS resolver (tests never resolve real names nor open non-loopback sockets). */
  readonly lookup?: LookupFunction;
  readonly maxResponseBytes?: number;
}

export type WebhookHttpClient = (request: WebhookRequest) => Promise<HttpAttemptResult>;

type LookupAllCallback = (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void;
type LookupOneCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** Wraps a resolver so every resolved address is checked against our policy (with our reasons). */
function checkingLookup(policy: AddressPolicy, resolve: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, address, family) => {
      if (err) {
        callback(err, address, family);
        return;
      }
      try {
        if (Array.isArray(address)) {
          for (const entry of address) checkResolvedAddress(hostname, entry.address, policy);
        } else if (typeof address === 'string') {
          checkResolvedAddress(hostname, address, policy);
        }
      } catch (error) {
        const refusal = error instanceof Error ? error : new Error(String(error));
        if (options.all) (callback as unknown as LookupAllCallback)(refusal, []);
        else (callback as unknown as LookupOneCallback)(refusal, '', 0);
        return;
      }
      callback(null, address, family);
    });
  };
}

export function createWebhookHttpClient(options: WebhookHttpClientOptions): WebhookHttpClient {
  const policy = options.policy;
  const maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  // The agents add a second, independent check (ipaddr.js ranges) of literal and resolved addresses.
  const filterOptions = {
    keepAlive: true,
    allowPrivateIPAddress: false,
    allowMetaIPAddress: false,
    allowIPAddressList: [...policy.allowedAddresses],
  };
  const httpAgent = new RequestFilteringHttpAgent(filterOptions);
  const httpsAgent = new RequestFilteringHttpsAgent(filterOptions);
  const lookup = checkingLookup(policy, options.lookup ?? (dns.lookup as LookupFunction));

  return (request) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = checkWebhookUrl(request.url, policy);
    } catch (error) {
      if (error instanceof AddressRefusedError) {
        return Promise.resolve({ kind: 'error', code: 'url_refused', message: error.message, durationMs: 0 });
      }
      throw error;
    }
    const isHttps = url.protocol === 'https:';
    const send = isHttps ? https.request : http.request;

    return new Promise<HttpAttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: HttpAttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = send(url, {
        method: 'POST',
        agent: isHttps ? httpsAgent : httpAgent,
        lookup,
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      });
      const timer = setTimeout(() => {
        finish({
          kind: 'error',
          code: 'timeout',
          message: `timed out after ${request.timeoutSeconds} s`,
          durationMs: elapsed(),
        });
        req.destroy();
      }, request.timeoutSeconds * 1000);

      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const header = (name: string) => {
          const value = res.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const kept: Buffer[] = [];
        let keptBytes = 0;
        const done = () =>
          finish({
            kind: 'response',
            status,
            durationMs: elapsed(),
            body: Buffer.concat(kept).toString('utf8'),
            ...(header('retry-after') !== undefined ? { retryAfter: header('retry-after') } : {}),
            ...(header('location') !== undefined ? { location: header('location') } : {}),
          });
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          if (keptBytes < EVIDENCE_READ_BYTES) {
            const part = chunk.subarray(0, EVIDENCE_READ_BYTES - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          received += chunk.length;
          if (received > maxResponseBytes) {
            // The status is all we need; stop reading an oversized body rather than buffer it.
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      });
      req.on('error', (error) => finish(classifyError(error, elapsed())));
      req.end(request.body);
    });
  };
}

function classifyError(error: Error, durationMs: number): HttpAttemptResult {
  if (error instanceof AddressRefusedError) {
    return {
      kind: 'error',
      code: 'address_refused',
      message: `address refused: ${error.message}`,
      durationMs,
    };
  }
  // request-filtering-agent's refusal ("DNS lookup 127.0.0.1(...) is not allowed. Because, ...").
  if (/is not allowed/.test(error.message)) {
    return {
      kind: 'error',
      code: 'address_refused',
      message: `address refused: ${error.message}`,
      durationMs,
    };
  }
  const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
  return {
    kind: 'error',
    code: 'connection',
    message: `connection failed: ${code}${error.message}`,
    durationMs,
  };
}
