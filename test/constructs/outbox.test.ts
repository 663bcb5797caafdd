/** The outbox table, the publisher, its stream mapping and tracked tables. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { streamMappingOf } from '../../lib/eventSourceMappings.js';
import { type TableName, topology } from '../../src/contract/topology.js';
import { TRACKED_TABLES_ENV } from '../../src/core/trackedTables.js';
import {
  bundledTemplate,
  functionId,
  mappingsOf,
  policyStatementsOf,
  queueId,
  resource,
  synthStack,
  tableId,
} from './fixture.js';

const template = bundledTemplate();
const mapping = streamMappingOf('publisher', 'outbox');

const TRACKED = {
  tableName: 'patch-operations',
  streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/patch-operations/stream/2026-01-01T00:00:00.000',
  tenantAttribute: 'tenantId',
  channel: 'patch_operations',
  typePrefix: 'patch_operation',
};

describe('OutboxTable', () => {
  it('has a NEW_IMAGE stream, point-in-time recovery, encryption and the TTL attribute', () => {
    expect(resource(template, tableId(template, 'outbox')).Properties).toMatchObject({
      StreamSpecification: { StreamViewType: topology.tables.outbox.stream },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: topology.tables.outbox.ttlAttribute, Enabled: true },
    });
  });
});

describe('OutboxPublisher', () => {
  it('reads the outbox stream with partial batch responses, bisect, bounded retries and age, and an SQS on-failure destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(template, 'publisher') },
      EventSourceArn: { 'Fn::GetAtt': [tableId(template, 'outbox'), 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: mapping.maxRetryAttempts,
      MaximumRecordAgeInSeconds: mapping.maxRecordAgeSeconds,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [queueId(template, 'publisherDlq'), 'Arn'] } },
      },
    });
    // Bounded: never the "retry forever / until the record expires" defaults (-1).
    expect(mapping.maxRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(mapping.maxRecordAgeSeconds).toBeGreaterThan(0);
  });

  it('may put events on this bus only and write only to the tables its topology entry lists', () => {
    const statements = policyStatementsOf(template, 'publisher');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^EventBus/), 'Arn'] },
      }),
    );
    const written = JSON.stringify(
      statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:PutItem')).map((s) => s.Resource),
    );
    for (const name of Object.keys(topology.tables) as TableName[]) {
      const access = topology.functions.publisher.tables.find((t) => t.table === name)?.access;
      const writes = access === 'write' || access === 'readWrite';
      expect(written.includes(`"${tableId(template, name)}"`), name).toBe(writes);
    }
  });

  it('hands the tracked-table mappings to the publisher (empty by default)', () => {
    const env = (
      resource(template, functionId(template, 'publisher')).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env[TRACKED_TABLES_ENV]).toBe('[]');
  });

  it('attaches the publisher to each tracked table stream, from LATEST, with the same safety settings', () => {
    const { template: tracked } = synthStack({ trackedTables: [TRACKED] });
    const mappings = mappingsOf(tracked, 'publisher');
    expect(mappings).toHaveLength(2);
    expect(mappings).toContainEqual(
      expect.objectContaining({
        EventSourceArn: TRACKED.streamArn,
        StartingPosition: 'LATEST',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: mapping.maxRetryAttempts,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [queueId(tracked, 'publisherDlq'), 'Arn'] } },
        },
      }),
    );
    // The outbox mapping sees inserts only; a tracked table's updates and deletes are events too.
    const trackedMapping = mappings.find((m) => m.EventSourceArn === TRACKED.streamArn);
    expect(trackedMapping?.FilterCriteria).toBeUndefined();
    const outboxMapping = mappings.find((m) => m.EventSourceArn !== TRACKED.streamArn);
    expect(outboxMapping?.FilterCriteria).toEqual({ Filters: [{ Pattern: '{"eventName":["INSERT"]}' }] });
    const env = (
      resource(tracked, functionId(tracked, 'publisher')).Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(JSON.parse(env[TRACKED_TABLES_ENV] ?? '')).toEqual([TRACKED]);
    // The CLI rebuilds the publisher's environment from the outputs.
    const outputs = (tracked.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(JSON.parse(String(outputs.TrackedTables?.Value))).toEqual([TRACKED]);
    // The stream read grant names the tracked stream, not "*".
    tracked.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['dynamodb:GetRecords']), Resource: TRACKED.streamArn }),
        ]),
      },
    });
  });
});
