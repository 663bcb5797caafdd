// e2e-target: offline-only — reads the in-process drop counter and the dev JWT secret, writes raw outbox rows
/**
 * Tenant isolation under hostile names, on the offline runtime: tenants named like the key tags
 * (`CONNECTIONS`, `CONN`), like an escaped separator (`kv%23x`) and with multi-byte names at the
 * byte limit, beside tenant `kv`; the attack of `kv` + `x#c` against `kv#x` + `c` and NUL, tried at
 * every entry (token, subscribe, resume, producer, raw outbox rows). Then every path is counted —
 * live fan-out (coalesced frames included), resume, `connections list`, `send-close`, webhooks
 * and the audit CLI — and no event of another tenant arrives anywhere.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { foreignItemsDroppedInProcess } from '../../src/aws/foreignItems.js';
import { getWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { run as auditCli } from '../../src/cli/commands/audit.js';
import { run as connectionsCli } from '../../src/cli/commands/connections.js';
import { run as sendCloseCli } from '../../src/cli/commands/sendClose.js';
import { CliError } from '../../src/cli/errors.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import type { Envelope } from '../../src/core/envelope.js';
import { NAME_MAX_BYTES, utf8Bytes } from '../../src/core/names.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import {
  appendToOutbox,
  DuplicateEventIdError,
  InvalidOutboxNameError,
  newOutboxEvent,
} from '../../src/producer/index.js';
import { startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';
import { documentClient, scanAll, startTestRuntime, tableName } from './helpers/index.js';
import { connectClient, type TestClient, until } from './websocketTestClient.js';

// Multi-byte names exactly at their byte limits (3-byte characters; 4-byte ones are covered by
// test/unit/names.test.ts: the SQS emulator refuses characters outside the BMP in message bodies).
const WIDE_TENANT = `${'日'.repeat(42)}ab`;
const WIDE_CHANNEL = `${'日'.repeat(85)}a`;

/** Every tenant and the channels its clients subscribe to. */
const TENANTS: Readonly<Record<string, readonly string[]>> = {
  kv: ['c', 'orders'],
  // Tag words of the key layout, with the victim's name as a channel: the old layout's collisions.
  CONNECTIONS: ['kv', 'c'],
  CONN: ['kv'],
  // What the key codec writes for `kv#x`: must stay a tenant of its own.
  'kv%23x': ['c'],
  [WIDE_TENANT]: [WIDE_CHANNEL, 'c'],
};
const EVENTS_PER_CHANNEL = 12;
const SHARED_ID = 'shared-1';

