import { describe, expect, it } from 'vitest';
import { summariseAttempts } from '../../src/cli/commands/audit.js';
import { describeMessage } from '../../src/cli/commands/dlq.js';
import { CliError } from '../../src/cli/errors.js';
import { positiveInt, timeOption } from '../../src/cli/ops/args.js';
import { parseStreamBatchFailure, sequenceAfter } from '../../src/cli/ops/publisherFailure.js';
import type { DlqMessage } from '../../src/cli/ops/sqsDlq.js';
import type { AuditAttemptItem } from '../../src/core/auditRecord.js';

const message = (body: unknown, attributes: DlqMessage['attributes'] = {}): DlqMessage => ({
  messageId: 'm1',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  receiveCount: 1,
  sentAt: '2026-11-23T10:00:00.000Z',
  attributes,
});

const failure = {
  requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
  responseContext: { functionError: 'Unhandled' },
  DDBStreamBatchInfo: {
    shardId: 'shardId-1',
    startSequenceNumber: '900000000000000000001',
    endSequenceNumber: '900000000000000000010',
    batchSize: 10,
    streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/outbox/stream/2026',
  },
};

describe('CLI option parsing', () => {
  it('reads ISO times and durations ago', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    expect(timeOption('2h', 'since', now)?.toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(timeOption('2026-11-23T11:00:00+01:00', 'since', now)?.toISOString()).toBe(
      '2026-11-23T10:00:00.000Z',
    );
    expect(timeOption(undefined, 'since', now)).toBeUndefined();
    expect(() => timeOption('yesterday', 'since', now)).toThrow(CliError);
  });

  it('refuses a limit that is not a whole number in range, with exit code 2', () => {
    expect(positiveInt('25', 'limit', 50)).toBe(25);
    expect(positiveInt(undefined, 'limit', 50)).toBe(50);
    for (const bad of ['0', '-1', '2.5', 'ten', '100001']) {
      expect(() => positiveInt(bad, 'limit', 50)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});

describe('publisher DLQ messages', () => {
  it('reads the shard and sequence range of an on-failure record', () => {
    expect(parseStreamBatchFailure(JSON.stringify(failure))?.DDBStreamBatchInfo.shardId).toBe('shardId-1');
    expect(parseStreamBatchFailure('{"not":"a failure"}')).toBeUndefined();
    expect(parseStreamBatchFailure('not json')).toBeUndefined();
    expect(describeMessage('publisher', message(failure))).toMatchObject({
      shard: 'shardId-1',
      range: '900000000000000000001..900000000000000000010',
      records: 10,
      detail: 'RetryAttemptsExhausted Unhandled',
    });
  });

  it('compares sequence numbers as integers, not strings', () => {
    expect(sequenceAfter('100', '99')).toBe(true);
    expect(sequenceAfter('99', '100')).toBe(false);
    expect(sequenceAfter('900000000000000000010', '900000000000000000010')).toBe(false);
  });
});

describe('other DLQ messages', () => {
  it('shows a webhook dead letter with its reason and last status', () => {
    const letter = {
      eventId: 'e1',
      endpointId: 'ep_1',
      tenantId: 't1',
      attempt: 1,
      envelope: {
        version: 1,
        id: 'e1',
        source: 'outbox',
        tenantId: 't1',
        channel: 'orders',
        type: 'order.created',
        resourceId: null,
        time: '2026-11-23T10:00:00.000Z',
        position: '2026-11-23T10:00:00.000Z#e1',
        data: {},
      },
      deadLetter: {
        code: 'attempts_exhausted',
        reason: '8 attempts',
        attempts: 8,
        lastStatus: 503,
        at: '2026-11-23T10:00:00.000Z',
      },
    };
    expect(describeMessage('webhook', message(letter))).toMatchObject({
      event: 'e1',
      endpoint: 'ep_1',
      reason: 'attempts_exhausted',
      attempts: 8,
      detail: 'HTTP 503',
    });
  });

  it('shows a bus event that a consumer or EventBridge gave up on', () => {
    const event = { 'detail-type': 'order.created', detail: { id: 'e2', tenantId: 't2' } };
    expect(
      describeMessage(
        'bus',
        message(event, { ERROR_CODE: { DataType: 'String', StringValue: 'SQS.AccessDenied' } }),
      ),
    ).toMatchObject({ event: 'e2', tenant: 't2', type: 'order.created', detail: 'SQS.AccessDenied: ' });
  });
});

describe('audit summaries', () => {
  it('counts outcomes per path', () => {
    const attempt = (path: 'websocket' | 'webhook', outcome: AuditAttemptItem['outcome']) =>
      ({ path, outcome }) satisfies Pick<AuditAttemptItem, 'path' | 'outcome'>;
    const attempts = [
      attempt('webhook', 'failed'),
      attempt('webhook', 'delivered'),
      attempt('websocket', 'delivered'),
    ];
    expect(summariseAttempts(attempts)).toEqual({
      webhook: { failed: 1, delivered: 1 },
      websocket: { delivered: 1 },
    });
  });
});
