import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../local/eventBridge/busEvent.js';
import { createLocalBus, type EntryInterceptor } from '../../local/eventBridge/localBus.js';
import { type BusServer, startBusServer } from '../../local/eventBridge/server.js';
import { entrySizeBytes } from '../../src/core/busEntry.js';
import { PUT_EVENTS_MAX_REQUEST_BYTES } from '../../src/core/limits.js';

const BUS = 'test-bus';
const delivered: { queueUrl: string; events: BusEvent[] }[] = [];
let interceptor: EntryInterceptor | undefined;
const bus = createLocalBus({
  busName: BUS,
  region: 'us-east-1',
  account: '000000000000',
  rules: [
    {
      name: 'orders',
      pattern: { source: ['outbox-relay'], 'detail-type': [{ prefix: 'order.' }] },
      targetQueueUrl: 'q-orders',
    },
    { name: 'all', pattern: { source: ['outbox-relay'] }, targetQueueUrl: 'q-all' },
  ],
  deliver: async (queueUrl, events) => {
    delivered.push({ queueUrl, events: [...events] });
  },
});
bus.setInterceptor((entry, index) => interceptor?.(entry, index));

let server: BusServer;
let client: EventBridgeClient;

beforeAll(async () => {
  server = await startBusServer(bus);
  client = new EventBridgeClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await server.stop();
});
beforeEach(() => {
  delivered.length = 0;
  interceptor = undefined;
});

function entry(detailType: string, detail: Record<string, unknown> = { ok: true }): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: 'outbox-relay',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
  };
}

/** One entry whose AWS-counted size is exactly `bytes`. */
function entryOfSize(bytes: number): PutEventsRequestEntry {
  const base = { Source: 'outbox-relay', DetailType: 'order.sized' };
  const overhead = entrySizeBytes({ ...base, Detail: '{"p":""}' });
  const detail = `{"p":"${'a'.repeat(bytes - overhead)}"}`;
  expect(entrySizeBytes({ ...base, Detail: detail })).toBe(bytes);
  return { EventBusName: BUS, ...base, Detail: detail };
}

async function refusal(
  entries: PutEventsRequestEntry[],
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await client.send(new PutEventsCommand({ Entries: entries }));
  } catch (error) {
    if (error instanceof Error) {
      const status = Reflect.get(error, '$metadata')?.httpStatusCode;
      return { name: error.name, message: error.message, status };
    }
  }
  throw new Error('The request was accepted');
}

describe('local PutEvents endpoint (real EventBridgeClient)', () => {
  it('refuses a request of 11 entries as a whole with ValidationException', async () => {
    const error = await refusal(Array.from({ length: 11 }, (_, i) => entry(`order.${i}`)));
    expect(error.name).toBe('ValidationException');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/less than or equal to 10/);
    expect(delivered).toHaveLength(0);
  });

  it('accepts exactly 10 entries', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: Array.from({ length: 10 }, (_, i) => entry(`order.${i}`)) }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(10);
  });

  it('refuses a request one byte over the size limit with ValidationException', async () => {
    const error = await refusal([entryOfSize(PUT_EVENTS_MAX_REQUEST_BYTES + 1)]);
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('Total size of the entries in the request is over the limit.');
    expect(delivered).toHaveLength(0);
  });

  it('counts the size over all entries of the request', async () => {
    const half = Math.floor(PUT_EVENTS_MAX_REQUEST_BYTES / 2) + 1;
    const error = await refusal([entryOfSize(half), entryOfSize(half)]);
    expect(error.name).toBe('ValidationException');
  });

  it('accepts a request exactly at the size limit', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [entryOfSize(PUT_EVENTS_MAX_REQUEST_BYTES)] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.[0]?.EventId).toBeTruthy();
  });

  it('fails only the malformed entry, with its ErrorCode, and gives the others an EventId', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('order.a'),
          { ...entry('order.b'), Detail: '{not json' },
          { ...entry('order.c'), Source: undefined },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries?.[0]?.EventId).toBeTruthy();
    expect(out.Entries?.[1]).toMatchObject({
      ErrorCode: 'MalformedDetail',
      ErrorMessage: 'Detail is malformed.',
    });
    expect(out.Entries?.[2]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(delivered.flatMap((d) => d.events)).toHaveLength(2);
  });

  it('delivers the EventBridge event to the target queue of every matching rule', async () => {
    await client.send(
      new PutEventsCommand({
        Entries: [entry('order.created', { id: 'e1' }), entry('invoice.sent', { id: 'e2' })],
      }),
    );
    const byQueue = Object.fromEntries(delivered.map((d) => [d.queueUrl, d.events]));
    expect(byQueue['q-orders']?.map((e) => e['detail-type'])).toEqual(['order.created']);
    expect(byQueue['q-all']?.map((e) => e['detail-type'])).toEqual(['order.created', 'invoice.sent']);
    expect(byQueue['q-orders']?.[0]).toMatchObject({
      version: '0',
      source: 'outbox-relay',
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
      detail: { id: 'e1' },
    });
    expect(byQueue['q-orders']?.[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lets the fault hook fail chosen entries with ThrottlingException, delivering the rest', async () => {
    interceptor = (_entry, index) =>
      index === 1 ? { code: 'ThrottlingException', message: 'Rate exceeded' } : undefined;
    const out = await client.send(
      new PutEventsCommand({ Entries: [entry('order.a'), entry('order.b'), entry('order.c')] }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]).toMatchObject({ ErrorCode: 'ThrottlingException' });
    expect(delivered.find((d) => d.queueUrl === 'q-all')?.events.map((e) => e['detail-type'])).toEqual([
      'order.a',
      'order.c',
    ]);
  });

  it('accepts events for the default bus without routing them, as a bus without rules does', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [{ ...entry('order.a'), EventBusName: undefined }] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(delivered).toHaveLength(0);
  });
});
