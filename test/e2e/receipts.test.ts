// e2e-target: offline-only — disconnects one agent on purpose and reads the local audit table
/**
 * Per-subject delivery records and receipts, end to end: three agents, each on its own channel,
 * 300 events. Agent 2 is away for 50 of its events and resumes; agent 3 never acknowledges.
 * Afterwards the operator CLI answers "what was agent X sent, and what did it get?":
 * `audit subject agent-2 --missing` is empty, `audit event <one of the 50>` shows no live delivery
 * to agent 2 but `replayed` and `received`, and agent 3's `--missing` lists exactly its events.
 * With connection events on, agent 2's leaving and return are events on the channel `connections`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEndpointsFile } from '../../local/endpointsFile.js';
import type { Runtime } from '../../local/runtime.js';
import { type AuditRepository, createAuditRepository } from '../../src/aws/auditRepository.js';
import { connect, type RelayClient } from '../../src/client/index.js';
import { defaultSocketFactory, type SocketFactory } from '../../src/client/socket.js';
import { topology } from '../../src/contract/topology.js';
import { foldSubjectRecords, isMissing } from '../../src/core/subjectHistory.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { operatorCli } from '../helpers/operatorCli.js';
import { documentClient, startTestRuntime, waitFor } from './helpers/index.js';

const TENANT = 'tenant-receipts';
const PER_AGENT = 100;
const AWAY = 50;
const AGENTS = ['agent-1', 'agent-2', 'agent-3'] as const;
type Agent = (typeof AGENTS)[number];

let runtime: Runtime;
let dataDir: string;
let audit: AuditRepository;
const clients = new Map<Agent, RelayClient>();
const received = new Map<Agent, string[]>(AGENTS.map((a) => [a, []]));
const written = new Map<Agent, string[]>(AGENTS.map((a) => [a, []]));
const away: string[] = [];
/** Every `ack` message the agents' sockets sent, and the ids in them. */
const acks = { messages: 0, ids: 0 };

const operator = operatorCli(() => dataDir);
/** The CLI's `--json` answer; every command used here answers with an object. */
const cliJson = async (...args: string[]) => (await operator.cliJson(...args)) as Record<string, unknown>;

const countingSockets: SocketFactory = async (url, callbacks) => {
  const socket = await defaultSocketFactory(url, callbacks);
  return {
    send(text: string) {
      const message = JSON.parse(text) as { action?: string; ids?: unknown[] };
      if (message.action === 'ack') {
        acks.messages += 1;
        acks.ids += message.ids?.length ?? 0;
      }
      socket.send(text);
    },
    close: (code, reason) => socket.close(code, reason),
  };
};

async function write(agent: Agent, count: number, clock: { now: number }): Promise<string[]> {
  const tableName = runtime.env[topology.tables.outbox.env] ?? '';
  const events = Array.from({ length: count }, (_, n) => {
    clock.now += 1;
    return newOutboxEvent(
      { tenantId: TENANT, channel: agent, type: 'task.assigned', resourceId: `task-${n}`, data: { n } },
      new Date(clock.now),
    );
  });
  const ids = events.map((event) => event.eventId);
  written.get(agent)?.push(...ids);
  const db = documentClient(runtime);
  // In order per channel (its sequence follows write order); the three channels side by side.
  for (const event of events) await appendToOutbox(db, event, { tableName });
  return ids;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'outbox-relay-receipts-'));
  // Lifecycle events on: agent 2's leaving and return are published on the channel `connections`.
  runtime = await startTestRuntime({ dataDir, env: { CONNECTION_EVENTS: 'true' } });
  writeEndpointsFile(dataDir, runtime);
  audit = createAuditRepository({
    client: documentClient(runtime),
    tableName: runtime.env[topology.tables.audit.env] ?? '',
  });
  const secret = secretKey(runtime.env.JWT_SECRET ?? '');
  for (const agent of AGENTS) {
    const client = connect({
      url: runtime.endpoints.webSocket,
      getToken: () => mintConnectionToken({ tenantId: TENANT, subject: agent, channels: [agent] }, secret),
      backoff: { baseMs: 100, maxMs: 1000 },
      // Agent 3 never acknowledges anything.
      receipts: agent !== 'agent-3',
      socketFactory: countingSockets,
    });
    client.subscribe(agent, (event) => received.get(agent)?.push(event.id));
    clients.set(agent, client);
  }
  await Promise.all([...clients.values()].map((c) => c.ready()));
}, 180_000);

