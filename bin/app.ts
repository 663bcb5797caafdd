/**
 * The CDK app: one OutboxRelayStack, options from context (cdk.json `outboxRelay`, or
 * `-c outboxRelay.<option>=<value>`), validated at synth; cdk-nag's AwsSolutions checks on
 * everything. Environment-agnostic, so `npx cdk synth` works offline without an AWS account;
 * `npx cdk deploy` uses the CLI's account and region.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutboxRelayStack } from '../lib/OutboxRelayStack.js';

const app = new App();
const stackName = app.node.tryGetContext('stackName');
new OutboxRelayStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'OutboxRelay');
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
