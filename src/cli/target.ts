/**
 * Where a CLI command acts. By default the local runtime: `npm start` writes
 * `.local/endpoints.json` whose `env` is exactly what the handlers see (endpoints, fake
 * credentials, table names, queue URLs); it is looked for in the working directory and then in
 * every parent, so the CLI works from any directory of the project. With `--stack <name>
 * [--region] [--profile]` (or `OUTBOX_RELAY_STACK`, or `outbox_relay_stack` in the AWS profile
 * named by `--profile`), a deployed stack: its outputs are named after the env vars in PascalCase
 * (`OUTBOX_TABLE` → `OutboxTable`), so the same env vars are rebuilt from them. Callers apply
 * `env` to `process.env` before creating any SDK client (see `src/cli/ops/context.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import * as z from 'zod';
import { outputNameForEnv } from '../contract/outputNames.js';
import { topology } from '../contract/topology.js';
import { CliError } from './errors.js';

export interface TargetFlags {
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

export interface Target {
  readonly kind: 'local' | 'stack';
  /** One line naming the target, for human output and error messages. */
  readonly description: string;
  /** Environment variables to apply before creating SDK clients. */
  readonly env: Readonly<Record<string, string>>;
  /** Local runtime only: the directory of its endpoints.json (its data directory). */
  readonly localDir?: string;
  /** Local runtime only: its endpoints (`control`, `webSocket`, …). */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Stack only: the stack's name and all its outputs. */
  readonly stack?: { readonly name: string; readonly outputs: Readonly<Record<string, string>> };
}

/** Where `npm start` records the running local runtime (relative to the working directory). */
export const LOCAL_ENDPOINTS_FILE = '.local/endpoints.json';
/** Overrides the directory holding `endpoints.json` (tests, or a runtime started elsewhere). */
export const LOCAL_DIR_ENV = 'OUTBOX_RELAY_LOCAL_DIR';

/**
 * `--data-dir <dir>` (anywhere in the arguments): the offline runtime whose `endpoints.json` is in
 * `<dir>` (a runtime started with `startOfflineRuntime({ dataDir })` or `npm start` elsewhere).
 * Returns the other arguments and the directory, if given.
 */
export function takeDataDirFlag(args: readonly string[]): { args: string[]; dataDir?: string } {
  const rest: string[] = [];
  let dataDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--data-dir') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--'))
        throw new CliError('--data-dir needs a directory', 2);
      dataDir = value;
      i++;
    } else if (arg.startsWith('--data-dir=')) {
      dataDir = arg.slice('--data-dir='.length);
      if (dataDir === '') throw new CliError('--data-dir needs a directory', 2);
    } else rest.push(arg);
  }
  return dataDir === undefined ? { args: rest } : { args: rest, dataDir };
}

const endpointsFileSchema = z.object({
  region: z.string().optional(),
  endpoints: z.record(z.string(), z.unknown()).optional(),
  env: z.record(z.string(), z.string()),
  pid: z.number().int().optional(),
  startedAt: z.string().optional(),
});

/** Every handler env var the topology defines: what a stack's outputs must carry. */
export function topologyEnvNames(): string[] {
  return [
    ...Object.values(topology.tables).map((table) => table.env),
    ...Object.values(topology.queues).map((queue) => queue.env),
    topology.bus.env,
    topology.webSocket.managementEndpointEnv,
  ];
}

/** The stack to act on when `--stack` is not given. */
export const STACK_ENV = 'OUTBOX_RELAY_STACK';
/** The key in an AWS config profile (`~/.aws/config`) that names the profile's stack. */
export const PROFILE_STACK_KEY = 'outbox_relay_stack';

/** `outbox_relay_stack` of `[profile <name>]` (or `[default]`) in the AWS config file, if set. */
export function stackOfProfile(profile: string, configText: string): string | undefined {
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inSection = wanted.includes((section[1] ?? '').trim().replace(/\s+/g, ' '));
      continue;
    }
    const pair = /^([^=]+)=(.*)$/.exec(line);
    if (inSection && pair && pair[1]?.trim() === PROFILE_STACK_KEY) return pair[2]?.trim() || undefined;
  }
  return undefined;
}

