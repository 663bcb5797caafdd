/**
 * (a) Cold start and size: bundle every Lambda entry of the topology with esbuild exactly as the
 * stack does (lib/bundling.ts: node22, ESM with a `require` banner, minified, module-first main
 * fields, `@aws-sdk/*` external as the Lambda runtime provides it), then time the module load (the
 * part of a cold start that is ours) in a fresh Node process, median of 5 runs. Two bundles per
 * function: `deployed` is the default (no X-Ray SDK, no source map), `xraySdk` is what
 * `xraySdk: true` deploys (the Powertools tracer and X-Ray SDK inside; what every function
 * shipped before).
 *
 * Deployed code imports the `@aws-sdk/*` clients on first send (src/aws/sdk/), so the module load
 * no longer pays for them; the first invocation does. Right after the module load, in the same
 * fresh process, the loader also times `import()` of the SDK packages that function's first
 * invocation loads on its common path (`FIRST_USE_SDK`), so the moved cost stays visible.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type BundleSettings, esbuildSettings, MAX_BUNDLE_BYTES } from '../../lib/bundling.js';
import { type FunctionName, topology } from '../../src/contract/topology.js';
import {
  figure,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutput,
  ScenarioSkipped,
} from '../lib/results.js';
import { median } from '../lib/stats.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Inside node_modules so the bundle resolves `@aws-sdk/*` as the runtime would provide it. */
const OUT_DIR = join(ROOT, 'node_modules/.cache/outbox-relay-bench/cold-start');

/** What a handler may read at module load: every topology variable, with placeholder values. */
function placeholderEnv(): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
    OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [topology.bus.env]: 'outbox-relay-bus',
    [topology.webSocket.managementEndpointEnv]: 'http://127.0.0.1:9/live',
  };
  for (const table of Object.values(topology.tables)) env[table.env] = 'bench-table';
  for (const queue of Object.values(topology.queues))
    env[queue.env] = 'http://127.0.0.1:9/000000000000/bench-queue';
  return env;
}

const DYNAMODB = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
const SQS = '@aws-sdk/client-sqs';
const EVENTBRIDGE = '@aws-sdk/client-eventbridge';
const SECRETS_MANAGER = '@aws-sdk/client-secrets-manager';

/**
 * The SDK packages a function's first invocation loads on its common path (what its first sends
 * import), and when it loads others. Posts to `@connections` go through the signed keep-alive
 * client, so the management API's SDK client loads only with `CONNECTIONS_POST_CLIENT=sdk` (or
 * for a server-side disconnect).
 */
const FIRST_USE_SDK = {
  publisher: { packages: [...DYNAMODB, EVENTBRIDGE], when: 'sequence counters (DynamoDB) and PutEvents' },
  audit: { packages: DYNAMODB, when: 'audit and quarantine writes' },
  wsAuthorizer: {
    packages: [SECRETS_MANAGER],
    when: 'HS256 mode (the default stack) reads the secret once per instance; with OIDC/JWKS or JWT_SECRET it loads no SDK package at all',
  },
  wsConnect: { packages: DYNAMODB, when: 'the connection record' },
  wsDisconnect: { packages: DYNAMODB, when: 'removing the connection record' },
  wsMessage: { packages: DYNAMODB, when: 'subscriptions and resume; replies go by signed POST' },
  fanout: {
    packages: DYNAMODB,
    when: 'subscriber queries and audit records; SQS only when it splits a wide fan-out into chunks or re-enqueues a targeted retry',
  },
  webhookDispatcher: { packages: [...DYNAMODB, SQS], when: 'endpoint routing and sending deliveries' },
  webhookDelivery: {
    packages: DYNAMODB,
    when: 'flow control and attempt records; SQS only for a retry, a deferral or a dead letter',
  },
  webhookApi: {
    packages: [SECRETS_MANAGER, ...DYNAMODB],
    when: 'token verification (HS256 secret) and endpoint records; SQS only for redelivery requests',
  },
} satisfies Record<FunctionName, { packages: readonly string[]; when: string }>;

/**
 * The loader run in a fresh process: time from before `import()` to the handler module being
 * ready, then the `import()` of the SDK packages its first invocation loads (argv[2], JSON).
 */
