import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/cli/commands/replay.js';
import { typeMatcher } from '../../src/cli/commands/tail.js';
import { CliError, describeUnreachable } from '../../src/cli/errors.js';
import { outputFormat, refuseInapplicable } from '../../src/cli/ops/args.js';
import { decodeCursor, encodeCursor } from '../../src/cli/ops/cursor.js';
import { assessStatus, type StatusSnapshot } from '../../src/cli/ops/statusReport.js';
import { localStreamLag } from '../../src/cli/ops/streamLag.js';
import { closest, editDistance } from '../../src/cli/suggest.js';
import { stackOfProfile } from '../../src/cli/target.js';

const exitCodeOf = (action: () => unknown): number | undefined => {
  try {
    action();
  } catch (error) {
    return error instanceof CliError ? error.exitCode : -1;
  }
  return undefined;
};

describe('paging cursor', () => {
  it('gives back exactly the position it was made from, for any position', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'binary' }), (position) => {
        const cursor = encodeCursor(position);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(cursor)).toBe(position);
      }),
    );
  });

  it('refuses anything it did not issue with a usage error, never a crash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        let decoded: string | undefined;
        try {
          decoded = decodeCursor(text);
        } catch (error) {
          expect(error).toBeInstanceOf(CliError);
          expect((error as CliError).exitCode).toBe(2);
          return;
        }
        expect(encodeCursor(decoded)).toBe(text.replace(/=+$/, ''));
      }),
    );
    expect(exitCodeOf(() => decodeCursor('2026-11-30T10:00:00.000Z'))).toBe(2);
  });
});

describe('did you mean', () => {
  it('suggests the command one typo away and nothing for unrelated words', () => {
    const commands = ['status', 'audit', 'dlq', 'webhooks', 'replay', 'send-close'];
    expect(closest('stauts', commands)).toBe('status');
    expect(closest('webhook', commands)).toBe('webhooks');
    expect(closest('sendclose', commands)).toBe('send-close');
    expect(closest('banana', commands)).toBeUndefined();
  });

  it('measures edit distance as a metric (symmetric, zero only for equal words)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('option conventions', () => {
  it('refuses options the subcommand does not use, and accepts the global ones', () => {
    expect(exitCodeOf(() => refuseInapplicable({ url: 'x', json: true }, ['tenant'], 'webhooks list'))).toBe(
      2,
    );
    expect(
      exitCodeOf(() =>
        refuseInapplicable({ tenant: 'a', json: true, stack: 's', 'dry-run': false }, ['tenant'], 'x'),
      ),
    ).toBeUndefined();
  });

  it('reads --output and --json as one choice', () => {
    expect(outputFormat({})).toBe('table');
    expect(outputFormat({ json: true })).toBe('json');
    expect(outputFormat({ output: 'jsonl' })).toBe('jsonl');
    expect(exitCodeOf(() => outputFormat({ output: 'yaml' }))).toBe(2);
    expect(exitCodeOf(() => outputFormat({ json: true, output: 'table' }))).toBe(2);
  });

  it('parses --route lists and refuses unknown routes', () => {
    expect(parseRoutes(undefined).sort()).toEqual(['audit', 'fanout', 'webhooks']);
    expect(parseRoutes('audit,webhooks')).toEqual(['audit', 'webhooks']);
    expect(exitCodeOf(() => parseRoutes('webhook,nowhere'))).toBe(2);
  });

  it('matches tail --type exactly or by a .* prefix', () => {
    expect(typeMatcher('order.*')('order.created')).toBe(true);
    expect(typeMatcher('order.*')('orders.created')).toBe(false);
    expect(typeMatcher('order.created')('order.created.v2')).toBe(false);
    expect(typeMatcher(undefined)('anything')).toBe(true);
  });

  it('finds the stack named in an AWS config profile', () => {
    const config = [
      '[default]',
      'region = us-east-1',
      '[profile prod]  ',
      'region = eu-west-1',
      'outbox_relay_stack = OutboxRelay-prod # the production stack',
      '[profile dev]',
      'region = eu-west-1',
    ].join('\n');
    expect(stackOfProfile('prod', config)).toBe('OutboxRelay-prod');
    expect(stackOfProfile('dev', config)).toBeUndefined();
    expect(stackOfProfile('default', config)).toBeUndefined();
  });
});

describe('unreachable targets', () => {
  it('turns a refused connection, however deeply wrapped, into one line naming the target', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 4566,
    });
    const wrapped = new TypeError('fetch failed', { cause: new AggregateError([socket]) });
    const line = describeUnreachable(wrapped, 'local runtime (.local/endpoints.json)');
    expect(line).toMatch(
      /^cannot reach local runtime .* at 127\.0\.0\.1:4566: connection refused; .*npm start/,
    );
    expect(line).not.toContain('\n');
    expect(describeUnreachable(new Error('ValidationException'), 'x')).toBeUndefined();
  });
});