afterAll(async () => {
  for (const client of clients.values()) client.close();
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('per-subject delivery records and receipts', () => {
  it('records what each agent was sent, replayed and acknowledged, and the CLI answers from it', async () => {
    const clock = { now: Date.now() };
    const got = (agent: Agent) => received.get(agent)?.length ?? 0;

    // 25 events each, all live.
    await Promise.all(AGENTS.map((agent) => write(agent, 25, clock)));
    await waitFor(() => AGENTS.every((a) => got(a) >= 25), {
      timeoutMs: 60_000,
      description: 'the first 25 events each',
    });

    // Agent 2 goes away ($disconnect removes its connection); 50 events each while it is gone.
    const agent2 = clients.get('agent-2');
    agent2?.disconnect();
    await waitFor(() => runtime.gateway.connectionIds().length === 2, {
      timeoutMs: 30_000,
      description: 'agent 2 to leave',
    });
    const [, missed] = await Promise.all([
      write('agent-1', AWAY, clock),
      write('agent-2', AWAY, clock),
      write('agent-3', AWAY, clock),
    ]);
    away.push(...missed);
    // The fan-out has handled every missed event (its summary is recorded) before agent 2 returns.
    await waitFor(
      async () => {
        const done = await Promise.all(
          away.map(async (id) =>
            (await audit.getEventWithAttempts(TENANT, id)).attempts.some((a) => a.path === 'websocket'),
          ),
        );
        return done.every(Boolean);
      },
      { timeoutMs: 60_000, intervalMs: 250, description: 'the fan-out of the 50 missed events' },
    );
    expect(got('agent-2')).toBe(25);

    agent2?.connect();
    await agent2?.ready();
    await Promise.all(AGENTS.map((agent) => write(agent, 25, clock)));
    await waitFor(() => AGENTS.every((a) => got(a) >= PER_AGENT), {
      timeoutMs: 90_000,
      description: 'all 300 events',
    });
    for (const agent of AGENTS) {
      expect(received.get(agent), agent).toEqual(written.get(agent));
    }

    // Receipts go within a second of the handler; wait until agents 1 and 2 have none missing.
    await waitFor(
      async () => {
        for (const agent of ['agent-1', 'agent-2'] as const) {
          const { items } = await audit.querySubject(TENANT, agent, { limit: 10_000 });
          const histories = foldSubjectRecords(items);
          if (histories.filter((h) => h.first.received !== undefined).length < PER_AGENT) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'every receipt of agents 1 and 2' },
    );
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const missing2 = await cliJson('audit', 'subject', 'agent-2', '--tenant', TENANT, '--missing');
    expect(missing2.events).toEqual([]);

    const all2 = foldSubjectRecords((await audit.querySubject(TENANT, 'agent-2', { limit: 10_000 })).items);
    expect(all2).toHaveLength(PER_AGENT);
    for (const history of all2) {
      if (away.includes(history.eventId)) {
        // Nothing live reached agent 2 while it was away; the resume replayed it, then it acknowledged.
        expect(history.first.delivered, history.eventId).toBeUndefined();
        expect(history.first.replayed, history.eventId).toBeDefined();
      } else {
        expect(history.first.delivered, history.eventId).toBeDefined();
      }
      expect(history.first.received, history.eventId).toBeDefined();
    }

    const oneOfTheFifty = away[17] ?? '';
    const shown = await cliJson('audit', 'event', oneOfTheFifty, '--tenant', TENANT);
    const subjects = shown.subjects as Record<string, { outcome: string; at: string }[]>;
    expect(Object.keys(subjects)).toEqual(['agent-2']);
    const outcomes = (subjects['agent-2'] ?? []).map((s) => s.outcome);
    expect(outcomes.filter((o) => o !== 'gone')).toEqual(['replayed', 'received']);
    // Agent 3 got everything live and acknowledged nothing: --missing lists exactly its 100 events.
    const missing3 = await cliJson('audit', 'subject', 'agent-3', '--tenant', TENANT, '--missing');
    const ids3 = (missing3.events as { eventId: string; delivered?: string }[]).map((e) => e.eventId);
    expect(ids3.sort()).toEqual([...(written.get('agent-3') ?? [])].sort());
    const all1 = foldSubjectRecords((await audit.querySubject(TENANT, 'agent-1', { limit: 10_000 })).items);
    expect(all1.filter(isMissing)).toEqual([]);
    expect(
      foldSubjectRecords((await audit.querySubject(TENANT, 'agent-3', { limit: 10_000 })).items).filter(
        isMissing,
      ),
    ).toHaveLength(PER_AGENT);

    // connection.closed then connection.opened for agent 2 (after its first connection.opened).
    const lifecycle = await waitFor(
      async () => {
        const { events } = await audit.queryChannel(TENANT, 'connections', { limit: 100, ascending: true });
        const mine = events.filter((e) => e.resourceId === 'agent-2').map((e) => e.type);
        return mine.length >= 3 ? mine : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'agent 2’s lifecycle events' },
    );
    expect(lifecycle).toEqual(['connection.opened', 'connection.closed', 'connection.opened']);

    // Receipts are batched: 200 acknowledged events took far fewer messages than events.
    expect(acks.ids).toBeGreaterThanOrEqual(2 * PER_AGENT);
    expect(acks.messages).toBeLessThan(acks.ids / 5);
  }, 300_000);
});
