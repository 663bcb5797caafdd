// e2e-target: stack
/**
 * The operator CLI against the offline runtime: each command runs as users run it
 * (`node cli/outbox-relay.mjs …`, finding the runtime through its endpoints.json), including a
 * failure made on purpose, found with `audit event` and `dlq list`, then redriven.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { operatorCli } from '../helpers/operatorCli.js';
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

let runtime: Runtime;
let dataDir: string;
let receiver: Server;
let receiverStatus = 500;
const received: string[] = [];

const { cli, cliJson } = operatorCli(() => dataDir);

/** A WebSocket client of tenant acme as `subject`, subscribed to `orders` (closed again if that fails). */
async function subscribedAgent(subject: string) {
  const token = await mintConnectionToken(
    { tenantId: 'acme', subject },
    secretKey(runtime.env.JWT_SECRET ?? ''),
  );
  const client = await connectClient(runtime.endpoints.webSocket, token);
  try {
    client.send({ action: 'subscribe', channels: ['orders'] });
    await client.waitFor((frame) => frame.type === 'subscribed');
    return client;
  } catch (error) {
    await client.close();
    throw error;
  }
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
  it('reports a fresh runtime as green with status (exit 0)', async () => {
    const green = await cli('status');
    expect(green.code, green.stderr).toBe(0);
    expect(green.stdout).toMatch(/OK/);
    const json = await cliJson('status');
    expect(get(json, 'ok')).toBe(true);
    expect(get(json, 'attention')).toEqual([]);
    expect([get(json, 'dlqs')].flat().map((d) => get(d, 'depth'))).toEqual([0, 0, 0, 0, 0, 0]);
  });

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
    expect(get(listed, 'items', 0, 'event')).toBe('cli-ev-1');
    expect(get(listed, 'items', 0, 'reason')).toBe('attempts_exhausted');
    expect(JSON.stringify(listed)).not.toMatch(/"(pk|sk)"/);

    // status turns red (exit 1) and says where to look.
    const red = await cli('status');
    expect(red.code).toBe(1);
    expect(red.stdout).toMatch(/webhook DLQ holds 1 message\(s\).*dlq show webhook/);

    receiverStatus = 200;
    const dry = await cli('dlq', 'redrive', 'webhook', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(get(JSON.parse(dry.stdout), 'redriven')).toBe(1);
    expect(get(JSON.parse(dry.stdout), 'entries', 0, 'result')).toBe('would redrive');
    expect(dry.stderr).toContain('webhook DLQ: 1 of 1');
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(1);

    const redriven = await cliJson('dlq', 'redrive', 'webhook');
    expect(get(redriven, 'redriven')).toBe(1);
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const after = await cliJson('audit', 'event', 'cli-ev-1');
    expect(get(after, 'summary', 'webhook', 'delivered')).toBe(1);
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'items')).toEqual([]);
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
    const entry = [get(listed, 'items')].flat().find((item) => get(item, 'event') === 'cli-poison-1');
    const id = String(get(entry, 'id'));
    expect(get(entry, 'reason')).toMatch(/INVALID_ROW|MISSING_TENANT/);

    const fixedFile = join(dataDir, 'fixed-row.json');
    writeFileSync(fixedFile, JSON.stringify(row('cli-poison-1')));
    const dry = await cliJson('dlq', 'redrive', 'quarantine', '--id', id, '--row', fixedFile, '--dry-run');
    expect(get(dry, 'result')).toBe('would append');
    expect(get(await cliJson('dlq', 'show', 'quarantine', '--id', id), 'count')).toBe(1);
    const redriven = await cli('dlq', 'redrive', 'quarantine', '--id', id, '--row', fixedFile);
    expect(redriven.code).toBe(0);
    await waitFor(async () => get(await cliJson('audit', 'event', 'cli-poison-1'), 'audited') === true, {
      description: 'the fixed row to be audited',
    });
    expect(get(await cliJson('dlq', 'show', 'quarantine'), 'items')).not.toContainEqual(
      expect.objectContaining({ id }),
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
    // The row's INSERT (later MODIFYs of the same row are not a failed batch of its own).
    const first = records.filter(
      (r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.eventId?.S === 'cli-ev-1',
    );
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
    expect([get(listed, 'items')].flat().map((m) => get(m, 'shard'))).toContain(shard?.ShardId);
    expect(String(get(listed, 'items', 0, 'range'))).toContain('..');

    const dry = await cliJson('dlq', 'redrive', 'publisher', '--dry-run');
    expect(get(dry, 'redriven')).toBe(2);
    expect(get(await cliJson('dlq', 'list', 'publisher'), 'count')).toBe(2);

    const redrive = await cli('dlq', 'redrive', 'publisher', '--json');
    // One batch re-read and published again; the other's range is no longer in the stream: kept, exit 1.
    expect(redrive.code).toBe(1);
    const result = JSON.parse(redrive.stdout);
    expect(get(result, 'redriven')).toBe(1);
    expect(get(result, 'failed')).toBe(1);
    expect(JSON.stringify(get(result, 'entries'))).toMatch(/no longer holds shard/);
    expect(get(await cliJson('dlq', 'list', 'publisher'), 'count')).toBe(1);
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
    expect(bad.stderr).toContain('takes 2 argument(s); see "outbox-relay audit --help"');
    const unknown = await cli('dlq', 'list', 'nowhere');
    expect(unknown.code).toBe(2);
  });

  it('lists connections, sends them a close frame and replays the bus archive', async () => {
    const client = await subscribedAgent('agent-7');
    try {
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
  it('redrives past disabled, removed and unknown endpoints: terminates, moves nothing, reports each; then discards with an audit note', async () => {
    const db = documentClient(runtime);
    const endpoints = createWebhookEndpointsRepository({
      client: db,
      tableName: tableName(runtime, 'webhookEndpoints'),
    });
    const make = () =>
      createEndpoint(
        { url: 'http://127.0.0.1:9/never', maxAttempts: 1, timeoutSeconds: 5 },
        { tenantId: 'acme', now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: 1 },
      );
    const disabled = make();
    const removed = make();
    await endpoints.create(disabled);
    await endpoints.create(removed);
    await endpoints.setEnabled('acme', disabled.id, false, 'receiver retired', new Date());
    await endpoints.remove('acme', removed.id);
    const sqs = sqsClient(runtime);
    const dlqUrl = queueUrl(runtime, 'webhookDlq');
    const envelope = (id: string) => ({
      version: 1,
      id,
      source: 'outbox',
      tenantId: 'acme',
      channel: 'orders',
      type: 'order.created',
      resourceId: null,
      time: new Date().toISOString(),
      position: `${new Date().toISOString()}#${id}`,
      data: {},
    });
    const park = async (eventId: string, endpointId: string, code: string) => {
      const sent = await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: JSON.stringify({
            eventId,
            endpointId,
            tenantId: 'acme',
            attempt: 1,
            envelope: envelope(eventId),
            deadLetter: { code, reason: code, attempts: 1, at: new Date().toISOString() },
          }),
        }),
      );
      return sent.MessageId ?? '';
    };
    const ids = {
      disabled: await park('cli-park-1', disabled.id, 'endpoint_disabled'),
      removed: await park('cli-park-2', removed.id, 'endpoint_removed'),
      unknown: await park('cli-park-3', 'ep_nobody', 'attempts_exhausted'),
    };

    const run = await cli('webhooks', 'redrive', '--json');
    expect(run.code).toBe(1); // messages are left behind: not a clean recovery
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ depth: 3, handled: 3, redriven: 0, skipped: 3, failed: 0 });
    const detail = (id: string) =>
      String(
        get(
          [get(report, 'entries')].flat().find((e) => get(e, 'id') === id),
          'detail',
        ),
      );
    expect(detail(ids.disabled)).toMatch(/is disabled \(receiver retired\)/);
    expect(detail(ids.removed)).toMatch(/was removed/);
    expect(detail(ids.unknown)).toMatch(/ep_nobody is unknown/);
    expect(run.stderr).toContain('webhook DLQ: 3 of 3');
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(3);
    // Nothing was sent to delivery, so nothing was refused and re-parked.
    expect(get(await cli('audit', 'event', 'cli-park-1', '--json'), 'code')).toBe(1);

    const dryDelete = await cliJson('dlq', 'delete', 'webhook', '--id', ids.removed, '--dry-run');
    expect(get(dryDelete, 'entries', 0, 'result')).toBe('would delete');
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(3);
    const deleted = await cliJson(
      'dlq',
      'delete',
      'webhook',
      '--id',
      ids.removed,
      '--operator',
      'alice',
      '--reason',
      'endpoint removed',
    );
    expect(get(deleted, 'redriven')).toBe(1);
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(2);
    const notes = await cliJson('audit', 'notes', 'acme');
    expect(JSON.stringify(notes)).toContain(
      `alice discarded webhook DLQ message ${ids.removed}: endpoint removed`,
    );

    const dryPurge = await cliJson('dlq', 'purge', 'webhook', '--dry-run');
    expect(get(dryPurge, 'redriven')).toBe(2);
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(2);
    expect((await cli('dlq', 'purge', 'webhook', '--yes', '--operator', 'bob')).code).toBe(0);
    expect(get(await cliJson('dlq', 'list', 'webhook'), 'count')).toBe(0);
  });

  it('pages a channel with more same-millisecond events than --limit: every event once, then the end', async () => {
    const db = documentClient(runtime);
    const occurredAt = '2026-11-30T09:00:00.123Z';
    const written: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const eventId = `cli-same-ms-${i}`;
      written.push(eventId);
      await appendToOutbox(db, row(eventId, { channel: 'same-ms', occurredAt }), {
        tableName: tableName(runtime, 'outbox'),
      });
    }
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await cliJson(
        'audit',
        'channel',
        'acme',
        'same-ms',
        '--limit',
        '3',
        ...(cursor ? ['--cursor', cursor] : []),
      );
      seen.push(...[get(result, 'events')].flat().map((e) => String(get(e, 'event', 'eventId'))));
      const next = get(result, 'nextCursor');
      if (next === null) break;
      cursor = String(next);
    }
    expect(seen.sort()).toEqual(written.sort());
    const human = await cli('audit', 'channel', 'acme', 'same-ms', '--limit', '3');
    expect(human.stdout).toMatch(/\(more: --cursor [A-Za-z0-9_-]+\)/);
    const lines = await cli('audit', 'channel', 'acme', 'same-ms', '--output', 'jsonl');
    expect(lines.stdout.trim().split('\n')).toHaveLength(7);
  });

  it('triggers an event through the outbox, tails it, and sends a signed webhook test', async () => {
    const before = received.length;
    const tail = cli(
      'tail',
      '--tenant',
      'acme',
      '--channel',
      'live',
      '--max',
      '1',
      '--output',
      'jsonl',
      '--interval',
      '200',
      // The trigger below may start before the tail does: look a minute back (the channel is new).
      '--since',
      '1m',
    );
    const dry = await cliJson('trigger', '--tenant', 'acme', '--channel', 'live', '--dry-run');
    expect(get(dry, 'dryRun')).toBe(true);
    const triggered = await cliJson(
      'trigger',
      '--tenant',
      'acme',
      '--channel',
      'live',
      '--type',
      'order.paid',
      '--wait',
    );
    expect(get(triggered, 'audited')).toBe(true);
    const tailed = await tail;
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(JSON.parse(tailed.stdout.trim())).toMatchObject({
      id: get(triggered, 'eventId'),
      type: 'order.paid',
    });

    const listed = await cliJson('webhooks', 'list', '--tenant', 'acme');
    const enabled = [listed]
      .flat()
      .find((e) => get(e, 'enabled') === true && String(get(e, 'url')).endsWith('/hooks'));
    const test = await cliJson('webhooks', 'test', String(get(enabled, 'id')));
    expect(get(test, 'ok')).toBe(true);
    await waitFor(() => received.length > before, { description: 'the test request at the receiver' });
    expect(received.slice(before)).toContain(String(get(test, 'eventId')));
  });

  it('replays only the chosen route and tenant, counts first with --dry-run, and closes one connection', async () => {
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const dry = await cliJson('replay', '--from', '1h', '--route', 'audit', '--tenant', 'acme', '--dry-run');
    expect(Number(get(dry, 'perRoute', 'audit'))).toBeGreaterThan(0);
    expect(get(dry, 'perRoute', 'webhooks')).toBeUndefined();
    const none = await cliJson('replay', '--from', '1h', '--tenant', 'nobody', '--dry-run');
    expect(get(none, 'events')).toBe(0);

    const before = received.length;
    const replayed = await cliJson('replay', '--from', '1h', '--route', 'audit');
    expect(Number(get(replayed, 'replayed'))).toBeGreaterThan(0);
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(received.length).toBe(before); // no webhook receiver was called again

    const client = await subscribedAgent('agent-9');
    try {
      const listed = await cliJson('connections', 'list', '--tenant', 'acme');
      const id = String(
        get(
          [get(listed, 'connections')].flat().find((c) => get(c, 'subject') === 'agent-9'),
          'connectionId',
        ),
      );
      const dryClose = await cliJson('send-close', '--connection', id, '--dry-run');
      expect(get(dryClose, 'connections')).toBe(1);
      const closed = await cliJson('send-close', '--connection', id, '--reason', 'one');
      expect(get(closed, 'sent')).toBe(1);
      await client.waitFor((frame) => frame.type === 'close' && frame.reason === 'one');
      const everyone = await cli('send-close');
      expect(everyone.code).toBe(2);
    } finally {
      await client.close();
    }
  });
});