describe('tenant isolation under hostile names', () => {
  let runtime: Runtime;
  let secret: Uint8Array;
  let outboxTable: string;
  let cliDir: string;
  const clients: { client: TestClient; tenantId: string; channels: readonly string[] }[] = [];
  const receivers = new Map<string, TestReceiver>();
  /** Event ids written per tenant, and per tenant+channel. */
  const written = new Map<string, Set<string>>();
  const writtenOn = new Map<string, string[]>();

  const token = (tenantId: string, subject: string) => mintConnectionToken({ tenantId, subject }, secret);

  async function cli(run: (args: string[]) => Promise<number>, args: string[]): Promise<unknown> {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...parts: unknown[]) => lines.push(parts.map(String).join(' '));
    try {
      const code = await run([...args, '--json']);
      expect(code).toBe(0);
      return JSON.parse(lines.join('\n'));
    } finally {
      console.log = original;
    }
  }

  async function cliRefusal(run: (args: string[]) => Promise<number>, args: string[]): Promise<CliError> {
    const error = await run([...args, '--json']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }

  async function write(tenantId: string, channel: string, ids: readonly string[]): Promise<void> {
    // Concurrent appends: one stream batch, so fan-out coalesces several events per message.
    await Promise.all(
      ids.map((eventId, i) =>
        appendToOutbox(
          getDocumentClient(),
          newOutboxEvent({
            eventId,
            tenantId,
            channel,
            type: 'iso.event',
            resourceId: `r-${i}`,
            data: { i },
          }),
          { tableName: outboxTable },
        ),
      ),
    );
    const all = written.get(tenantId) ?? new Set<string>();
    for (const id of ids) all.add(id);
    written.set(tenantId, all);
    writtenOn.set(`${tenantId}\u0000${channel}`, [
      ...(writtenOn.get(`${tenantId}\u0000${channel}`) ?? []),
      ...ids,
    ]);
  }

  beforeAll(async () => {
    runtime = await startTestRuntime();
    secret = secretKey(runtime.env.JWT_SECRET ?? '');
    outboxTable = tableName(runtime, 'outbox');
    cliDir = await mkdtemp(join(tmpdir(), 'outbox-relay-isolation-'));
    await writeFile(
      join(cliDir, 'endpoints.json'),
      JSON.stringify({ region: runtime.env.AWS_REGION, env: runtime.env }),
    );
    process.env.OUTBOX_RELAY_LOCAL_DIR = cliDir;
  });

  afterAll(async () => {
    await Promise.all(clients.map(({ client }) => client.close().catch(() => undefined)));
    for (const receiver of receivers.values()) await receiver.close();
    await runtime?.stop();
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
    delete process.env.OUTBOX_RELAY_LOCAL_DIR;
  });

  it('refuses the hostile names at every entry', async () => {
    expect(utf8Bytes(WIDE_TENANT)).toBe(NAME_MAX_BYTES.tenantId);
    expect(utf8Bytes(WIDE_CHANNEL)).toBe(NAME_MAX_BYTES.channel);

    // Token claims: a separator or NUL in the tenant, or one byte over the limit, refuses the upgrade (bad_claims).
    for (const tenantId of ['kv#x', 'kv\u0000', `${WIDE_TENANT}x`]) {
      await expect(
        connectClient(runtime.endpoints.webSocket, await token(tenantId, 'mallory')),
      ).rejects.toThrow(/HTTP 40[13]/);
    }

    // subscribe / resume: a channel with the separator or NUL is an INVALID_MESSAGE error frame.
    const probe = await connectClient(runtime.endpoints.webSocket, await token('kv', 'probe'));
    try {
      for (const message of [
        { action: 'subscribe', channels: ['x#c'] },
        { action: 'subscribe', channels: ['a\u0000b'] },
        { action: 'resume', channels: [{ channel: 'x#c' }] },
        { action: 'resume', channels: [{ channel: 'c', since: 'id#1' }] },
      ]) {
        const from = probe.frames.length;
        probe.send(message);
        const frame = await probe.waitFor((f) => f.type === 'error', 30_000, from);
        expect(frame).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE' });
      }
    } finally {
      await probe.close();
    }

    // The producer refuses with a typed error, before writing.
    for (const [tenantId, channel] of [
      ['kv#x', 'c'],
      ['kv', 'x#c'],
      ['kv\u0000', 'c'],
      [`${WIDE_TENANT}x`, 'c'],
    ] as const) {
      await expect(
        appendToOutbox(
          getDocumentClient(),
          newOutboxEvent({ tenantId, channel, type: 'iso.event', data: {} }),
          {
            tableName: outboxTable,
          },
        ),
      ).rejects.toBeInstanceOf(InvalidOutboxNameError);
    }

    // The CLI refuses them as arguments (a usage error), before any lookup.
    expect((await cliRefusal(connectionsCli, ['list', '--tenant', 'kv#x'])).exitCode).toBe(2);
    expect((await cliRefusal(auditCli, ['channel', 'kv', 'x#c'])).exitCode).toBe(2);
    expect((await cliRefusal(sendCloseCli, ['--tenant', 'kv\u0000'])).exitCode).toBe(2);
  }, 120_000);

  it('delivers 0 events of another tenant on any path', async () => {
    // Webhook endpoints for two tenants whose names collided under the old layout.
    for (const tenantId of ['kv', 'CONNECTIONS', WIDE_TENANT]) {
      const receiver = await startReceiver();
      receivers.set(tenantId, receiver);
      await getWebhookEndpointsRepository().create(
        createEndpoint(
          { url: receiver.url },
          { tenantId, now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: 3 },
        ),
      );
    }

    for (const [tenantId, channels] of Object.entries(TENANTS)) {
      for (let i = 0; i < 2; i++) {
        const client = await connectClient(runtime.endpoints.webSocket, await token(tenantId, `user-${i}`));
        clients.push({ client, tenantId, channels });
        const from = client.frames.length;
        client.send({ action: 'subscribe', channels });
        await client.waitFor((f) => f.type === 'subscribed', 30_000, from);
      }
    }

    // The same id in two tenants: two events. The same id on another channel of one tenant: refused.
    await write('kv', 'c', [SHARED_ID]);
    await write('CONNECTIONS', 'kv', [SHARED_ID]);
    await expect(
      appendToOutbox(
        getDocumentClient(),
        newOutboxEvent({
          eventId: SHARED_ID,
          tenantId: 'kv',
          channel: 'orders',
          type: 'iso.event',
          data: {},
        }),
        { tableName: outboxTable },
      ),
    ).rejects.toBeInstanceOf(DuplicateEventIdError);

    let n = 0;
    for (const [tenantId, channels] of Object.entries(TENANTS)) {
      for (const channel of channels) {
        const ids = Array.from(
          { length: EVENTS_PER_CHANNEL },
          () => `iso-${(n++).toString().padStart(4, '0')}`,
        );
        await write(tenantId, channel, ids);
      }
    }

    // Rows written around the producer, as a buggy or hostile back end could: quarantined, never published.
    const raw = [
      { tenantId: 'kv#x', channel: 'c', eventId: 'raw-sep-tenant' },
      { tenantId: 'kv', channel: 'x#c', eventId: 'raw-sep-channel' },
      { tenantId: 'kv\u0000', channel: 'c', eventId: 'raw-nul' },
    ];
    for (const row of raw) {
      await getDocumentClient().send(
        new PutCommand({
          TableName: outboxTable,
          Item: {
            pk: `${row.tenantId}#${row.channel}`,
            sk: row.eventId,
            ...row,
            type: 'iso.event',
            data: { forged: true },
            occurredAt: new Date().toISOString(),
          },
        }),
      );
    }
    await runtime.waitForIdle({ timeoutMs: 120_000 });

    // Live fan-out: each client got exactly its tenant's events on its channels, no other.
    let foreign = 0;
    let coalesced = 0;
    for (const { client, tenantId, channels } of clients) {
      const expected = new Set(
        channels.flatMap((channel) => writtenOn.get(`${tenantId}\u0000${channel}`) ?? []),
      );
      await until(
        () => new Set(client.events().map((e) => e.id)).size >= expected.size,
        `${expected.size} events at a client of ${tenantId}`,
      );
      const events = client.events();
      foreign += events.filter((e) => e.tenantId !== tenantId || !channels.includes(e.channel)).length;
      expect(new Set(events.map((e) => e.id))).toEqual(expected);
      coalesced += client.frames.filter((f) => f.type === 'events' && f.events.length > 1).length;
    }
    expect(foreign).toBe(0);
    expect(coalesced).toBeGreaterThan(0);

    // Quarantine: the three forged rows, each with the name reason; none reached anyone.
    const quarantined = await scanAll(documentClient(runtime), tableName(runtime, 'quarantine'));
    const byEvent = new Map(quarantined.map((q) => [q.eventId, q.reason]));
    for (const row of raw) expect(byEvent.get(row.eventId)).toBe('INVALID_NAME');

    // Webhooks: each receiver got its tenant's events only, all of them.
    for (const [tenantId, receiver] of receivers) {
      await until(
        () => receiver.requests.length >= (written.get(tenantId)?.size ?? 0),
        `webhooks of ${tenantId}`,
      );
      const bodies = receiver.requests.map((r) => JSON.parse(r.body) as Envelope);
      expect(bodies.filter((b) => b.tenantId !== tenantId)).toEqual([]);
      expect(new Set(bodies.map((b) => b.id))).toEqual(written.get(tenantId));
    }

    // Resume: kv's channel c replays kv's events only; another tenant's id is an unknown `since`.
    const resumer = await connectClient(runtime.endpoints.webSocket, await token('kv', 'resumer'));
    clients.push({ client: resumer, tenantId: 'kv', channels: ['c'] });
    const kvC = writtenOn.get('kv\u0000c') ?? [];
    resumer.send({ action: 'resume', channels: [{ channel: 'c', since: SHARED_ID }] });
    await resumer.waitFor((f) => f.type === 'resumed', 60_000);
    expect(resumer.events().filter((e) => e.tenantId !== 'kv' || e.channel !== 'c')).toEqual([]);
    expect(new Set(resumer.events().map((e) => e.id))).toEqual(new Set(kvC.filter((id) => id !== SHARED_ID)));
    const otherTenantsId = writtenOn.get('CONNECTIONS\u0000c')?.[0] ?? '';
    const from = resumer.frames.length;
    resumer.send({ action: 'resume', channels: [{ channel: 'c', since: otherTenantsId }] });
    expect(await resumer.waitFor((f) => f.type === 'refresh', 60_000, from)).toMatchObject({
      reason: 'unknown_since',
    });
    const wide = await connectClient(runtime.endpoints.webSocket, await token(WIDE_TENANT, 'resumer'));
    clients.push({ client: wide, tenantId: WIDE_TENANT, channels: [WIDE_CHANNEL] });
    const wideIds = writtenOn.get(`${WIDE_TENANT}\u0000${WIDE_CHANNEL}`) ?? [];
    wide.send({ action: 'resume', channels: [{ channel: WIDE_CHANNEL, since: wideIds[0] }] });
    await wide.waitFor((f) => f.type === 'resumed', 60_000);
    // Resume replays what follows the anchor in the channel's sequence (its numbers follow the
    // stream, not the order the writes were issued in): only this tenant's events, none twice.
    const replayed = wide.events();
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed.filter((e) => e.tenantId !== WIDE_TENANT || e.channel !== WIDE_CHANNEL)).toEqual([]);
    expect(new Set(replayed.map((e) => e.id)).size).toBe(replayed.length);
    expect(replayed.every((e) => wideIds.includes(e.id) && e.id !== wideIds[0])).toBe(true);

    // Audit CLI: a channel's history is its tenant's; an id in two tenants needs --tenant.
    for (const [tenantId, channel] of [
      ['kv', 'c'],
      ['CONNECTIONS', 'kv'],
      [WIDE_TENANT, WIDE_CHANNEL],
    ] as const) {
      const history = (await cli(auditCli, ['channel', tenantId, channel, '--limit', '1000'])) as {
        events: { event: { envelope: Envelope } }[];
      };
      const envelopes = history.events.map((e) => e.event.envelope);
      expect(envelopes.filter((e) => e.tenantId !== tenantId || e.channel !== channel)).toEqual([]);
      expect(new Set(envelopes.map((e) => e.id))).toEqual(
        new Set(writtenOn.get(`${tenantId}\u0000${channel}`)),
      );
    }
    expect((await cliRefusal(auditCli, ['event', SHARED_ID])).exitCode).toBe(2);
    for (const tenantId of ['kv', 'CONNECTIONS']) {
      const shown = (await cli(auditCli, ['event', SHARED_ID, '--tenant', tenantId])) as {
        event: { envelope: Envelope };
      };
      expect(shown.event.envelope).toMatchObject({ id: SHARED_ID, tenantId });
    }

    // connections list: each tenant's own connections, however its name reads.
    for (const tenantId of Object.keys(TENANTS)) {
      const listed = (await cli(connectionsCli, ['list', '--tenant', tenantId])) as {
        connections: { tenantId: string; connectionId: string }[];
      };
      expect(listed.connections.filter((c) => c.tenantId !== tenantId)).toEqual([]);
      expect(listed.connections.length).toBe(clients.filter((c) => c.tenantId === tenantId).length);
    }

    // send-close to kv: every kv client is told, no client of another tenant is.
    const result = (await cli(sendCloseCli, ['--tenant', 'kv', '--reconnect-after', '1000'])) as {
      connections: number;
      sent: number;
    };
    expect(result).toMatchObject({
      connections: clients.filter((c) => c.tenantId === 'kv').length,
      sent: clients.filter((c) => c.tenantId === 'kv').length,
    });
    for (const { client } of clients.filter((c) => c.tenantId === 'kv')) {
      await client.waitFor((f) => f.type === 'close', 30_000);
    }
    const closedElsewhere = clients.filter(
      (c) => c.tenantId !== 'kv' && c.client.frames.some((f) => f.type === 'close'),
    );
    expect(closedElsewhere).toEqual([]);

    // The last line never had to drop anything: the keys themselves kept the tenants apart.
    expect(foreignItemsDroppedInProcess()).toBe(0);
  }, 400_000);
});
