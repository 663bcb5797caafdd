// e2e-target: offline-only — kills client sockets from inside the local gateway
/**
 * The client SDK against the offline runtime: events flow through outbox → stream → publisher →
 * bus → fan-out → local gateway while the gateway kills the client's socket mid-stream (without
 * `$disconnect`, as a network failure would). The handlers must see every event id exactly once,
 * in the channel's order — on a busy channel and on a quiet one that only gets events while the
 * client is away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
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

async function untilAsync(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
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
  const clients: RelayClient[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({ quiet: true });
  });
  afterAll(async () => {
    client?.close();
    for (const other of clients) other.close();
    await runtime?.stop();
  });

  const dropAll = (): number =>
    runtime.gateway.connectionIds().filter((id) => runtime.gateway.dropConnection(id)).length;

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

  it('delivers every event exactly once per channel, a quiet one included, while the connection drops again and again', async () => {
    const secret = secretKey(requireValue(runtime.env, 'JWT_SECRET'));
    const tableName = requireValue(runtime.env, topology.tables.outbox.env);
    const tenantId = `${TENANT}-quiet`;
    // Only this test's connection may be dropped below.
    client?.close();
    await until(() => runtime.gateway.connectionIds().length === 0, 'the first client to leave');
    const audit = createAuditRepository({
      client: getDocumentClient(),
      tableName: requireValue(runtime.env, topology.tables.audit.env),
    });
    // While the gate is closed `getToken` waits: the client stays away after a drop.
    let gate: Promise<void> = Promise.resolve();
    let openGate = (): void => {};
    const c = connect({
      url: runtime.endpoints.webSocket,
      getToken: async () => {
        await gate;
        return mintConnectionToken({ tenantId, subject: 'e2e-quiet', channels: ['busy', 'quiet'] }, secret);
      },
      backoff: { baseMs: 100, maxMs: 1000 },
    });
    clients.push(c);
    const received: Record<'busy' | 'quiet', string[]> = { busy: [], quiet: [] };
    const refreshes: string[] = [];
    c.on('refresh', (notice) => refreshes.push(`${notice.channel}:${notice.reason}`));
    c.subscribe('busy', (event) => received.busy.push(event.id));
    c.subscribe('quiet', (event) => received.quiet.push(event.id));
    await c.ready();

    // One clock for both channels: strictly increasing times keep each channel's position order.
    let clock = Date.now();
    const written: Record<'busy' | 'quiet', string[]> = { busy: [], quiet: [] };
    const write = async (channel: 'busy' | 'quiet', n: number): Promise<string> => {
      clock += 1;
      const event = newOutboxEvent(
        { tenantId, channel, type: 'order.updated', resourceId: `r-${n}`, data: { n } },
        new Date(clock),
      );
      written[channel].push(event.eventId);
      await appendToOutbox(getDocumentClient(), event, { tableName });
      return event.eventId;
    };
    const BUSY = 300;
    const busyWriting = (async () => {
      for (let i = 0; i < BUSY; i += 1) await write('busy', i);
    })();

    const DROPS = 4;
    for (let drop = 0; drop < DROPS; drop += 1) {
      await until(
        () => received.busy.length >= ((drop + 1) * BUSY) / (DROPS + 2),
        `busy events before drop ${drop}`,
      );
      await until(() => c.state === 'open', `the connection before drop ${drop}`);
      gate = new Promise((resolve) => {
        openGate = resolve;
      });
      expect(dropAll()).toBe(1);
      // The quiet channel gets its events only while the client is away, and the client comes
      // back only once the fan-out has tried (and missed) it with each of them: resume or lose.
      const quiet: string[] = [];
      for (let i = 0; i < 3; i += 1) quiet.push(await write('quiet', drop * 10 + i));
      await untilAsync(async () => {
        const trails = await Promise.all(quiet.map((id) => audit.getEventWithAttempts(tenantId, id)));
        return trails.every((trail) => trail.attempts.length > 0);
      }, `the fan-out of the quiet events of drop ${drop}`);
      openGate();
      await c.ready();
    }

    await busyWriting;
    await until(
      () => received.busy.length >= written.busy.length && received.quiet.length >= written.quiet.length,
      'every event on both channels',
    );
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    expect(refreshes).toEqual([]);
    expect(received.busy).toEqual(written.busy);
    expect(received.quiet).toEqual(written.quiet);
  }, 300_000);
});
