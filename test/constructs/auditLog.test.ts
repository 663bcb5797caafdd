/** The audit table, its queue and DLQ, and the audit function's mapping. */
import { describe, expect, it } from 'vitest';
import { queueMappingOf } from '../../lib/eventSourceMappings.js';
import { topology } from '../../src/contract/topology.js';
import { bundledTemplate, functionId, queueId, resource, tableId } from './fixture.js';

const template = bundledTemplate();

describe('AuditLog', () => {
  it('indexes audit records by tenant+channel and by tenant+resource, in position order', () => {
    const props = resource(template, tableId(template, 'audit')).Properties;
    expect(props.GlobalSecondaryIndexes).toEqual(
      topology.tables.audit.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('drains the audit queue with partial batch responses; failures go to the audit DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(template, 'audit') },
      EventSourceArn: { 'Fn::GetAtt': [queueId(template, 'auditQueue'), 'Arn'] },
      BatchSize: queueMappingOf('audit').batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId(template, 'auditDlq'), 'Arn'] },
        maxReceiveCount: topology.queues.auditQueue.deadLetter.maxReceiveCount,
      },
    });
  });
});
