/**
 * The CDK app: one OutboxRelayStack, options from context (cdk.json `outboxRelay`, or
 * `-c outboxRelay.<option>=<value>`), validated at synth; cdk-nag's AwsSolutions checks on
 * everything. Environment-agnostic, so `npx cdk synth` works offline without an AWS account;
 * `npx cdk deploy` uses the CLI's account and region.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutboxRelayStack } from '../lib/OutboxRelayStack.js';

const app = new App();
const stackName = app.node.tryGetContext('stackName');
new OutboxRelayStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'OutboxRelay');
// cdk-nag 3 is a policy-validation plugin: any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
