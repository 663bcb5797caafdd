/**
 * Shared synthesis for the construct tests.
 *
 * - `bundledTemplate()`: the default stack synthesized with real esbuild bundling of every
 *   handler (proving they bundle for Node 22). Bundling ~9 functions is the slow part, so the
 *   template is cached on disk, keyed by a hash of everything that can change it (lib, bin,
 *   lambdas, src, lock file, cdk.json): one synthesis per change, shared by every test file
 *   (vitest runs files in separate workers, so an in-memory cache would not be shared).
 * - `synthStack(options)`: a stack without bundling (asset code is a placeholder; everything
 *   else is identical) and without CDK's built-in CloudFormation schema validation (which the
 *   bundled synthesis runs), memoized per options; fast enough for variants and cdk-nag.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { OutboxRelayOptions } from '../../lib/config.js';
import { OutboxRelayStack } from '../../lib/OutboxRelayStack.js';
import { REPOSITORY_ROOT } from '../../lib/TopologyFunction.js';
import { outputNameForEnv } from '../../src/contract/outputNames.js';
import { type FunctionName, type QueueName, type TableName, topology } from '../../src/contract/topology.js';

const HASHED_DIRECTORIES = ['lib', 'bin', 'lambdas', 'src'];
const HASHED_FILES = ['package-lock.json', 'cdk.json', 'tsconfig.json'];
const CACHE_DIRECTORY = path.join(REPOSITORY_ROOT, 'node_modules', '.cache', 'outbox-relay', 'constructs');

function listFiles(directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return [];
  }
  return entries.sort().flatMap((entry) => {
    const full = path.join(directory, entry);
    return statSync(full).isDirectory() ? listFiles(full) : [full];
  });
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...HASHED_DIRECTORIES.flatMap((dir) => listFiles(path.join(REPOSITORY_ROOT, dir))),
    ...HASHED_FILES.map((file) => path.join(REPOSITORY_ROOT, file)),
  ];
  for (const file of files) {
    hash.update(path.relative(REPOSITORY_ROOT, file));
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('missing');
    }
  }
  return hash.digest('hex').slice(0, 32);
}

export const DEFAULT_STACK_NAME = 'OutboxRelayTest';

let bundled: Template | undefined;

/** The default stack's template, with every handler bundled by esbuild (cached on disk). */
export function bundledTemplate(): Template {
  if (bundled) return bundled;
  const cacheFile = path.join(CACHE_DIRECTORY, `${inputsHash()}.template.json`);
  try {
    bundled = Template.fromJSON(JSON.parse(readFileSync(cacheFile, 'utf8')));
    return bundled;
  } catch {
    // not cached yet
  }
  const outdir = mkdtempSync(path.join(tmpdir(), 'outbox-relay-cdk-'));
  try {
    const app = new App({ outdir });
    const stack = new OutboxRelayStack(app, DEFAULT_STACK_NAME);
    const json = Template.fromStack(stack).toJSON();
    mkdirSync(CACHE_DIRECTORY, { recursive: true });
    const partial = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(json));
    renameSync(partial, cacheFile); // atomic: a concurrent reader never sees half a file
    bundled = Template.fromJSON(json);
    return bundled;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const stacks = new Map<string, { stack: OutboxRelayStack; template: Template }>();

/** A stack (and its template) for these options and context, without bundling. */
export function synthStack(
  options?: OutboxRelayOptions,
  context: Record<string, unknown> = {},
): { stack: OutboxRelayStack; template: Template } {
  const key = JSON.stringify([options ?? null, context]);
  const cached = stacks.get(key);
  if (cached) return cached;
  // No stack is in the bundling list: NodejsFunction skips esbuild and uses placeholder code.
  // CDK's built-in CloudFormation schema validation (WebAssembly, ~10 s to load) already runs on
  // the bundled default template; variants skip it.
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new OutboxRelayStack(app, DEFAULT_STACK_NAME, options ? { options } : {});
  const result = { stack, template: Template.fromStack(stack) };
  stacks.set(key, result);
  return result;
}

type Json = Record<string, unknown>;

function resourcesOf(template: Template): Record<string, Json> {
  const json = template.toJSON() as { Resources: Record<string, Json> };
  return json.Resources;
}

export function resource(template: Template, logicalId: string): Json & { Type: string; Properties: Json } {
  const found = resourcesOf(template)[logicalId];
  if (!found) throw new Error(`No resource ${logicalId} in the template`);
  return found as Json & { Type: string; Properties: Json };
}

function refOfOutput(template: Template, outputName: string): string {
  const outputs = (template.toJSON() as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
  const value = outputs[outputName]?.Value;
  if (typeof value === 'object' && value !== null && 'Ref' in value && typeof value.Ref === 'string')
    return value.Ref;
  throw new Error(`Output ${outputName} is not a Ref to a resource: ${JSON.stringify(value)}`);
}

/** Logical id of a topology table, found through its stack output (`OUTBOX_TABLE` → `OutboxTable`). */
export function tableId(template: Template, name: TableName): string {
  return refOfOutput(template, outputNameForEnv(topology.tables[name].env));
}

/** Logical id of a topology queue, found through its stack output. */
export function queueId(template: Template, name: QueueName): string {
  return refOfOutput(template, outputNameForEnv(topology.queues[name].env));
}

/** Logical id of a topology function, found by its `POWERTOOLS_SERVICE_NAME`. */
export function functionId(template: Template, name: FunctionName): string {
  const matches = Object.entries(resourcesOf(template)).filter(([, r]) => {
    if (r.Type !== 'AWS::Lambda::Function') return false;
    const props = r.Properties as { Environment?: { Variables?: Record<string, unknown> } };
    return props.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === name;
  });
  if (matches.length !== 1) throw new Error(`Expected one function ${name}, found ${matches.length}`);
  return (matches[0] as [string, Json])[0];
}

/** Resources of a type, as [logicalId, resource] pairs. */
export function resourcesOfType(template: Template, type: string): [string, Json & { Properties: Json }][] {
  return Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === type) as [
    string,
    Json & { Properties: Json },
  ][];
}

/** The statements of every IAM policy attached to a function's role. */
export function policyStatementsOf(template: Template, fn: FunctionName): Json[] {
  const fnResource = resource(template, functionId(template, fn));
  const role = (fnResource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role })),
    )
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement);
}

/** Event source mappings of a function. */
export function mappingsOf(template: Template, fn: FunctionName): Json[] {
  const id = functionId(template, fn);
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')
    .filter(([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: id }))
    .map(([, m]) => m.Properties);
}
