/**
 * Least-privilege grants for the functions, written out instead of CDK's `grant*Data`: those
 * include `dynamodb:Scan` in every read grant and `kms:GenerateDataKey*` / `kms:ReEncrypt*` with
 * a customer-managed key, and no handler scans or re-encrypts. The rule pack
 * (lib/nag/OutboxRelayChecks.ts) refuses `Scan` and wildcard verbs in function roles.
 */
import { Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';

export type TableAccess = 'read' | 'write' | 'readWrite';

/** Item reads the handlers make: single items, batches and index queries; never a scan. */
export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;

export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;

/** What DynamoDB asks of a caller's key permissions, verb by verb (no `GenerateDataKey*`). */
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;
const KEY_WRITE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Table (and, when it has indexes, its indexes) with only the verbs `access` needs. */
export function grantTable(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  access: TableAccess,
  options: {
    hasIndexes?: boolean;
    /**
     * Reads may return only these attributes (IAM `dynamodb:Attributes`, and a request must name
     * them: `Select: SPECIFIC_ATTRIBUTES`), e.g. an endpoint without its signing secrets.
     */
    readableAttributes?: readonly string[];
  } = {},
): void {
  const reads = access === 'read' || access === 'readWrite';
  const writes = access === 'write' || access === 'readWrite';
  const restricted = options.readableAttributes !== undefined;
  const add = (actions: readonly string[], resources: string[], conditions?: Record<string, unknown>) =>
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...actions], resources, ...(conditions ? { conditions } : {}) }),
    );
  if (reads) {
    add(
      TABLE_READ_ACTIONS,
      [table.tableArn, ...(options.hasIndexes ? [`${table.tableArn}/index/*`] : [])],
      restricted
        ? {
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...(options.readableAttributes ?? [])] },
            StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
          }
        : undefined,
    );
  }
  if (writes) {
    // With a read restriction, a write may not return old or new values either (they could hold
    // the attributes the reads may not see).
    add(
      restricted ? TABLE_WRITE_ACTIONS.filter((a) => a !== 'dynamodb:DescribeTable') : TABLE_WRITE_ACTIONS,
      [table.tableArn],
      restricted ? { StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' } } : undefined,
    );
  }
  if (table.encryptionKey) {
    const keyActions = unique([...(reads ? KEY_READ_ACTIONS : []), ...(writes ? KEY_WRITE_ACTIONS : [])]);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: keyActions, resources: [table.encryptionKey.keyArn] }),
    );
  }
}

/** The `@connections` verbs the handlers call: PostToConnection (POST) and DeleteConnection (DELETE). */
export const MANAGEMENT_API_METHODS = ['POST', 'DELETE'] as const;

/** `execute-api:ManageConnections` on this stage's `@connections`, for the methods used only. */
export function grantManageConnections(grantee: iam.IGrantable, stage: apigwv2.IWebSocketStage): void {
  const stack = Stack.of(stage);
  const resources = MANAGEMENT_API_METHODS.map((method) =>
    stack.formatArn({
      service: 'execute-api',
      resource: stage.api.apiId,
      resourceName: `${stage.stageName}/${method}/@connections/*`,
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources }),
  );
}
