/**
 * Bring-your-own outbox table and event bus (`existingOutboxTable`, `existingEventBus`): nothing
 * is created in their place, the publisher reads the given table's stream and is granted on the
 * given table and bus, the rules and the archive sit on the given bus; a table that cannot be the
 * outbox (no stream, other keys, no new image) is refused at synth with a clear error.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import { ExistingResourceError } from '../../lib/index.js';
import { OutboxRelay, type OutboxRelayProps } from '../../lib/OutboxRelay.js';
import { topology } from '../../src/contract/topology.js';
import { functionId, mappingsOf, policyStatementsOf, resourcesOfType } from './fixture.js';

const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/shop-outbox';
const STREAM_ARN = `${TABLE_ARN}/stream/2026-01-01T00:00:00.000`;
const BUS_ARN = 'arn:aws:events:eu-west-1:123456789012:event-bus/shop-bus';

function appStack(): Stack {
  // No bundling (placeholder code) and no schema validation: the test is about wiring.
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  return new Stack(app, 'ShopStack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function outboxLikeTable(stack: Stack, props: Partial<dynamodb.TableProps> = {}): dynamodb.Table {
  return new dynamodb.Table(stack, 'ShopOutbox', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_IMAGE,
    timeToLiveAttribute: 'expiresAt',
    ...props,
  });
}

function synth(stack: Stack, props: OutboxRelayProps): { relay: OutboxRelay; template: Template } {
  const relay = new OutboxRelay(stack, 'Relay', props);
  return { relay, template: Template.fromStack(stack) };
}

/** Every action a list of statements allows on a resource (matched by its JSON). */
function actionsOn(statements: Record<string, unknown>[], resource: unknown): string[] {
  const wanted = JSON.stringify(resource);
  return statements
    .filter((statement) => {
      const resources = [statement.Resource].flat();
      return resources.some((r) => JSON.stringify(r) === wanted);
    })
    .flatMap((statement) => [statement.Action].flat() as string[]);
}

const tableCountWithoutExisting = (() => {
  const { template } = synth(appStack(), {});
  return resourcesOfType(template, 'AWS::DynamoDB::Table').length;
})();

describe('existingOutboxTable and existingEventBus from the same app', () => {
  const stack = appStack();
  const table = outboxLikeTable(stack);
  const bus = new events.EventBus(stack, 'ShopBus', { eventBusName: 'shop-bus' });
  const { relay, template } = synth(stack, { existingOutboxTable: table, existingEventBus: bus });
  const tableId = stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable);
  const busId = stack.getLogicalId(bus.node.defaultChild as events.CfnEventBus);

  it('creates no outbox table and no bus of its own', () => {
    expect(relay.outbox.table).toBe(table);
    expect(relay.outbox.existing).toBe(true);
    expect(relay.eventBus.bus).toBe(bus);
    // The app's table replaces the relay's outbox: one table fewer than the relay alone plus the app's.
    expect(resourcesOfType(template, 'AWS::DynamoDB::Table')).toHaveLength(tableCountWithoutExisting);
    expect(resourcesOfType(template, 'AWS::Events::EventBus').map(([id]) => id)).toEqual([busId]);
  });

  it("reads the given table's stream and may write back only to it", () => {
    const [outboxMapping] = mappingsOf(template, 'publisher');
    expect(outboxMapping?.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    const statements = policyStatementsOf(template, 'publisher');
    expect(actionsOn(statements, { 'Fn::GetAtt': [tableId, 'Arn'] })).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    expect(actionsOn(statements, { 'Fn::GetAtt': [tableId, 'StreamArn'] })).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator']),
    );
  });

  it('puts events on the given bus, whose rules and archive route them', () => {
    const statements = policyStatementsOf(template, 'publisher');
    expect(actionsOn(statements, { 'Fn::GetAtt': [busId, 'Arn'] })).toContain('events:PutEvents');
    const publisher = template.toJSON().Resources[functionId(template, 'publisher')];
    expect(publisher.Properties.Environment.Variables[topology.bus.env]).toEqual({ Ref: busId });
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(Object.keys(topology.bus.rules).length);
    for (const [, rule] of rules) expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    const [archive] = resourcesOfType(template, 'AWS::Events::Archive');
    expect(archive?.[1].Properties.SourceArn).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
  });
});

describe('imported table and bus', () => {
  it('uses the stream ARN and bus ARN they were imported with', () => {
    const stack = appStack();
    const table = dynamodb.Table.fromTableAttributes(stack, 'Imported', {
      tableArn: TABLE_ARN,
      tableStreamArn: STREAM_ARN,
    });
    const bus = events.EventBus.fromEventBusArn(stack, 'ImportedBus', BUS_ARN);
    const { template } = synth(stack, { existingOutboxTable: table, existingEventBus: bus });
    expect(mappingsOf(template, 'publisher')[0]?.EventSourceArn).toBe(STREAM_ARN);
    const statements = policyStatementsOf(template, 'publisher');
    expect(actionsOn(statements, TABLE_ARN)).toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(actionsOn(statements, BUS_ARN)).toContain('events:PutEvents');
    expect(resourcesOfType(template, 'AWS::Events::EventBus')).toEqual([]);
    for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule'))
      expect(rule.Properties.EventBusName).toBe('shop-bus');
  });
});

describe('a table that cannot be the outbox is refused at synth', () => {
  it('an imported table without its stream ARN', () => {
    const stack = appStack();
    const table = dynamodb.Table.fromTableName(stack, 'NoStream', 'shop-outbox');
    expect(() => synth(stack, { existingOutboxTable: table })).toThrow(ExistingResourceError);
    expect(() => synth(appStack(), { existingOutboxTable: table })).toThrow(/has no stream.*tableStreamArn/);
  });

  it('a table of this app without a stream', () => {
    const stack = appStack();
    const table = new dynamodb.Table(stack, 'Plain', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    expect(() => synth(stack, { existingOutboxTable: table })).toThrow(/ShopStack\/Plain has no stream/);
  });

  it('other keys, or a stream without the new image', () => {
    const keys = appStack();
    const wrongKeys = new dynamodb.Table(keys, 'WrongKeys', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    expect(() => synth(keys, { existingOutboxTable: wrongKeys })).toThrow(
      /partition key is id, not pk; its sort key is missing, not sk/,
    );
    const view = appStack();
    const keysOnly = outboxLikeTable(view, { stream: dynamodb.StreamViewType.KEYS_ONLY });
    expect(() => synth(view, { existingOutboxTable: keysOnly })).toThrow(/stream carries KEYS_ONLY/);
  });
});
