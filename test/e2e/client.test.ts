// e2e-target: offline-only — kills client sockets from inside the local gateway
/**
 * The client SDK against the offline runtime: 500 events flow through outbox → stream →
 * publisher → bus → fan-out → local gateway while the gateway kills the client's socket
 * mid-stream (twice, without `$disconnect`, as a network failure would). The handler must see
 * every event id exactly once, in the channel's order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { connect, type RelayClient } from '../../src/client/index.js';
import { topology } from '../../src/contract/topology.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';

const TENANT = 'tenant-client-e2e';
const CHANNEL = 'orders';
const EVENT_COUNT = 500;

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function requireValue(env: Readonly<Record<string, string>>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`The runtime does not provide ${name}`);
  return value;
}

describe('client SDK on the offline runtime', () => {
  let runtime: Runtime;
  let client: RelayClient | undefined;

  beforeAll(async () => {
    runtime = await startRuntime({ quiet: true });
  });
  afterAll(async () => {
    client?.close();
    await runtime?.stop();
  });

  it('delivers 500 events exactly once and in order although the server drops the socket mid-stream', async () => {
    const secret = secretKey(requireValue(runtime.env, 'JWT_SECRET'));
    const tableName = requireValue(runtime.env, topology.tables.outbox.env);
    let tokensIssued = 0;
    client = connect({
      url: runtime.endpoints.webSocket,
      getToken: () => {
        tokensIssued += 1;
        return mintConnectionToken({ tenantId: TENANT, subject: 'e2e-client', channels: [CHANNEL] }, secret);
      },
      backoff: { baseMs: 100, maxMs: 1000 },
    });
    const received: string[] = [];
    const refreshes: string[] = [];
    client.on('refresh', (notice) => refreshes.push(`${notice.channel}:${notice.reason}`));
    client.subscribe(CHANNEL, (event) => received.push(event.id));
    await client.ready();

    // Strictly increasing times: the channel's position order is the write order.
    const start = Date.now();
    const written = Array.from({ length: EVENT_COUNT }, (_, i) =>
      newOutboxEvent(
        {
          tenantId: TENANT,
          channel: CHANNEL,
          type: 'order.updated',
          resourceId: `order-${i % 20}`,
          data: { n: i },
        },
        new Date(start + i),
      ),
    );
    const writing = (async () => {
      for (const event of written) await appendToOutbox(getDocumentClient(), event, { tableName });
    })();

    const dropAll = (): number =>
      runtime.gateway.connectionIds().filter((id) => runtime.gateway.dropConnection(id)).length;
    await until(() => received.length >= 120, 'the first 120 events');
    expect(dropAll()).toBe(1);
    await until(() => received.length >= 330 && client?.state === 'open', '330 events after the first drop');
    expect(dropAll()).toBe(1);

    await writing;
    await until(() => received.length >= EVENT_COUNT, `all ${EVENT_COUNT} events`);
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    expect(refreshes).toEqual([]);
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(written.map((event) => event.eventId));
    expect(tokensIssued).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