function profileStack(profile: string | undefined): string | undefined {
  if (!profile) return undefined;
  const path = process.env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config');
  try {
    return stackOfProfile(profile, readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The stack named by `--stack`, else `OUTBOX_RELAY_STACK`, else the `--profile`'s `outbox_relay_stack`. */
export function chosenStack(flags: TargetFlags): string | undefined {
  return flags.stack || process.env[STACK_ENV] || profileStack(flags.profile);
}

export async function resolveTarget(flags: TargetFlags): Promise<Target> {
  const stack = chosenStack(flags);
  if (stack) return resolveStack(stack, flags.region, flags.profile);
  if (flags.region || flags.profile)
    throw new CliError(
      `--region and --profile only apply to a deployed stack: pass --stack <name>, set ${STACK_ENV}, or add ${PROFILE_STACK_KEY} = <name> to the profile in ~/.aws/config`,
      2,
    );
  return resolveLocal();
}

/**
 * The directory holding the local runtime's endpoints.json: `OUTBOX_RELAY_LOCAL_DIR`, else the
 * first `.local/` with one, from the working directory up to the package root (the nearest
 * directory with a package.json), so a runtime of some unrelated parent directory is never used.
 */
export function findLocalDir(start = process.cwd()): { dir: string; searched: string } {
  const override = process.env[LOCAL_DIR_ENV];
  if (override) return { dir: resolve(override), searched: resolve(override) };
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, LOCAL_ENDPOINTS_FILE);
    if (existsSync(candidate)) return { dir: dirname(candidate), searched: candidate };
    const parent = dirname(dir);
    if (existsSync(join(dir, 'package.json')) || parent === dir) {
      return {
        dir: resolve(start, '.local'),
        searched: `${LOCAL_ENDPOINTS_FILE} in ${resolve(start)}${dir === resolve(start) ? '' : ` or a parent up to ${dir}`}`,
      };
    }
    dir = parent;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

async function resolveLocal(): Promise<Target> {
  const { dir, searched } = findLocalDir();
  const path = join(dir, 'endpoints.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(
      `no local runtime found (no ${searched}): start one with "npm start", or target a deployed stack with --stack <name> (or ${STACK_ENV})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON; restart the local runtime (npm start)`);
  }
  const parsed = endpointsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError(`${path} does not look like a local runtime's endpoints file; restart it (npm start)`);
  const file = parsed.data;
  if (file.pid !== undefined && !isRunning(file.pid)) {
    throw new CliError(
      `the local runtime recorded in ${path} (pid ${file.pid}) is not running; start it with "npm start"`,
    );
  }
  const env = { ...file.env, ...(file.region && !file.env.AWS_REGION ? { AWS_REGION: file.region } : {}) };
  return {
    kind: 'local',
    description: `local runtime (${path}${file.startedAt ? `, started ${file.startedAt}` : ''})`,
    env,
    localDir: dir,
    endpoints: Object.fromEntries(
      Object.entries(file.endpoints ?? {}).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
    ),
  };
}

async function resolveStack(
  stackName: string,
  region: string | undefined,
  profile: string | undefined,
): Promise<Target> {
  const client = new CloudFormationClient({ ...(region ? { region } : {}), ...(profile ? { profile } : {}) });
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = result.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CliError(`cannot read stack ${stackName}${region ? ` in ${region}` : ''}: ${message}`);
  } finally {
    client.destroy();
  }
  const byName = new Map(outputs.map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
  // Matched without regard to case: `WEBSOCKET_MANAGEMENT_ENDPOINT` gives `WebsocketManagementEndpoint`,
  // while the stack's own name for that output is `WebSocketManagementEndpoint`; either will do.
  const byLowerName = new Map(
    outputs.map((output) => [(output.OutputKey ?? '').toLowerCase(), output.OutputValue ?? '']),
  );
  const env: Record<string, string> = {};
  for (const name of topologyEnvNames()) {
    const value = byLowerName.get(outputNameForEnv(name).toLowerCase());
    if (value) env[name] = value;
  }
  if (Object.keys(env).length === 0) {
    throw new CliError(
      `stack ${stackName} has no outputs named after the pipeline's env vars (e.g. ${outputNameForEnv(topology.tables.outbox.env)}); is it an outbox-relay stack?`,
    );
  }
  const resolvedRegion = region ?? (await client.config.region());
  env.AWS_REGION = resolvedRegion;
  if (profile) env.AWS_PROFILE = profile;
  return {
    kind: 'stack',
    description: `stack ${stackName} (${resolvedRegion})`,
    env,
    stack: { name: stackName, outputs: Object.fromEntries(byName) },
  };
}
