/**
 * Where a CLI command acts. By default the local runtime: `npm start` writes
 * `.local/endpoints.json` whose `env` is exactly what the handlers see (endpoints, fake
 * credentials, table names, queue URLs). With `--stack <name> [--region] [--profile]`, a deployed
 * stack: its outputs are named after the env vars in PascalCase (`OUTBOX_TABLE` → `OutboxTable`),
 * so the same env vars are rebuilt from them. Callers apply `env` to `process.env` before creating
 * any SDK client (see `src/cli/ops/context.ts`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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

export async function resolveTarget(flags: TargetFlags): Promise<Target> {
  if (flags.stack) return resolveStack(flags.stack, flags.region, flags.profile);
  if (flags.region || flags.profile)
    throw new CliError('--region and --profile only apply with --stack <name>', 2);
  return resolveLocal();
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
  const dir = process.env[LOCAL_DIR_ENV];
  const path = dir ? resolve(dir, 'endpoints.json') : resolve(LOCAL_ENDPOINTS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(
      `no local runtime found (${path} is missing): start one with "npm start", or target a deployed stack with --stack <name>`,
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
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot read stack ${stackName}${region ? ` in ${region}` : ''}: ${message}`);
  }
  const byName = new Map(outputs.map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
  const env: Record<string, string> = {};
  for (const name of topologyEnvNames()) {
    const value = byName.get(outputNameForEnv(name));
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
  return { kind: 'stack', description: `stack ${stackName} (${resolvedRegion})`, env };
}