const snapshot = (overrides: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  target: 'local runtime',
  at: '2026-11-30T10:00:00.000Z',
  dlqs: [
    { kind: 'publisher', depth: 0, sampled: 0 },
    { kind: 'webhook', depth: 0, sampled: 0 },
  ],
  quarantine: { count: 0, capped: false, days: 14 },
  endpoints: [],
  iteratorAge: { unavailable: 'not reported' },
  ...overrides,
});

describe('status', () => {
  it('is green when every DLQ and the quarantine are empty and no endpoint is disabled or open', () => {
    expect(assessStatus(snapshot())).toEqual({ ok: true, attention: [] });
  });

  it('is red, with the command to look closer, for each thing that needs attention', () => {
    const result = assessStatus(
      snapshot({
        dlqs: [{ kind: 'webhook', depth: 3, sampled: 3, oldestAgeSeconds: 7_300 }],
        quarantine: { count: 1000, capped: true, days: 14 },
        endpoints: [
          {
            id: 'ep_1',
            tenantId: 'acme',
            url: 'https://x',
            enabled: false,
            disabledReason: 'gone',
            failureStreak: 0,
          },
          {
            id: 'ep_2',
            tenantId: 'acme',
            url: 'https://y',
            enabled: true,
            failureStreak: 7,
            circuitOpenForSeconds: 90,
          },
        ],
        iteratorAge: { seconds: 600 },
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.attention).toEqual([
      'webhook DLQ holds 3 message(s), oldest 2h: npx outbox-relay dlq show webhook',
      'quarantine holds at least 1000 row(s): npx outbox-relay dlq list quarantine',
      'webhook endpoint ep_1 (acme) is disabled: gone: npx outbox-relay webhooks show ep_1',
      'webhook endpoint ep_2 (acme) has its circuit open for 90s after 7 failures: npx outbox-relay webhooks test ep_2',
      'the publisher is 10m behind the outbox stream',
    ]);
  });
});

describe('local iterator age', () => {
  it('is the age of the oldest stream record past the publisher checkpoint, and 0 when none is pending', async () => {
    const streams = mockClient(DynamoDBStreamsClient);
    const dir = mkdtempSync(join(tmpdir(), 'outbox-relay-lag-'));
    try {
      const path = join(dir, 'checkpoints.json');
      writeFileSync(
        path,
        JSON.stringify({
          version: 1,
          mappings: {
            'publisher:outbox': {
              streamArn: 'arn:stream/outbox',
              shards: { 'shard-1': { sequenceNumber: '100' } },
            },
            'audit-consumer:other': { streamArn: 'arn:stream/other', shards: {} },
          },
        }),
      );
      const now = new Date('2026-11-30T10:00:00.000Z');
      streams.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
      streams
        .on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '100' })
        .resolves({ ShardIterator: 'it-1' });
      streams.on(GetRecordsCommand).resolvesOnce({
        Records: [{ dynamodb: { ApproximateCreationDateTime: new Date('2026-11-30T09:58:30.000Z') } }],
      });
      const client = new DynamoDBStreamsClient({ region: 'us-east-1' });
      expect(await localStreamLag(client, path, now)).toEqual({ seconds: 90 });
      streams.on(GetRecordsCommand).resolves({ Records: [] });
      expect(await localStreamLag(client, path, now)).toEqual({ seconds: 0 });
      expect(streams.commandCalls(DescribeStreamCommand).map((c) => c.args[0].input.StreamArn)).not.toContain(
        'arn:stream/other',
      );
      expect(await localStreamLag(client, join(dir, 'missing.json'), now)).toMatchObject({
        unavailable: expect.stringContaining('in-memory'),
      });
    } finally {
      streams.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
