/**
 * The synthesized template agrees with src/contract/topology.ts — the definition the offline runtime reads —
 * so what runs locally is what gets deployed: rules and their patterns, mappings, tables, queues,
 * functions (entry settings, environment, grants).
 */
import { describe, expect, it } from 'vitest';
import { deployedQueueMapping } from '../../lib/eventSourceMappings.js';
import {
  type FunctionDef,
  type FunctionName,
  type QueueDef,
  type QueueName,
  type RuleDef,
  type StreamMappingDef,
  type TableDef,
  type TableName,
  topology,
} from '../../src/contract/topology.js';
import {
  bundledTemplate,
  functionId,
  mappingsOf,
  policyStatementsOf,
  queueId,
  resource,
  resourcesOfType,
  tableId,
} from './fixture.js';

const template = bundledTemplate();

function arnOf(logicalId: string) {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

describe('the template agrees with src/contract/topology.ts', () => {
  it('has one rule per topology rule, with the topology pattern verbatim and its queue as target', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(Object.keys(topology.bus.rules).length);
    for (const def of Object.values(topology.bus.rules) as RuleDef[]) {
      const rule = rules.find(([, r]) => r.Properties.Description === def.description);
      expect(rule, def.description).toBeDefined();
      const props = (rule as [string, { Properties: Record<string, unknown> }])[1].Properties;
      expect(props.EventPattern).toEqual(def.pattern);
      const targets = props.Targets as { Arn: unknown }[];
      expect(targets).toHaveLength(1);
      expect(targets[0]?.Arn).toEqual(arnOf(queueId(template, def.targetQueue as QueueName)));
    }
  });

  it('maps every stream mapping with all of its settings', () => {
    for (const def of topology.streamMappings) {
      const mappings = mappingsOf(template, def.function);
      const onTable = mappings.find(
        (m) =>
          JSON.stringify(m.EventSourceArn) ===
          JSON.stringify({ 'Fn::GetAtt': [tableId(template, def.table), 'StreamArn'] }),
      );
      expect(onTable, `${def.function} on ${def.table}`).toMatchObject({
        BatchSize: def.batchSize,
        MaximumBatchingWindowInSeconds: def.maxBatchingWindowSeconds,
        ParallelizationFactor: def.parallelizationFactor,
        BisectBatchOnFunctionError: def.bisectBatchOnError,
        MaximumRetryAttempts: def.maxRetryAttempts,
        MaximumRecordAgeInSeconds: def.maxRecordAgeSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        StartingPosition: def.startingPosition,
        DestinationConfig: { OnFailure: { Destination: arnOf(queueId(template, def.onFailure)) } },
      });
      const filter = (def as StreamMappingDef).filterEventNames;
      expect(onTable?.FilterCriteria, `${def.function} filter`).toEqual(
        filter ? { Filters: [{ Pattern: JSON.stringify({ eventName: filter }) }] } : undefined,
      );
    }
  });

  it('maps every queue mapping with its settings (a window of at least 1 s above 10 messages, as Lambda requires)', () => {
    for (const def of topology.queueMappings) {
      const onQueue = mappingsOf(template, def.function).filter(
        (m) => JSON.stringify(m.EventSourceArn) === JSON.stringify(arnOf(queueId(template, def.queue))),
      );
      expect(onQueue, `${def.function} on ${def.queue}`).toHaveLength(1);
      const expected = deployedQueueMapping(
        def,
        def.function === 'fanout' ? { batchingWindowSeconds: 1 } : {},
      );
      expect(onQueue[0]).toMatchObject({
        BatchSize: expected.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: def.maxConcurrency },
      });
      expect(onQueue[0]?.MaximumBatchingWindowInSeconds ?? 0).toBe(expected.maxBatchingWindowSeconds);
      if (def.batchSize <= 10 && def.function !== 'fanout')
        expect(expected.maxBatchingWindowSeconds).toBe(def.maxBatchingWindowSeconds);
    }
  });

  it('creates every table with its keys, stream, TTL and indexes', () => {
    const keyType = (k: { type: string }) => k.type;
    for (const [name, def] of Object.entries(topology.tables) as [TableName, TableDef][]) {
      const props = resource(template, tableId(template, name)).Properties;
      const keySchema = [
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
      ];
      expect(props.KeySchema, name).toEqual(keySchema);
      const attributes = props.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
      for (const key of [
        def.partitionKey,
        def.sortKey,
        ...(def.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
      ]) {
        if (!key) continue;
        expect(attributes, `${name}.${key.name}`).toContainEqual({
          AttributeName: key.name,
          AttributeType: keyType(key),
        });
      }
      expect(props.StreamSpecification, name).toEqual(
        def.stream ? { StreamViewType: def.stream } : undefined,
      );
      expect(props.TimeToLiveSpecification, name).toEqual(
        def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : undefined,
      );
      const indexes = (props.GlobalSecondaryIndexes ?? []) as {
        IndexName: string;
        KeySchema: unknown;
        Projection: unknown;
      }[];
      expect(indexes.map((i) => i.IndexName).sort(), name).toEqual(
        (def.indexes ?? []).map((i) => i.name).sort(),
      );
      for (const index of def.indexes ?? []) {
        const found = indexes.find((i) => i.IndexName === index.name);
        expect(found?.KeySchema).toEqual([
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
        ]);
        const projection = index.projection ?? 'ALL';
        expect(found?.Projection).toEqual(
          typeof projection === 'string'
            ? { ProjectionType: projection }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] },
        );
      }
    }
  });

  it('creates every queue with its visibility timeout, retention and redrive policy', () => {
    expect(resourcesOfType(template, 'AWS::SQS::Queue')).toHaveLength(Object.keys(topology.queues).length);
    for (const [name, def] of Object.entries(topology.queues) as [QueueName, QueueDef][]) {
      const props = resource(template, queueId(template, name)).Properties;
      expect(props.VisibilityTimeout, name).toBe(def.visibilityTimeoutSeconds);
      expect(props.MessageRetentionPeriod, name).toBe(def.retentionDays * 24 * 60 * 60);
      if (def.deadLetter) {
        expect(props.RedrivePolicy, name).toEqual({
          deadLetterTargetArn: arnOf(queueId(template, def.deadLetter.queue as QueueName)),
          maxReceiveCount: def.deadLetter.maxReceiveCount,
        });
      } else {
        expect(props.RedrivePolicy, name).toBeUndefined();
      }
    }
  });

  it('creates every function from its entry with the topology memory and timeout, Node 22 on arm64', () => {
    for (const [name, def] of Object.entries(topology.functions) as [FunctionName, FunctionDef][]) {
      const props = resource(template, functionId(template, name)).Properties;
      expect(props, name).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: def.memoryMb,
        Timeout: def.timeoutSeconds,
        Handler: 'index.handler',
      });
      expect(props.ReservedConcurrentExecutions, name).toBe(def.reservedConcurrency);
    }
  });

  it("gives every function its topology tables' and queues' env vars, pointing at those resources", () => {
    for (const [name, def] of Object.entries(topology.functions) as [FunctionName, FunctionDef][]) {
      const env = (
        resource(template, functionId(template, name)).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(env.NODE_OPTIONS, `${name}: source maps ship only with the sourceMaps option`).toBeUndefined();
      for (const { table } of def.tables) {
        expect(env[topology.tables[table as TableName].env], `${name} ${table}`).toEqual({
          Ref: tableId(template, table as TableName),
        });
      }
      for (const { queue } of def.queues) {
        expect(env[topology.queues[queue as QueueName].env], `${name} ${queue}`).toEqual({
          Ref: queueId(template, queue as QueueName),
        });
      }
      expect(topology.bus.env in env, `${name} ${topology.bus.env}`).toBe(def.putsEvents === true);
      expect(topology.webSocket.managementEndpointEnv in env, `${name} management endpoint`).toBe(
        def.managesConnections === true,
      );
      // No variable of a table or queue the entry does not list.
      const listed = new Set<string>([
        ...def.tables.map((t) => topology.tables[t.table as TableName].env),
        ...def.queues.map((q) => topology.queues[q.queue as QueueName].env),
      ]);
      for (const tableDef of Object.values(topology.tables) as TableDef[]) {
        if (!listed.has(tableDef.env))
          expect(env[tableDef.env], `${name} must not see ${tableDef.env}`).toBeUndefined();
      }
      for (const queueDef of Object.values(topology.queues) as QueueDef[]) {
        if (!listed.has(queueDef.env))
          expect(env[queueDef.env], `${name} must not see ${queueDef.env}`).toBeUndefined();
      }
    }
  });

  it('lets the fan-out read the audit table: a consistent BatchGet finds the events already audited before delivery', () => {
    const auditArn = JSON.stringify(arnOf(tableId(template, 'audit')));
    const actions = policyStatementsOf(template, 'fanout')
      .filter((s) =>
        (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some((r) => JSON.stringify(r) === auditArn),
      )
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem']),
    );
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('grants each function exactly the table and queue access its topology entry lists', () => {
    const WRITE = 'dynamodb:PutItem';
    const READ = 'dynamodb:Query';
    const SEND = 'sqs:SendMessage';
    const RECEIVE = 'sqs:ReceiveMessage';
    for (const [name, def] of Object.entries(topology.functions) as [FunctionName, FunctionDef][]) {
      const statements = policyStatementsOf(template, name);
      const actionsOn = (arn: unknown): string[] =>
        statements
          .filter((s) => {
            const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
            return resources.some((r) => JSON.stringify(r) === JSON.stringify(arn));
          })
          .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
      for (const [tableName] of Object.entries(topology.tables) as [TableName, TableDef][]) {
        const access = def.tables.find((t) => t.table === tableName)?.access;
        const actions = actionsOn(arnOf(tableId(template, tableName)));
        expect(actions.includes(WRITE), `${name} write ${tableName}`).toBe(
          access === 'write' || access === 'readWrite',
        );
        expect(actions.includes(READ), `${name} read ${tableName}`).toBe(
          access === 'read' || access === 'readWrite',
        );
      }
      for (const [queueName] of Object.entries(topology.queues) as [QueueName, QueueDef][]) {
        const access = def.queues.find((q) => q.queue === queueName)?.access;
        const consumedByMapping = topology.queueMappings.some(
          (m) => m.function === name && m.queue === queueName,
        );
        const onFailure = topology.streamMappings.some(
          (m) => m.function === name && m.onFailure === queueName,
        );
        const actions = actionsOn(arnOf(queueId(template, queueName)));
        expect(actions.includes(SEND), `${name} send ${queueName}`).toBe(
          access === 'send' || access === 'sendConsume' || onFailure,
        );
        expect(actions.includes(RECEIVE), `${name} consume ${queueName}`).toBe(
          access === 'consume' || access === 'sendConsume' || consumedByMapping,
        );
      }
      const putsEvents = statements.some((s) => s.Action === 'events:PutEvents');
      expect(putsEvents, `${name} PutEvents`).toBe(def.putsEvents === true);
      const manages = statements.some((s) => s.Action === 'execute-api:ManageConnections');
      expect(manages, `${name} ManageConnections`).toBe(def.managesConnections === true);
    }
  });

  it('routes every WebSocket route of the topology to its function, with the topology stage and selection expression', () => {
    // The WebSocket API (the other one is the tenant webhook HTTP API).
    const api = resourcesOfType(template, 'AWS::ApiGatewayV2::Api').filter(
      ([, a]) => a.Properties.ProtocolType === 'WEBSOCKET',
    );
    expect(api).toHaveLength(1);
    expect(api[0]?.[1].Properties.RouteSelectionExpression).toBe(topology.webSocket.routeSelectionExpression);
    const apiId = api[0]?.[0];
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').filter(
      ([, r]) => JSON.stringify(r.Properties.ApiId) === JSON.stringify({ Ref: apiId }),
    );
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(
      topology.webSocket.routes.map((r) => r.routeKey).sort(),
    );
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    for (const route of topology.webSocket.routes) {
      const props = routes.find(([, r]) => r.Properties.RouteKey === route.routeKey)?.[1].Properties;
      const target = JSON.stringify(props?.Target);
      const integration = integrations.find(([id]) => target.includes(id));
      expect(JSON.stringify(integration?.[1].Properties.IntegrationUri), route.routeKey).toContain(
        functionId(template, route.function as FunctionName),
      );
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: topology.webSocket.stageName });
  });
});
