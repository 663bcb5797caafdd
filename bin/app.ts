/**
 * The CDK app: one OutboxRelayStack, options from context (cdk.json `outboxRelay`, or
 * `-c outboxRelay.<option>=<value>`), validated at synth; cdk-nag's AwsSolutions checks and the
 * project's own OutboxRelay rule pack on everything. Environment-agnostic, so `npx cdk synth` works offline without an AWS account;
 * `npx cdk deploy` uses the CLI's account and region.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutboxRelayChecks } from '../lib/nag/OutboxRelayChecks.js';
import { OutboxRelayStack } from '../lib/OutboxRelayStack.js';

const app = new App();
const stackName = app.node.tryGetContext('stackName');
new OutboxRelayStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'OutboxRelay');
// cdk-nag 3 packs are policy-validation plugins: any unacknowledged finding fails the synth.
// OutboxRelayChecks holds the AWS rules the pipeline's settings depend on (docs/deploy.md).
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { verbose: true }),
  new OutboxRelayChecks(app, { verbose: true }),
);
app.synth();
