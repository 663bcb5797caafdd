/** Options: defaults, context, and synth-time validation with errors that name the option. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  InvalidConfigurationError,
  optionsFromContext,
  parseConfig,
  resolveConfig,
} from '../../lib/config.js';
import { REPOSITORY_ROOT } from '../../lib/TopologyFunction.js';
import { topology } from '../../src/contract/topology.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../src/core/retrySchedule.js';
import { resourcesOfType, synthStack } from './fixture.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected an error');
}

describe('configuration', () => {
  it('defaults to safe values taken from the topology and the handlers', () => {
    const config = parseConfig({});
    expect(config.namePrefix).toBeUndefined();
    expect(config).toMatchObject({
      removalPolicy: 'retain',
      maxConcurrency: {},
      connectReservedConcurrency: topology.functions.wsAuthorizer.reservedConcurrency,
      webhookDeliveryRetentionDays: topology.queues.webhookDeliveryQueue.retentionDays,
      archiveRetentionDays: topology.bus.archiveRetentionDays,
      webhookRetrySchedule: [...DEFAULT_RETRY_SCHEDULE_SECONDS],
      auth: { mode: 'hs256' },
      allowedOrigins: [],
      trackedTables: [],
      fanout: { coalesce: true, maxEventsPerFrame: 50, batchingWindowSeconds: 1, chunkThreshold: 2000 },
      webhookCircuit: { openAfterFailures: 5, cooldownSeconds: 30 },
      tracing: true,
      xraySdk: false,
      sourceMaps: false,
    });
  });

  it.each([
    [{ webhookRetrySchedule: [0, 5, -1] }, 'webhookRetrySchedule[2] must be a positive number of seconds'],
    [{ webhookRetrySchedule: [5, 10] }, 'webhookRetrySchedule must start with 0'],
    [{ logRetentionDays: 31 }, "logRetentionDays must be one of CloudWatch's retention periods"],
    [{ auth: { mode: 'oidc' } }, 'auth.issuer is required when auth.mode is "oidc"'],
    [{ auth: { mode: 'jwt' } }, 'auth.mode must be "hs256" or "oidc"'],
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail must be an e-mail address'],
    [{ allowedOrigins: ['app.example.com'] }, 'allowedOrigins[0] must be an origin'],
    [{ batchSizes: { audit: 0 } }, 'batchSizes.audit must be at least 1'],
    [{ webhookCircuit: { cooldownSeconds: 901 } }, 'webhookCircuit.cooldownSeconds must be at most 900'],
    [{ batchSizes: { nope: 5 } }, 'batchSizes.nope is not an option'],
    [
      { fanout: { batchingWindowSeconds: 0 } },
      'fanout.batchingWindowSeconds must be at least 1 when the fan-out batch size',
    ],
    [{ namePrefix: 'Bad Name' }, 'namePrefix must be'],
    [{ maxConcurrency: { fanout: 1 } }, 'maxConcurrency.fanout must be at least 2'],
    [{ maxConcurrency: { publisher: 5 } }, 'maxConcurrency.publisher is not an option'],
    [{ connectReservedConcurrency: -1 }, 'connectReservedConcurrency must be at least 0'],
    [{ webhookDeliveryRetentionDays: 15 }, 'webhookDeliveryRetentionDays must be at most 14'],
    [
      { webhookDeliveryRetentionDays: 4 },
      'webhookDeliveryRetentionDays (4) is shorter than the worst case of webhookRetrySchedule',
    ],
    [{ retentionDays: 3 }, 'retentionDays is not an option'],
    [
      {
        trackedTables: [
          {
            tableName: 'orders',
            streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/x',
            tenantAttribute: 't',
            channel: 'c',
            typePrefix: 'o',
          },
        ],
      },
      'trackedTables[0].streamArn must belong to the table named by tableName',
    ],
  ])('refuses %j naming the option', (options, expected) => {
    const message = messageOf(() => parseConfig(options));
    expect(message.startsWith('Invalid outbox-relay configuration: ')).toBe(true);
    expect(message).toContain(expected);
  });

  it('reads the cdk.json object and -c overrides, coercing command-line strings', () => {
    const context: Record<string, unknown> = {
      outboxRelay: { namePrefix: 'from-json', resumeLimit: 10 },
      'outboxRelay.webhookRetrySchedule': '0,30,600',
      'outboxRelay.fanout.coalesce': 'false',
      'outboxRelay.allowedOrigins': 'https://app.example.com',
      'outboxRelay.resumeLimit': '20',
    };
    const options = optionsFromContext((key) => context[key]);
    expect(parseConfig(options)).toMatchObject({
      namePrefix: 'from-json',
      resumeLimit: 20,
      webhookRetrySchedule: [0, 30, 600],
      fanout: { coalesce: false },
      allowedOrigins: ['https://app.example.com'],
    });
  });

  it('lets typed props win over context', () => {
    const context: Record<string, unknown> = {
      outboxRelay: { namePrefix: 'from-context', fanout: { coalesce: false } },
    };
    const config = resolveConfig({
      props: { namePrefix: 'from-props', fanout: { maxEventsPerFrame: 5 } },
      context: (k) => context[k],
    });
    expect(config.namePrefix).toBe('from-props');
    expect(config.fanout).toMatchObject({ coalesce: false, maxEventsPerFrame: 5 });
  });

  it('fails stack construction on an invalid context option', () => {
    expect(() => synthStack(undefined, { 'outboxRelay.webhookRetrySchedule': '0,5,-1' })).toThrow(
      InvalidConfigurationError,
    );
  });

  it('makes `cdk synth` fail with a message naming the invalid option', () => {
    // Validation runs in the stack's constructor, before any bundling: this synth stops early.
    const result = spawnSync(
      'npx',
      [
        'cdk',
        'synth',
        '--quiet',
        '-o',
        'cdk.out/invalid-option-test',
        '-c',
        'outboxRelay.webhookRetrySchedule=0,5,-1',
      ],
      { cwd: REPOSITORY_ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain(
      'Invalid outbox-relay configuration: webhookRetrySchedule[2] must be a positive number of seconds',
    );
  });

  it('turns X-Ray on for every function by default, and with tracing off also keeps the X-Ray SDK unloaded', () => {
    const functionsOf = (tracing: boolean) =>
      resourcesOfType(synthStack({ tracing }).template, 'AWS::Lambda::Function').filter(
        ([, fn]) => (fn.Properties as { Environment?: unknown }).Environment !== undefined,
      );
    const traced = functionsOf(true);
    expect(traced.length).toBeGreaterThan(5);
    for (const [id, fn] of traced) {
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(JSON.stringify(fn.Properties.Environment), id).not.toContain('POWERTOOLS_TRACE_ENABLED');
    }
    const untraced = functionsOf(false);
    expect(untraced.length).toBe(traced.length);
    for (const [id, fn] of untraced) {
      expect(fn.Properties.TracingConfig, id).toBeUndefined();
      expect(fn.Properties.Environment, id).toMatchObject({
        Variables: { POWERTOOLS_TRACE_ENABLED: 'false' },
      });
    }
  });
});
