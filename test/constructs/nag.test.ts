/** cdk-nag's AwsSolutions pack finds nothing unacknowledged, in the default and the optional configurations. */
import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthStack } from './fixture.js';

function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations
    .filter((v) => v.severity === 'error' || v.severity === 'warning')
    .flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning for the default stack', () => {
    expect(findings(synthStack().stack)).toEqual([]);
  });

  it('reports none with OIDC auth, an alarm e-mail, tracked tables and tracing off', () => {
    const { stack } = synthStack({
      auth: { mode: 'oidc', issuer: 'https://issuer.example.com', audience: 'outbox-relay' },
      alarmEmail: 'ops@example.com',
      tracing: false,
      removalPolicy: 'destroy',
      trackedTables: [
        {
          tableName: 'orders',
          streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
          tenantAttribute: 'tenant',
          channelAttribute: 'channel',
          typePrefix: 'order',
        },
      ],
    });
    expect(findings(stack)).toEqual([]);
  });

  it('does report an unprotected queue (the check is live)', () => {
    const stack = new Stack();
    new sqs.Queue(stack, 'Plain');
    expect(findings(stack).some((f) => f.includes('AwsSolutions-SQS4'))).toBe(true);
  });
});
