/**
 * The package as an application installs it: `npm pack` (which builds `dist/`), then, in a
 * temporary directory outside the repository, npm installs the tarball with its own dependencies
 * (from the npm cache when it has them). The app's side of the peer dependencies (aws-cdk-lib,
 * constructs, cdk-nag, the AWS SDK clients, DynamoDB Local, fauxqs) and its tools (TypeScript, the
 * CDK CLI) are linked from this repository's node_modules, as an app would already have them: the
 * test does not download aws-cdk-lib again. A plain `.mjs` script uses `outbox-relay/producer` and
 * `outbox-relay/local`, and a page bundling `outbox-relay/client` receives the events in headless
 * Chromium; a new CDK TypeScript app synthesizes `new OutboxRelay(...)` under AwsSolutions checks
 * with the prebuilt handler bundles.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { findChromium } from '../helpers/chromium.js';

const REPO = resolve(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const EVENTS = 10;

const repoPackage = z
  .object({ peerDependencies: z.record(z.string(), z.string()) })
  .parse(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')));

/** What the app brings itself, linked from this repository: the peers and the tools the test runs. */
function appProvided(): string[] {
  return [...Object.keys(repoPackage.peerDependencies), 'typescript', 'aws-cdk', 'esbuild'];
}

/** `node_modules/<name>` of the app → this repository's copy (scoped names get their scope directory). */
function linkFromRepository(appDir: string, name: string): void {
  const target = join(REPO, 'node_modules', name);
  const link = join(appDir, 'node_modules', name);
  if (existsSync(link)) return; // npm installed it as a dependency of the package
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'dir');
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, [...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** JSON lines from a child's stdout, awaited by predicate. */
function jsonLines(child: ChildProcess, describe: () => string) {
  const seen: unknown[] = [];
  const waiters = new Set<() => void>();
  if (!child.stdout) throw new Error('child has no stdout');
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      seen.push(JSON.parse(line));
    } catch {
      return; // not one of the script's messages
    }
    for (const wake of waiters) wake();
  });
  return async function next<T>(schema: z.ZodType<T>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failure = seen.find((value) => typeof value === 'object' && value !== null && 'error' in value);
      if (failure) throw new Error(`the script failed: ${JSON.stringify(failure)}`);
      const index = seen.findIndex((value) => schema.safeParse(value).success);
      if (index >= 0) return schema.parse(seen.splice(index, 1)[0]);
      if (child.exitCode !== null) throw new Error(`script exited with ${child.exitCode}: ${describe()}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no such message from the script in time: ${describe()}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(remaining, 1_000));
        waiters.add(() => {
          clearTimeout(timer);
          wake();
        });
      });
      waiters.clear();
    }
  };
}

describe('the packed package in a fresh app', () => {
  const packDir = mkdtempSync(join(tmpdir(), 'outbox-relay-pack-'));
  const appDir = mkdtempSync(join(tmpdir(), 'outbox-relay-consumer-'));
  let script: ChildProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(() => {
    let started = Date.now();
    run('npm', ['pack', '--silent', '--pack-destination', packDir], REPO);
    const tarball = run('sh', ['-c', 'ls *.tgz'], packDir).trim();
    console.log(`npm pack (build included): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify(
        {
          name: 'consumer-app',
          private: true,
          type: 'module',
          dependencies: { 'outbox-relay': `file:${join(packDir, tarball)}` },
        },
        null,
        2,
      ),
    );
    started = Date.now();
    // The package and its own dependencies only: peers are the app's, linked below.
    run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--legacy-peer-deps', '--ignore-scripts'],
      appDir,
    );
    for (const name of appProvided()) linkFromRepository(appDir, name);
    console.log(`consumer install: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    if (script && script.exitCode === null) script.kill('SIGTERM');
    await browser?.close();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(packDir, { recursive: true, force: true });
  });

  it('a plain .mjs script writes events with producer + local; a page bundling the client receives them', async () => {
    copyFileSync(join(FIXTURES, 'producer-local.mjs'), join(appDir, 'producer-local.mjs'));
    script = spawn(process.execPath, ['producer-local.mjs', String(EVENTS)], {
      cwd: appDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let stderr = '';
    script.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => script?.on('exit', (code) => done(code)));
    const step = (name: string) => console.log(`[consumer] ${new Date().toISOString()} ${name}`);
    const next = jsonLines(script, () => stderr.slice(-4000));
    const send = (line: string) => script?.stdin?.write(`${line}\n`);

    const { pageUrl } = await next(z.object({ ready: z.literal(true), pageUrl: z.string() }), 180_000);
    step('runtime ready');
    const found = await findChromium();
    browser = await chromium.launch({
      executablePath: found.executablePath,
      args: [...found.args],
      headless: true,
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(pageUrl);
    await page.waitForFunction(() => document.body.dataset.state === 'open', undefined, {
      timeout: 60_000,
    });

    step('page connected');
    const received = async (): Promise<string[]> =>
      z
        .array(z.string())
        .parse(await page.evaluate(() => (window as unknown as { received: string[] }).received));
    // Probe until one event reaches the page: from then on the subscription is in place.
    for (let attempt = 0; (await received()).length === 0; attempt++) {
      if (attempt === 30) throw new Error('no probe event reached the page');
      send('probe');
      await next(z.object({ probe: z.string() }), 60_000);
      await page
        .waitForFunction(() => (window as unknown as { received: string[] }).received.length > 0, undefined, {
          timeout: 5_000,
        })
        .catch(() => undefined);
    }

    step('subscription in place');
    send('write');
    const { written } = await next(z.object({ written: z.array(z.string()) }), 180_000);
    expect(written).toHaveLength(EVENTS);
    await page.waitForFunction(
      (ids) => ids.every((id) => (window as unknown as { received: string[] }).received.includes(id)),
      written,
      { timeout: 120_000 },
    );
    const ids = await received();
    // Every written event arrived exactly once.
    expect(written.map((id) => ids.filter((seen) => seen === id).length)).toEqual(written.map(() => 1));
    expect(pageErrors).toEqual([]);

    step(`${EVENTS} events received`);
    send('stop');
    // The script must end by itself on `stop` (its stdin stays open, as a test runner's would).
    const code = await Promise.race([
      exited,
      new Promise<string>((done) => setTimeout(() => done('still running 60 s after stop'), 60_000)),
    ]);
    expect(code, stderr).toBe(0);
  }, 600_000);
  it('a new CDK TypeScript app synthesizes the construct under AwsSolutions checks, with prebuilt handlers', () => {
    const cdkApp = join(appDir, 'cdk-app');
    mkdirSync(cdkApp);
    for (const file of ['app.ts', 'tsconfig.json', 'cdk.json'])
      copyFileSync(join(FIXTURES, 'cdk-app', file), join(cdkApp, file));
    run(process.execPath, [join(appDir, 'node_modules/typescript/bin/tsc'), '-p', '.'], cdkApp);
    // cdk-nag findings without an acknowledgment fail this command.
    run(
      process.execPath,
      [join(appDir, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet', '--no-notices'],
      cdkApp,
    );

    const template = z
      .object({ Resources: z.record(z.string(), z.object({ Type: z.string(), Properties: z.unknown() })) })
      .parse(JSON.parse(readFileSync(join(cdkApp, 'cdk.out', 'ShopStack.template.json'), 'utf8')));
    const functions = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => z.object({ Handler: z.string().optional() }).loose().parse(resource.Properties));
    const handlers = functions.filter((props) => props.Runtime === 'nodejs22.x');
    expect(handlers).toHaveLength(10);
    // The bundles npm run build made, not a bundling run in the app (it has no sources to bundle).
    expect(new Set(handlers.map((props) => props.Handler))).toEqual(new Set(['index.handler']));
    const bundled = readdirSync(join(cdkApp, 'cdk.out')).filter(
      (entry) => entry.startsWith('asset.') && existsSync(join(cdkApp, 'cdk.out', entry, 'index.mjs')),
    );
    expect(bundled.length).toBeGreaterThanOrEqual(1);
  }, 600_000);
});
