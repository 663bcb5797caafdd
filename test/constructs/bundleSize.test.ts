/**
 * What the default stack deploys per function, read from the synthesized assets (real esbuild
 * bundling, as `cdk deploy` would upload them): every bundle within its size budget, without the
 * X-Ray SDK and without a source map, loading no `@aws-sdk/*` package at module load (the clients
 * are imported on first send); `xraySdk` and `sourceMaps` put them back. Sizes are
 * deterministic for a given lock file; times belong in the bench (bench/scenarios/coldStart.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_BYTES } from '../../lib/bundling.js';
import type { OutboxRelayOptions } from '../../lib/config.js';
import { OutboxRelayStack } from '../../lib/OutboxRelayStack.js';
import { type FunctionName, topology } from '../../src/contract/topology.js';

const KB = 1024;

/**
 * Where a bundle loads an `@aws-sdk/*` package at module load: a static `import … from`, a bare
 * `import "…"`, an `export … from`, or a `require(…)` (the ESM banner's `require` runs CommonJS
 * dependencies at load). `import("@aws-sdk/…")` is the one allowed form: it runs on first use.
 */
function staticSdkLoads(bundle: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*)["'`]@aws-sdk\/[^"'`]+["'`]/g;
  return [...bundle.matchAll(pattern)].map((match) => match[0]);
}

interface Deployed {
  /** Files of the function's asset (what goes into its zip), name → bytes. */
  readonly files: Record<string, number>;
  readonly bundle: string;
  readonly environment: Record<string, string>;
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Synthesize with bundling and map each topology function to its asset directory. */
function deployedFunctions(options?: OutboxRelayOptions): Map<FunctionName, Deployed> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'outbox-relay-bundles-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': ['**'] } });
  const stack = new OutboxRelayStack(app, 'OutboxRelayBundles', options ? { options } : {});
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const found = new Map<FunctionName, Deployed>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const environment =
      (resource.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ??
      {};
    const name = Object.keys(topology.functions).find((fn) => environment.POWERTOOLS_SERVICE_NAME === fn) as
      | FunctionName
      | undefined;
    if (!name) continue; // CDK's own helper functions
    const key = (resource.Properties.Code as { S3Key?: unknown }).S3Key;
    if (typeof key !== 'string') throw new Error(`${name}: no S3 key for its code`);
    const directory = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const files: Record<string, number> = {};
    for (const file of readdirSync(directory)) files[file] = statSync(path.join(directory, file)).size;
    const bundle = readFileSync(path.join(directory, 'index.mjs'), 'utf8');
    found.set(name, { files, bundle, environment });
  }
  return found;
}

describe('deployed bundles', () => {
  const defaults = deployedFunctions();

  it('bundles every topology function', () => {
    expect([...defaults.keys()].sort()).toEqual(Object.keys(topology.functions).sort());
  });

  it.each(Object.keys(topology.functions) as FunctionName[])('%s stays within its size budget', (name) => {
    const deployed = defaults.get(name);
    if (!deployed) throw new Error(`${name} was not deployed`);
    const bytes = deployed.files['index.mjs'] ?? 0;
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes, `${name}: ${(bytes / KB).toFixed(1)} KB`).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it('ships no X-Ray SDK and no source map by default', () => {
    for (const [name, deployed] of defaults) {
      expect(Object.keys(deployed.files), name).toEqual(['index.mjs']);
      expect(deployed.bundle, name).not.toContain('AWS_XRAY_DAEMON_ADDRESS');
      expect(deployed.bundle, name).not.toContain('sourceMappingURL');
      expect(deployed.environment.NODE_OPTIONS ?? '', name).not.toContain('--enable-source-maps');
    }
  });

  it('finds static SDK loads in minified output, and not dynamic imports', () => {
    expect(
      staticSdkLoads(
        'import{a as b}from"@aws-sdk/client-sqs";import*as c from\'@aws-sdk/lib-dynamodb\';import"@aws-sdk/x";export*from"@aws-sdk/y";var d=require("@aws-sdk/z");',
      ),
    ).toEqual([
      'from"@aws-sdk/client-sqs"',
      "from'@aws-sdk/lib-dynamodb'",
      'import"@aws-sdk/x"',
      'from"@aws-sdk/y"',
      'require("@aws-sdk/z"',
    ]);
    expect(
      staticSdkLoads('var s={packages:"@aws-sdk/client-sqs",load:()=>import("@aws-sdk/client-sqs")};'),
    ).toEqual([]);
  });

  it.each(Object.keys(topology.functions) as FunctionName[])(
    '%s loads no AWS SDK package at module load (only on first use)',
    (name) => {
      const deployed = defaults.get(name);
      if (!deployed) throw new Error(`${name} was not deployed`);
      expect(staticSdkLoads(deployed.bundle)).toEqual([]);
    },
  );

  it('bundles the tracer with xraySdk and ships source maps with sourceMaps', () => {
    const traced = deployedFunctions({ xraySdk: true, sourceMaps: true });
    const fanout = traced.get('fanout');
    if (!fanout) throw new Error('fanout was not deployed');
    expect(fanout.bundle).toContain('AWS_XRAY_DAEMON_ADDRESS');
    expect(Object.keys(fanout.files).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(fanout.environment.NODE_OPTIONS).toContain('--enable-source-maps');
    expect(fanout.files['index.mjs'] ?? 0).toBeGreaterThan(defaults.get('fanout')?.files['index.mjs'] ?? 0);
  });
});
