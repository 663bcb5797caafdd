/**
 * The CLI as a process, without a runtime: help, version, usage errors, a closed pipe, dead or
 * stale targets, and the refusals that must come before anything is touched.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';

// Each case starts the CLI (tsx) at least once: seconds apiece on a busy machine.
vi.setConfig({ testTimeout: 90_000 });

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'cli/outbox-relay.mjs');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; closeStdout?: boolean } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      OUTBOX_RELAY_STACK: undefined,
      ...options.env,
    };
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // The reader goes away before the CLI writes, as `| head -1` does after its first line.
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * A port nobody listens on. Not one the OS hands out and we close again: on a shared machine
 * another process's emulator can take it within seconds. Port 1 (tcpmux) is below the ephemeral
 * range, never assigned by the OS, and privileged, so connecting to it is refused.
 */
const DEAD_PORT = 1;

let dir: string;
let port: number;

function endpointsFile(pid: number): string {
  const url = `http://127.0.0.1:${port}`;
  return JSON.stringify({
    region: 'us-east-1',
    endpoints: { dynamodb: url, sqs: url, control: `${url}/control` },
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: url,
      AWS_ENDPOINT_URL_SQS: url,
      AUDIT_TABLE: 'audit',
      CONNECTIONS_TABLE: 'connections',
      WEBHOOK_DLQ_URL: `${url}/000000000000/webhook-dlq`,
    },
    pid,
    startedAt: '2026-11-30T10:00:00.000Z',
  });
}

beforeAll(async () => {
  port = DEAD_PORT;
  dir = mkdtempSync(join(tmpdir(), 'outbox-relay-cli-proc-'));
  // A project with a stale runtime record (its ports are dead) and a deep subdirectory.
  mkdirSync(join(dir, 'project', '.local'), { recursive: true });
  mkdirSync(join(dir, 'project', 'src', 'deep', 'er'), { recursive: true });
  mkdirSync(join(dir, 'project', 'nested', 'src'), { recursive: true });
  writeFileSync(join(dir, 'project', 'nested', 'package.json'), '{"name":"nested"}\n');
  writeFileSync(join(dir, 'project', '.local', 'endpoints.json'), endpointsFile(process.pid));
  mkdirSync(join(dir, 'dead-pid'));
  writeFileSync(join(dir, 'dead-pid', 'endpoints.json'), endpointsFile(2 ** 22 + 12345));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const local = () => ({ env: { OUTBOX_RELAY_LOCAL_DIR: join(dir, 'project', '.local') } });

describe('help and version', () => {
  it.each([...COMMANDS])('prints help for %s with --help, -h and help <command>, exit 0', async (command) => {
    for (const args of [
      [command, '--help'],
      ['help', command],
      ['-h', command],
    ]) {
      const run = await cli(args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^Usage:/);
      expect(run.stdout).toContain(`outbox-relay ${command}`);
    }
  });

  it('prints help for a subcommand line without running it', async () => {
    const run = await cli(['dlq', 'purge', 'webhook', '--help'], local());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('dlq purge <kind> --yes');
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });
});

describe('usage errors (exit 2, one line, a suggestion)', () => {
  it.each([
    [['stauts'], /unknown command "stauts" \(did you mean "status"\?\)/],
    [['dlq', 'lst', 'webhook'], /unknown or missing action "lst" \(did you mean "list"\?\)/],
    [['dlq', 'list', 'webhok'], /unknown or missing kind "webhok" \(did you mean "webhook"\?\)/],
    [['dlq', 'list'], /missing kind ""; kinds: publisher, webhook, .*quarantine/],
    [['dlq'], /missing action ""; actions: list, show, redrive, delete, purge/],
    [
      ['audit', 'channel', 'acme', 'orders', '--limt', '5'],
      /unknown option --limt \(did you mean "--limit"\?\)/,
    ],
    [['webhooks', 'list', '--url', 'https://x'], /--url does not apply to webhooks list/],
    [['dlq', 'list', 'webhook', '--dry-run'], /--dry-run does not apply to dlq list/],
    [['--jsn', 'status'], /unknown option --jsn before the command \(did you mean "--json"\?\)/],
    [['dlq', 'purge', 'webhook'], /pass --yes \(or --dry-run/],
    [['dlq', 'delete', 'webhook'], /dlq delete needs --id/],
    [['replay', '--from', '1h', '--route', 'webhook'], /no route "webhook" \(did you mean "webhooks"\?\)/],
    [
      ['audit', 'channel', 'acme', 'orders', '--cursor', 'not-a-cursor'],
      /--cursor is not a cursor this CLI issued/,
    ],
  ])('%j', async (args, message) => {
    const run = await cli(args, local());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to close every tenant without a terminal to ask on and without --yes', async () => {
    const run = await cli(['send-close'], local());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/send-close to every tenant: not confirmed.*pass --yes/);
  });
});

describe('targets', () => {
  it('accepts global options before the command (--json status reaches the target)', async () => {
    const run = await cli(['--json', 'audit', 'event', 'ev-1'], local());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^outbox-relay audit: cannot reach local runtime/);
  });

  it('reports a dead port from a stale endpoints.json in one line, exit 1', async () => {
    const run = await cli(['audit', 'event', 'ev-1'], local());
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`at 127.0.0.1:${port}: connection refused`);
    expect(run.stderr).toContain('npm start');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a runtime whose process is gone without trying its ports', async () => {
    const run = await cli(['status'], { env: { OUTBOX_RELAY_LOCAL_DIR: join(dir, 'dead-pid') } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is not running; start it with "npm start"/);
  });

  it('finds the runtime of the project from a subdirectory', async () => {
    const run = await cli(['audit', 'event', 'ev-1'], { cwd: join(dir, 'project', 'src', 'deep', 'er') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(join(dir, 'project', '.local', 'endpoints.json'));
    const outside = await cli(['audit', 'event', 'ev-1'], { cwd: dir });
    expect(outside.stderr).toMatch(/no local runtime found/);
    // The walk stops at the package root: a nested package does not use its parent's runtime.
    const nested = await cli(['audit', 'event', 'ev-1'], { cwd: join(dir, 'project', 'nested', 'src') });
    expect(nested.stderr).toMatch(/no local runtime found .* or a parent up to .*nested\)/);
  });

  it('takes the stack from OUTBOX_RELAY_STACK', async () => {
    const run = await cli(['status'], {
      env: {
        OUTBOX_RELAY_STACK: 'NoSuchStack',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        AWS_MAX_ATTEMPTS: '1',
        AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${port}`,
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^outbox-relay status: cannot (read stack NoSuchStack|reach)/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('pipes', () => {
  it('ends quietly when the reader has gone (| head)', async () => {
    const run = await cli(['completion', 'bash'], { closeStdout: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('prints a bash completion script that knows commands, subcommands and options', async () => {
    const run = await cli(['completion', 'bash']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('complete -F _outbox_relay outbox-relay');
    expect(run.stdout).toMatch(/dlq\) words="list show redrive delete purge"/);
    expect(run.stdout).toContain('--dry-run');
  });
});
