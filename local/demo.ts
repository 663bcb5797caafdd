/**
 * `npm run demo` (or `npm start -- --demo`): writes a few outbox rows into the running local
 * runtime with the producer helper — one of them atomically with a business item — and prints
 * the audit records as they appear, so a new user sees events flow end to end.
 */
import { resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuditRepository } from '../src/aws/auditRepository.js';
import { topology } from '../src/contract/topology.js';
import {
  appendToOutbox,
  newOutboxEvent,
  type OutboxRowInput,
  writeWithOutbox,
} from '../src/producer/index.js';
import { LOCAL_RESOURCE_PREFIX } from './constants.js';
import { readEndpointsFile } from './endpointsFile.js';

// Lambda runs Node 22; on a Node 20 workstation the SDK's upgrade notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DEMO_TENANT = 'demo-tenant';

export async function runDemo(
  env: Readonly<Record<string, string>>,
  log: (line: string) => void = (line) => console.log(line),
): Promise<{ written: number; audited: number }> {
  const setting = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`The runtime's env has no ${name}`);
    return value;
  };
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: setting('AWS_ENDPOINT_URL_DYNAMODB'),
      region: setting('AWS_REGION'),
      credentials: {
        accessKeyId: setting('AWS_ACCESS_KEY_ID'),
        secretAccessKey: setting('AWS_SECRET_ACCESS_KEY'),
      },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  try {
    const outboxTable = setting(topology.tables.outbox.env);
    const audit = createAuditRepository({ client, tableName: setting(topology.tables.audit.env) });
    const orderId = `order-${Date.now().toString(36)}`;
    const events: OutboxRowInput[] = [
      newOutboxEvent({
        tenantId: DEMO_TENANT,
        channel: 'orders',
        type: 'order.created',
        resourceId: orderId,
        data: { total: 42 },
      }),
      newOutboxEvent({
        tenantId: DEMO_TENANT,
        channel: 'orders',
        type: 'order.paid',
        resourceId: orderId,
        data: { amount: 42 },
      }),
      newOutboxEvent({
        tenantId: DEMO_TENANT,
        channel: 'orders',
        type: 'order.shipped',
        resourceId: orderId,
        data: { carrier: 'demo' },
      }),
      newOutboxEvent({
        tenantId: DEMO_TENANT,
        channel: 'alerts',
        type: 'stock.low',
        data: { sku: 'demo-sku', left: 3 },
      }),
    ];
    const [first, ...rest] = events;
    if (first) {
      // The first event travels atomically with a business item, as an application would write it.
      const ordersTable = await ensureDemoOrdersTable(client);
      await writeWithOutbox(
        client,
        { items: [{ Put: { TableName: ordersTable, Item: { id: orderId, total: 42 } } }], events: [first] },
        { tableName: outboxTable },
      );
    }
    for (const event of rest) await appendToOutbox(client, event, { tableName: outboxTable });
    log(`wrote ${events.length} outbox rows for tenant ${DEMO_TENANT}; waiting for their audit records...`);

    const pending = new Map(events.map((event) => [event.eventId, event]));
    const deadline = Date.now() + 60_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const [eventId, event] of pending) {
        const item = await audit.getEvent(event.tenantId, eventId);
        if (!item) continue;
        pending.delete(eventId);
        log(
          `  audited ${event.type.padEnd(14)} ${eventId}  channel ${event.channel}  recorded ${item.recordedAt}`,
        );
      }
      if (pending.size > 0) await new Promise((done) => setTimeout(done, 200));
    }
    if (pending.size > 0) log(`  ${pending.size} event(s) not audited within 60 s: is the runtime running?`);
    return { written: events.length, audited: events.length - pending.size };
  } finally {
    client.destroy();
  }
}

/** The demo's "application" table, holding the business item written in the same transaction. */
async function ensureDemoOrdersTable(client: DynamoDBDocumentClient): Promise<string> {
  const tableName = `${LOCAL_RESOURCE_PREFIX}-demo-orders`;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  return tableName;
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
const DEMO_USAGE = `Usage: npm run demo [-- --help]
Writes a few demo events (tenant ${DEMO_TENANT}) into the running local runtime (start it first with
"npm start"; it is found through .local/endpoints.json, or OUTBOX_RELAY_LOCAL_DIR) and prints their
audit records as they appear. Takes no options.`;

if (isMain) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(DEMO_USAGE);
    process.exit(0);
  }
  if (args.length > 0) {
    // Refused before anything is written: an option we do not know must not write demo events.
    console.error(`demo: unexpected argument "${args[0]}"\n${DEMO_USAGE}`);
    process.exit(2);
  }
  const dataDir = resolve(process.env.OUTBOX_RELAY_LOCAL_DIR ?? '.local');
  const running = readEndpointsFile(dataDir);
  if (!running) {
    console.error(
      `No running local runtime found (${dataDir}/endpoints.json is missing): start one with "npm start".`,
    );
    process.exit(1);
  }
  runDemo(running.env).then(
    ({ audited, written }) => process.exit(audited === written ? 0 : 1),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
