// e2e-target: stack
/**
 * The operator CLI against the offline runtime: each command runs as users run it
 * (`node cli/outbox-relay.mjs …`, finding the runtime through its endpoints.json), including a
 * failure made on purpose, found with `audit event` and `dlq list`, then redriven.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants.js';
import { writeEndpointsFile } from '../../local/endpointsFile.js';
import { onFailureMessage } from '../../local/pollers/onFailureMessage.js';
import type { Runtime } from '../../local/runtime.js';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import { appendToOutbox } from '../../src/producer/index.js';
import {
  documentClient,
  queueUrl,
  sqsClient,
  startTestRuntime,
  tableName,
  waitFor,
} from './helpers/index.js';
import { isStackTarget, openStackTarget, stackName } from './targets/index.js';
import { connectClient } from './websocketTestClient.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let runtime: Runtime;
let dataDir: string;
let receiver: Server;
let receiverStatus = 500;
const received: string[] = [];

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'cli/outbox-relay.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, OUTBOX_RELAY_LOCAL_DIR: dataDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

async function cliJson(...args: string[]): Promise<unknown> {
  const result = await cli(...args, '--json');
  if (result.code !== 0)
    throw new Error(`outbox-relay ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function get(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

function row(eventId: string, extra: Record<string, unknown> = {}) {
  return {
    eventId,
    tenantId: 'acme',
    channel: 'orders',
    type: 'order.created',
    resourceId: 'order-1',
    data: { total: 42 },
    occurredAt: new Date().toISOString(),
    ...extra,
  };
}

beforeAll(async () => {
  if (isStackTarget()) return;
  dataDir = mkdtempSync(join(tmpdir(), 'outbox-relay-cli-'));
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['webhook-id']));
      res.writeHead(receiverStatus);
      res.end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  runtime = await startTestRuntime({ dataDir, env: { OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true' } });
  writeEndpointsFile(dataDir, runtime);
  const address = receiver.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const endpoint = createEndpoint(
    { url: `http://127.0.0.1:${port}/hooks`, maxAttempts: 1, timeoutSeconds: 5 },
    { tenantId: 'acme', now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: 1 },
  );
  await createWebhookEndpointsRepository({
    client: documentClient(runtime),
    tableName: tableName(runtime, 'webhookEndpoints'),
  }).create(endpoint);
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(isStackTarget())('outbox-relay CLI against a deployed stack (E2E_TARGET=stack)', () => {
  it('finds an appended event with audit event --stack, and lists the DLQs', async () => {
    const target = await openStackTarget();
    const eventId = `cli-stack-${Date.now()}`;
    const { getDocumentClient } = await import('../../src/aws/clients.js');
    await appendToOutbox(getDocumentClient(), row(eventId), { tableName: target.env.OUTBOX_TABLE ?? '' });
    await waitFor(
      async () => {
        const result = await cli('audit', 'event', eventId, '--stack', stackName(), '--json');
        return result.code === 0 && get(JSON.parse(result.stdout), 'audited') === true;
      },
      { timeoutMs: 120_000, intervalMs: 2_000, description: `event ${eventId} in the stack's audit table` },
    );
    for (const kind of ['publisher', 'webhook', 'quarantine']) {
      expect((await cli('dlq', 'list', kind, '--stack', stackName())).code).toBe(0);
    }
  });
});

describe.skipIf(isStackTarget())('outbox-relay CLI on the offline runtime', () => {
  it('finds a webhook failure with audit event and dlq list, then redrives it to delivery', async () => {
    const db = documentClient(runtime);
    await appendToOutbox(db, row('cli-ev-1'), { tableName: tableName(runtime, 'outbox') });
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    // The endpoint answered 500 and allows one attempt: the delivery is dead-lettered.
    const event = await cliJson('audit', 'event', 'cli-ev-1');
    expect(get(event, 'audited')).toBe(true);
    expect(get(event, 'summary', 'webhook', 'dead-lettered')).toBe(1);
    const human = await cli('audit', 'event', 'cli-ev-1');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/webhook\s+\S+\s+.*dead-lettered\s+500/);

    const listed = await cliJson('dlq', 'list', 'webhook');
    expect(get(listed, 'messages', 0, 'event')).toBe('cli-ev-1');
    expect(get(listed, 'messages', 0, 'reason')).toBe('attempts_exhausted');

    receiverStatus = 200;
    const redriven = await cliJson('dlq', 'redrive', 'webhook');
    expect(get(redriven, 'moved')).toBe(1);
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const after = await cliJson('audit', 'event', 'cli-ev-1');
    expect(get(after, 'summary', 'webhook', 'delivered')).toBe(1);
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'messages')).toEqual([]);
  });

  it('lists a quarantined row and redrives it once fixed', async () => {
    const db = documentClient(runtime);
    // Written without the producer's validation, as a buggy application could: no tenant.
    const bad = {
      ...row('cli-poison-1', { tenantId: '' }),
      pk: '#orders',
      sk: 'cli-poison-1',
      expiresAt: 4_000_000_000,
    };
    await db.send(new PutCommand({ TableName: tableName(runtime, 'outbox'), Item: bad }));
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const missing = await cli('audit', 'event', 'cli-poison-1');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('quarantine');
    const listed = await cliJson('dlq', 'list', 'quarantine');
    const entry = [get(listed, 'items')].flat().find((item) => get(item, 'eventId') === 'cli-poison-1');
    const id = String(get(entry, 'sk'));
    expect(get(entry, 'reason')).toMatch(/INVALID_ROW|MISSING_TENANT/);

    const fixedFile = join(dataDir, 'fixed-row.json');
    writeFileSync(fixedFile, JSON.stringify(row('cli-poison-1')));
    const redriven = await cli('dlq', 'redrive', 'quarantine', '--id', id, '--row', fixedFile);
    expect(redriven.code).toBe(0);
    await waitFor(async () => get(await cliJson('audit', 'event', 'cli-poison-1'), 'audited') === true, {
      description: 'the fixed row to be audited',
    });
    expect(get(await cliJson('dlq', 'show', 'quarantine'), 'items')).not.toContainEqual(
      expect.objectContaining({ sk: id }),
    );
  });

  it('shows a publisher DLQ entry as a stream range and redrives it from the stream', async () => {
    // The on-failure message Lambda (and the local poller) sends after a batch exhausts its retries,
    // built for a real range of the outbox stream.
    const streamArn = runtime.tables.outbox?.streamArn ?? '';
    const streams = new DynamoDBStreamsClient({
      endpoint: runtime.endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription
      ?.Shards?.[0];
    const iterator = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records: _Record[] =
      (await streams.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }))).Records ?? [];
    const first = records.filter((r) => r.dynamodb?.NewImage?.eventId?.S === 'cli-ev-1');
    expect(first).toHaveLength(1);
    const message = onFailureMessage({
      shardId: shard?.ShardId ?? '',
      streamArn,
      records: first,
      condition: 'RetryAttemptsExhausted',
      invocations: 11,
      functionError: false,
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:outbox-relay-publisher',
    });
    const sqs = sqsClient(runtime);
    const dlqUrl = queueUrl(runtime, 'publisherDlq');
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(message) }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({
          ...message,
          DDBStreamBatchInfo: { ...message.DDBStreamBatchInfo, shardId: 'shardId-gone' },
        }),
      }),
    );

    const listed = await cliJson('dlq', 'list', 'publisher');
    expect(get(listed, 'messages', 0, 'shard')).toBe(shard?.ShardId);
    expect(String(get(listed, 'messages', 0, 'range'))).toContain('..');

    const redrive = await cli('dlq', 'redrive', 'publisher', '--json');
    // One batch re-read and published again; the other's range is no longer in the stream: kept, exit 1.
    expect(redrive.code).toBe(1);
    const result = JSON.parse(redrive.stdout);
    expect(get(result, 'redriven')).toBe(1);
    expect(get(result, 'kept')).toBe(1);
    expect(JSON.stringify(get(result, 'results'))).toMatch(/published/);
    streams.destroy();
  });

  it('shows a resource and a channel history in position order, and refuses bad arguments', async () => {
    const db = documentClient(runtime);
    for (const id of ['cli-ev-2', 'cli-ev-3'])
      await appendToOutbox(db, row(id), { tableName: tableName(runtime, 'outbox') });
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const history = await cliJson('audit', 'resource', 'acme', 'order-1');
    const ids = [get(history, 'events')].flat().map((e) => get(e, 'event', 'eventId'));
    expect(ids).toEqual(expect.arrayContaining(['cli-ev-1', 'cli-ev-2', 'cli-ev-3']));
    const channel = await cliJson('audit', 'channel', 'acme', 'orders', '--limit', '2');
    const positions = [get(channel, 'events')].flat().map((e) => String(get(e, 'event', 'position')));
    expect(positions).toHaveLength(2);
    expect([...positions].sort()).toEqual(positions);

    const bad = await cli('audit', 'channel', 'acme');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Usage');
    const unknown = await cli('dlq', 'list', 'nowhere');
    expect(unknown.code).toBe(2);
  });

  it('lists connections, sends them a close frame and replays the bus archive', async () => {
    const token = await mintConnectionToken(
      { tenantId: 'acme', subject: 'agent-7' },
      secretKey(runtime.env.JWT_SECRET ?? ''),
    );
    const client = await connectClient(runtime.endpoints.webSocket, token);
    try {
      client.send({ action: 'subscribe', channels: ['orders'] });
      await client.waitFor((frame) => frame.type === 'subscribed');

      const listed = await cliJson('connections', 'list', '--tenant', 'acme');
      expect(get(listed, 'count')).toBe(1);
      expect(get(listed, 'connections', 0, 'subject')).toBe('agent-7');
      expect(get(listed, 'connections', 0, 'channels')).toEqual(['orders']);

      const closed = await cliJson('send-close', '--tenant', 'acme', '--reason', 'deploy');
      expect(get(closed, 'sent')).toBe(1);
      await client.waitFor((frame) => frame.type === 'close' && frame.reason === 'deploy');

      const before = client.events().length;
      const replayed = await cliJson('replay', '--from', '1h');
      expect(Number(get(replayed, 'replayed'))).toBeGreaterThanOrEqual(3);
      // Replayed events go through the routes again: the subscribed client sees them again (same ids).
      await waitFor(() => client.events().length > before, { description: 'replayed events on the socket' });
      expect(
        client
          .events()
          .slice(before)
          .map((e) => e.id),
      ).toContain('cli-ev-1');
    } finally {
      await client.close();
    }
  });
});
