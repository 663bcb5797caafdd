import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { OutboxRelayStack } from '../lib/OutboxRelayStack.js';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new OutboxRelayStack(app, 'Test');
const t = Template.fromStack(stack).toJSON();
for (const [id, r] of Object.entries<any>(t.Resources)) {
  if (r.Type !== 'AWS::IAM::Policy') continue;
  if (!/Publisher|WsConnect|Delivery/.test(id)) continue;
  console.log(id);
  for (const s of r.Properties.PolicyDocument.Statement) console.log('  ', JSON.stringify(s.Action), JSON.stringify(s.Resource).slice(0, 200));
}
