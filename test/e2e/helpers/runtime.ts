/**
 * The offline runtime for end-to-end tests: one runtime per test file (`useRuntime()` registers
 * beforeAll/afterAll), clients pointed at it, and small readers for tables and queues.
 *
 * @example
 * const local = useRuntime();
 * it('audits every event', async () => {
 *   const db = documentClient(local.runtime);
 *   // ... write outbox rows ...
 *   await local.runtime.waitForIdle();
 * });
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/constants.js';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../../local/runtime.js';

/** Starts a quiet runtime (in memory unless `dataDir` is given). Stop it in afterAll. */
export function startTestRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return startRuntime({ quiet: process.env.OUTBOX_RELAY_E2E_VERBOSE !== 'true', ...options });
}

/** One runtime for the whole test file, started in beforeAll and stopped in afterAll. */
export function useRuntime(options: RuntimeOptions = {}): { readonly runtime: Runtime } {
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    runtime = await startTestRuntime(options);
  });
  afterAll(async () => {
    await runtime?.stop();
  });
  return {
    get runtime(): Runtime {
      if (!runtime) throw new Error('The runtime is not started yet (use it inside tests or hooks)');
      return runtime;
    },
  };
}

/** Starts a runtime for the duration of `body` and always stops it. */
export async function withRuntime<T>(
  body: (runtime: Runtime) => Promise<T>,
  options: RuntimeOptions = {},
): Promise<T> {
  const runtime = await startTestRuntime(options);
  try {
    return await body(runtime);
  } finally {
    await runtime.stop();
  }
}

export function documentClient(runtime: Runtime): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runtime.endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

export function sqsClient(runtime: Runtime): SQSClient {
  return new SQSClient({
    endpoint: runtime.endpoints.sqs,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
}

/** Every item of a table (all pages), optionally filtered. */
export async function scanAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<ScanCommandInput, 'TableName' | 'ExclusiveStartKey'> = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ ...input, TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The table name the runtime gave a topology table (e.g. `tableName(runtime, 'audit')`). */
export function tableName(runtime: Runtime, table: string): string {
  const found = runtime.tables[table];
  if (!found) throw new Error(`The runtime has no table ${table}`);
  return found.name;
}

export function queueUrl(runtime: Runtime, queue: string): string {
  const found = runtime.queues.queues[queue];
  if (!found) throw new Error(`The runtime has no queue ${queue}`);
  return found.url;
}

/** Messages waiting in a queue (visible + in flight + delayed), without receiving them. */
export function queueDepth(runtime: Runtime, queue: string): number {
  const counts = runtime.queues.counts(queue);
  return counts.visible + counts.inFlight + counts.delayed;
}

/**
 * Receives (and leaves in flight) every visible message of a queue nobody consumes, e.g. a DLQ,
 * to look at what ended there.
 */
export async function receiveAll(client: SQSClient, url: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const out = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const batch = out.Messages ?? [];
    if (batch.length === 0) return messages;
    messages.push(...batch);
  }
}
