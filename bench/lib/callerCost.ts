/**
 * What one `@connections` post costs its caller in CPU: the fan-out's port with the SDK client,
 * the same port with the lean SigV4-signed keep-alive client (the deployed hot path), a raw
 * keep-alive POST signed with the same signer, and a raw unsigned keep-alive POST (the floor).
 *
 * The stub server that answers 200 at once runs in a child process, so its CPU is not the
 * caller's; each variant's CPU is `process.cpuUsage()` over its posts. Variants take turns in
 * rounds and the median round counts: on a shared machine the load drifts during a run, and
 * turns spread that drift over every variant instead of charging it to whichever ran last.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createConnectionsApi } from '../../src/aws/connectionsApi.js';
import { createSignedPost } from '../../src/aws/signedConnectionsPost.js';
import { signRequest } from '../../src/aws/sigv4.js';
import { mapWithConcurrency } from '../../src/core/concurrency.js';
import { median } from './stats.js';

const IN_FLIGHT = 50;
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench', sessionToken: 'bench' };

export const CALLER_COST_VARIANTS = ['sdk', 'signed', 'rawSigned', 'raw'] as const;
export type CallerCostVariant = (typeof CALLER_COST_VARIANTS)[number];

export interface CallerCostResult {
  readonly calls: number;
  readonly rounds: number;
  /** Median over rounds of the caller's CPU per post, µs. */
  readonly cpuUsPerCall: Readonly<Record<CallerCostVariant, number>>;
  /** Median over rounds of the wall time per post at 50 in flight, µs. */
  readonly wallUsPerCall: Readonly<Record<CallerCostVariant, number>>;
}

const STUB_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** A stub `@connections` endpoint in its own process; ends when the caller closes its stdin. */
async function startStubServer(): Promise<{ endpoint: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', STUB_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stub server exited ${code} before listening`)));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

/** One keep-alive POST to `@connections/{id}` per call, optionally SigV4-signed; `agent` is the caller's to destroy. */
export function rawPoster(
  endpoint: string,
  signed: boolean,
  agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT }),
): (id: string, body: string) => Promise<void> {
  const url = new URL(endpoint);
  return (id, body) =>
    new Promise<void>((resolve, reject) => {
      const path = `/@connections/${encodeURIComponent(id)}`;
      let headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      };
      if (signed) {
        headers = {
          ...headers,
          ...signRequest({ method: 'POST', host: url.host, path, headers, body }, CREDENTIALS, {
            region: 'us-east-1',
            service: 'execute-api',
          }),
        };
      }
      const req = request(`${endpoint}${path}`, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
}

async function measure(
  post: (id: string, body: string) => Promise<void>,
  ids: readonly string[],
  body: string,
): Promise<{ cpuUs: number; wallUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await mapWithConcurrency(ids, IN_FLIGHT, (id) => post(id, body));
  const cpu = process.cpuUsage(c0);
  return { cpuUs: cpu.user + cpu.system, wallUs: (performance.now() - t0) * 1000 };
}

export async function callerCost(calls: number, body: string, rounds = 5): Promise<CallerCostResult> {
  // The SDK client reads its region and credentials from the environment, as in Lambda.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= CREDENTIALS.secretAccessKey;
  const stub = await startStubServer();
  try {
    const { endpoint } = stub;
    const posters: Record<CallerCostVariant, (id: string, body: string) => Promise<void>> = {
      sdk: createConnectionsApi(endpoint).post,
      signed: createConnectionsApi(
        endpoint,
        createSignedPost({ endpoint, region: 'us-east-1', credentials: () => CREDENTIALS }),
      ).post,
      rawSigned: rawPoster(endpoint, true),
      raw: rawPoster(endpoint, false),
    };
    const ids = Array.from({ length: calls }, (_, i) => `conn${i}=`);
    for (const variant of CALLER_COST_VARIANTS) {
      await measure(posters[variant], ids.slice(0, 200), body); // warm up: sockets, JIT
    }
    const cpu = Object.fromEntries(CALLER_COST_VARIANTS.map((v) => [v, [] as number[]]));
    const wall = Object.fromEntries(CALLER_COST_VARIANTS.map((v) => [v, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of CALLER_COST_VARIANTS) {
        const m = await measure(posters[variant], ids, body);
        cpu[variant]?.push(m.cpuUs / calls);
        wall[variant]?.push(m.wallUs / calls);
      }
    }
    const pick = (table: Record<string, number[]>) =>
      Object.fromEntries(CALLER_COST_VARIANTS.map((v) => [v, median(table[v] ?? [])])) as Record<
        CallerCostVariant,
        number
      >;
    return { calls, rounds, cpuUsPerCall: pick(cpu), wallUsPerCall: pick(wall) };
  } finally {
    stub.stop();
  }
}
