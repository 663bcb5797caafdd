/**
 * Which system the end-to-end suite runs against: the offline runtime (default) or a deployed
 * stack (`E2E_TARGET=stack STACK_NAME=<name> [AWS_REGION] [AWS_PROFILE]`, e.g. on LocalStack with
 * `AWS_ENDPOINT_URL=http://localhost:4566`). A stack target is read from the stack's outputs,
 * named after the handlers' env vars (`OUTBOX_TABLE` → `OutboxTable`), so tests get the same
 * `env` either way. See docs/localstack.md.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { resolveTarget } from '../../../src/cli/target.js';

export interface StackTarget {
  readonly kind: 'stack';
  readonly stackName: string;
  /** The handlers' environment rebuilt from the stack outputs (table names, queue URLs, bus name). */
  readonly env: Readonly<Record<string, string>>;
  /** Every output of the stack by name (`WebSocketUrl`, `JwtSecretArn`, ...). */
  readonly outputs: Readonly<Record<string, string>>;
}

export function isStackTarget(): boolean {
  return process.env.E2E_TARGET === 'stack';
}

export function stackName(): string {
  const name = process.env.STACK_NAME;
  if (!name) throw new Error('E2E_TARGET=stack needs STACK_NAME=<the deployed stack>');
  return name;
}

/** Reads the deployed stack's outputs and applies them to process.env (before any SDK client is made). */
export async function openStackTarget(): Promise<StackTarget> {
  const name = stackName();
  const target = await resolveTarget({
    stack: name,
    ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
  });
  Object.assign(process.env, target.env);
  const described = await new CloudFormationClient({ region: target.env.AWS_REGION }).send(
    new DescribeStacksCommand({ StackName: name }),
  );
  const outputs = Object.fromEntries(
    (described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
  );
  return { kind: 'stack', stackName: name, env: target.env, outputs };
}
