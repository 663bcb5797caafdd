import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OutboxRelayStack } from '../lib/OutboxRelayStack.ts';
const t0 = Date.now();
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new OutboxRelayStack(app, 'Test', { options: JSON.parse(process.argv[2] ?? '{}') });
const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
for (const v of report.violations) for (const r of v.violatingResources) console.log(v.severity, v.ruleName, r.constructPath);
console.log('ms', Date.now() - t0);
