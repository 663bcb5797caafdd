/**
 * What the runtime-based scenarios share: start the offline runtime quietly, write outbox rows
 * stamped with their send time, mint client tokens, register webhook endpoints, and sample RSS.
 */
import dns from 'node:dns';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants.js';
import type { Runtime, RuntimeOptions } from '../../local/runtime.js';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { createEndpoint, type WebhookEndpoint } from '../../src/core/webhookEndpoint.js';
import { appendToOutbox } from '../../src/producer/index.js';
import { ScenarioSkipped } from './results.js';

export const BENCH_TENANT = 'bench-tenant';
const ROOT = resolve(import.meta.dirname, '../..');

/** Start the runtime, or skip the scenario when it (or a handler it needs) is not there yet. */
export async function startBenchRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  if (!existsSync(resolve(ROOT, 'local/runtime.ts')))
    throw new ScenarioSkipped('local/runtime.ts does not exist yet');
  resolveLocalhostSubdomains();
  for (const fn of Object.values(topology.functions)) {
    if (!existsSync(resolve(ROOT, fn.entry))) throw new ScenarioSkipped(`${fn.entry} does not exist yet`);
  }
  const { startRuntime } = await import('../../local/runtime.js');
  const runtime = await startRuntime({
    quiet: process.env.BENCH_VERBOSE !== 'true',
    ...options,
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR', ...options.env },
  });
  return runtime;
}

/**
 * fauxqs names its queues `http://sqs.<region>.localhost:<port>/...` and the SDK sends to the
 * QueueUrl's host. RFC 6761 says `*.localhost` is loopback, but this machine's resolver does not
 * know it (getaddrinfo ENOTFOUND). Resolve `*.localhost` to 127.0.0.1 in this process only.
 */
function resolveLocalhostSubdomains(): void {
  const original = dns.lookup;
  const patched = (hostname: string, ...rest: unknown[]): void => {
    const callback = rest.at(-1);
    if (hostname.endsWith('.localhost') && typeof callback === 'function') {
      const options = rest.length > 1 ? rest[0] : undefined;
      const all = typeof options === 'object' && options !== null && Reflect.get(options, 'all') === true;
      if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
      return;
    }
    Reflect.apply(original, dns, [hostname, ...rest]);
  };
  Object.defineProperty(dns, 'lookup', { value: patched, writable: true, configurable: true });
}

export function documentClient(runtime: Runtime): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runtime.endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

let counter = 0;

/** Append one outbox row whose `data.sentAt` is the time just before the write. */
export async function writeStampedEvent(
  client: DynamoDBDocumentClient,
  runtime: Runtime,
  channel: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  counter += 1;
  const eventId = `bench-${process.pid}-${Date.now().toString(36)}-${counter}`;
  await appendToOutbox(
    client,
    {
      eventId,
      tenantId: BENCH_TENANT,
      channel,
      type: 'bench.event',
      resourceId: `res-${counter % 50}`,
      data: { ...extra, sentAt: nowMs() },
      occurredAt: new Date().toISOString(),
    },
    { tableName: requireRuntimeEnv(runtime, topology.tables.outbox.env) },
  );
  return eventId;
}

export function requireRuntimeEnv(runtime: Runtime, name: string): string {
  const value = runtime.env[name];
  if (value === undefined) throw new Error(`The runtime did not set ${name}`);
  return value;
}

export function mintToken(runtime: Runtime, subject: string): Promise<string> {
  return mintConnectionToken(
    { tenantId: BENCH_TENANT, subject, expiresInSeconds: 3600 },
    secretKey(requireRuntimeEnv(runtime, 'JWT_SECRET')),
  );
}

/** Register a webhook endpoint for the bench tenant (dev address policy: loopback receivers allowed). */
export async function addWebhookEndpoint(
  client: DynamoDBDocumentClient,
  runtime: Runtime,
  url: string,
  settings: { timeoutSeconds?: number; maxAttempts?: number } = {},
): Promise<WebhookEndpoint> {
  const endpoint = createEndpoint(
    { url, ...settings },
    {
      tenantId: BENCH_TENANT,
      now: new Date(),
      policy: DEV_POLICY,
      defaultMaxAttempts: settings.maxAttempts ?? 3,
    },
  );
  await createWebhookEndpointsRepository({
    client,
    tableName: requireRuntimeEnv(runtime, topology.tables.webhookEndpoints.env),
  }).create(endpoint);
  return endpoint;
}

/** Peak RSS sampler for this process, and for the DynamoDB Local JVM (a child process of this one). */
export class RssSampler {
  private peakNode = 0;
  private peakJvm = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peakNode = Math.max(this.peakNode, process.memoryUsage.rss());
    this.peakJvm = Math.max(this.peakJvm, jvmRssBytes());
  }

  stop(): { nodePeakBytes: number; jvmPeakBytes: number } {
    clearInterval(this.timer);
    this.sample();
    return { nodePeakBytes: this.peakNode, jvmPeakBytes: this.peakJvm };
  }
}

/** RSS of java processes descended from this process (DynamoDB Local), from /proc; 0 where /proc is absent. */
function jvmRssBytes(): number {
  if (!existsSync('/proc')) return 0;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (!/^Name:\s+java$/m.test(status)) continue;
      if (!descendsFrom(Number(entry), process.pid)) continue;
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (rss?.[1]) total += Number(rss[1]) * 1024;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total;
}

function descendsFrom(pid: number, ancestor: number): boolean {
  let current = pid;
  for (let depth = 0; depth < 10 && current > 1; depth++) {
    if (current === ancestor) return true;
    try {
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      current = ppid;
    } catch {
      return false;
    }
  }
  return current === ancestor;
}