const LOADER = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(process.argv[1]);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
if (typeof mod.handler !== 'function') { console.error('no handler export'); process.exit(3); }
const c1 = process.cpuUsage();
const t1 = performance.now();
await Promise.all(JSON.parse(process.argv[2]).map((name) => import(name)));
const sdkMs = performance.now() - t1;
const sdkCpu = process.cpuUsage(c1);
console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, sdkMs, sdkCpuMs: (sdkCpu.user + sdkCpu.system) / 1000 }));
`;

interface InitTime {
  readonly ms: number;
  /** CPU time of the load: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  /** The first invocation's SDK load, right after the module load. */
  readonly sdkMs: number;
  readonly sdkCpuMs: number;
}

function timeImport(
  file: string,
  env: Record<string, string>,
  sdkPackages: readonly string[],
): Promise<InitTime> {
  return new Promise((resolvePromise, reject) => {
    // From the repository root, so the loader's `import()` resolves `@aws-sdk/*` as the bundle does.
    const args = ['--input-type=module', '-e', LOADER, file, JSON.stringify(sdkPackages)];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new Error(`loading ${file} exited ${code}: ${err.trim().split('\n').slice(0, 3).join(' | ')}`),
        );
        return;
      }
      const parsed: unknown = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
      const numberAt = (key: string): number | undefined => {
        const value: unknown =
          typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, key) : undefined;
        return typeof value === 'number' ? value : undefined;
      };
      const [ms, cpuMs, sdkMs, sdkCpuMs] = ['ms', 'cpuMs', 'sdkMs', 'sdkCpuMs'].map(numberAt);
      if (ms !== undefined && cpuMs !== undefined && sdkMs !== undefined && sdkCpuMs !== undefined) {
        resolvePromise({ ms, cpuMs, sdkMs, sdkCpuMs });
      } else reject(new Error(`unexpected loader output: ${out}`));
    });
  });
}

async function bundle(entry: string, outfile: string, settings: BundleSettings): Promise<number> {
  const { banner, ...options } = esbuildSettings(settings);
  await build({
    ...options,
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    logLevel: 'silent',
    banner: { js: banner },
  });
  return readFileSync(outfile).byteLength;
}

const VARIANTS: Record<'deployed' | 'xraySdk', BundleSettings> = {
  deployed: {},
  xraySdk: { xraySdk: true },
};

export const coldStartScenario: Scenario = {
  name: 'coldStart',
  title: '(a) Lambda bundle size and module-load (init) time',
  budgetMs: 90_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const runs = 5;
    const env = placeholderEnv();
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [
      `esbuild bundles as lib/bundling.ts builds them; init = dynamic import() of the bundle in a fresh Node ${process.version} process, median of ${runs} runs (Lambda runs Node 22 on arm64: expect different absolute times, similar ratios). Load average at start: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs.`,
      `deployed = the default bundle (limit ${MAX_BUNDLE_BYTES / 1024} KB, held by a construct test); xraySdk = with the Powertools tracer and X-Ray SDK (\`xraySdk: true\`, and every bundle before that option existed).`,
    ];
    notes.push(
      `firstUseSdk = import() of the SDK packages a function's first invocation loads on its common path, timed in the same process right after the module load (median of ${runs}): the cost the lazy clients moved out of init into the first invocation (plus creating the client and resolving credentials, not timed here). Per function: ${Object.entries(
        FIRST_USE_SDK,
      )
        .map(([name, use]) => `${name}: ${use.packages.join(' + ')} (${use.when})`)
        .join('; ')}.`,
    );
    mkdirSync(OUT_DIR, { recursive: true });
    const started = Date.now();
    const measured = new Set<string>();
    // Every function's deployed bundle first, so a tight budget drops xraySdk timings, not functions.
    for (const [variant, settings] of Object.entries(VARIANTS)) {
      for (const [name, fn] of Object.entries(topology.functions) as [FunctionName, { entry: string }][]) {
        if (!existsSync(join(ROOT, fn.entry))) {
          if (variant === 'deployed') notes.push(`${name}: ${fn.entry} does not exist yet; not measured.`);
          continue;
        }
        measured.add(name);
        // Sizes are cheap and deterministic: always recorded; init times only within the budget.
        const timed = Date.now() - started <= context.budgetMs * 0.8;
        if (!timed)
          notes.push(
            `${name} ${variant}: init not timed, the scenario's time budget ran out (sizes recorded).`,
          );
        const outfile = join(OUT_DIR, name, `${variant}.mjs`);
        mkdirSync(join(OUT_DIR, name), { recursive: true });
        try {
          const bytes = await bundle(fn.entry, outfile, settings);
          figures[`${name}.${variant}.bundleBytes`] = figure(bytes, 'bytes');
          figures[`${name}.${variant}.gzipBytes`] = figure(
            gzipSync(readFileSync(outfile)).byteLength,
            'bytes',
          );
          if (!timed) continue;
          const packages = FIRST_USE_SDK[name].packages;
          const times: InitTime[] = [];
          for (let i = 0; i < runs; i++) times.push(await timeImport(outfile, env, packages));
          const wall = median(times.map((t) => t.ms));
          const cpu = median(times.map((t) => t.cpuMs));
          figures[`${name}.${variant}.initMs`] = figure(wall, 'ms');
          figures[`${name}.${variant}.initCpuMs`] = figure(cpu, 'ms');
          let sdk = '';
          if (variant === 'deployed') {
            const sdkWall = median(times.map((t) => t.sdkMs));
            const sdkCpu = median(times.map((t) => t.sdkCpuMs));
            figures[`${name}.${variant}.firstUseSdkMs`] = figure(sdkWall, 'ms');
            figures[`${name}.${variant}.firstUseSdkCpuMs`] = figure(sdkCpu, 'ms');
            sdk = `; first invocation's SDK load ${sdkWall.toFixed(1)} ms (${sdkCpu.toFixed(1)} ms CPU)`;
          }
          context.progress(
            `${name} ${variant}: ${(bytes / 1024).toFixed(0)} KB, init ${wall.toFixed(1)} ms (${cpu.toFixed(1)} ms CPU)${sdk}`,
          );
        } catch (error) {
          notes.push(`${name} ${variant}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    // The bundles were only needed for the measurement.
    cleanColdStartOutput();
    if (measured.size === 0) throw new ScenarioSkipped('no Lambda entry of the topology exists yet');
    return { figures, notes };
  },
};

function cleanColdStartOutput(): void {
  rmSync(OUT_DIR, { recursive: true, force: true });
}
