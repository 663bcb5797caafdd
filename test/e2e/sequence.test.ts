// e2e-target: offline-only — injects server faults and shuffles frames inside the offline runtime
/**
 * Per-channel sequences on the offline runtime: numbers 1..N without gaps or duplicates, written
 * back to the outbox rows; resume by `afterSeq`, `fetch` of a range, epochs; and a property-style
 * run where a client sees events shuffled, delayed and duplicated (server faults plus a shuffling
 * layer in the client), is disconnected at random, and resumes by sequence each time.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFaultConfig } from '../../local/faults/config.js';
import { FaultInjector } from '../../local/faults/injector.js';
import { installFaults } from '../../local/faults/install.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { topology } from '../../src/contract/topology.js';
import type { Envelope } from '../../src/core/envelope.js';
import { outboxKeys } from '../../src/core/outboxRow.js';
import type { ServerFrame } from '../../src/core/protocol.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { connectClient, type TestClient, until } from './websocketTestClient.js';

const TENANT = 'seq-t1';
const OPEN = 1; // WebSocket readyState

describe('per-channel sequences on the offline runtime', () => {
  let runtime: Runtime;
  let secret: Uint8Array;
  let outboxTable: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // Several fan-out batches at once: live delivery order is not sequence order.
    runtime = await startRuntime({ quiet: true, sqsConcurrency: { fanout: 3 } });
    secret = secretKey(runtime.env.JWT_SECRET ?? '');
    outboxTable = runtime.env[topology.tables.outbox.env] ?? '';
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await runtime?.stop();
  });

  async function open(): Promise<TestClient> {
    const token = await mintConnectionToken({ tenantId: TENANT, subject: 'seq-user' }, secret);
    const client = await connectClient(runtime.endpoints.webSocket, token);
    clients.push(client);
    return client;
  }

  async function request(client: TestClient, message: unknown, done: (f: ServerFrame) => boolean) {
    const from = client.frames.length;
    client.send(message);
    await client.waitFor(done, 60_000, from);
    return client.frames.slice(from);
  }

  async function write(channel: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const event = newOutboxEvent({ tenantId: TENANT, channel, type: 'seq.test', data: { i } });
      await appendToOutbox(getDocumentClient(), event, { tableName: outboxTable });
      ids.push(event.eventId);
    }
    return ids;
  }

  async function auditedSeqs(channel: string, epoch: string): Promise<number[]> {
    const page = await getAuditRepository().querySeq(TENANT, channel, epoch, {
      limit: 1000,
      ascending: true,
    });
    return page.items.map((item) => item.seq ?? -1);
  }

  const eventsIn = (frames: readonly ServerFrame[]): Envelope[] =>
    frames.flatMap((f) => (f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : []));

  it('numbers a channel 1..N, writes the numbers back, resumes after a number and fetches a range', async () => {
    const channel = 'seq-basic';
    const client = await open();
    const subscribed = await request(
      client,
      { action: 'subscribe', channels: [channel] },
      (f) => f.type === 'subscribed',
    );
    const first = subscribed.find((f) => f.type === 'subscribed');
    expect(first?.type === 'subscribed' && first.heads?.[0]).toMatchObject({ channel, seq: 0 });
    const epoch = first?.type === 'subscribed' ? (first.heads?.[0]?.epoch ?? '') : '';

    const ids = await write(channel, 6);
    await until(() => new Set(client.events().map((e) => e.id)).size === 6, 'six live events');
    const byId = new Map(client.events().map((e) => [e.id, e]));
    expect(ids.map((id) => byId.get(id)?.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(ids.map((id) => byId.get(id)?.epoch))).toEqual(new Set([epoch]));

    // The publisher wrote each number back to its row (and ignored the MODIFY that caused).
    const row = await getDocumentClient().send(
      new GetCommand({
        TableName: outboxTable,
        Key: outboxKeys({ tenantId: TENANT, eventId: ids[3] ?? '' }),
      }),
    );
    expect(row.Item).toMatchObject({ seq: 4, epoch });
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(await auditedSeqs(channel, epoch)).toEqual([1, 2, 3, 4, 5, 6]);

    const resumed = await request(
      client,
      { action: 'resume', channels: [{ channel, afterSeq: 3, epoch }] },
      (f) => f.type === 'resumed' || f.type === 'refresh',
    );
    expect(eventsIn(resumed).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(resumed.at(-1)).toEqual({ type: 'resumed', channel, replayed: 3, head: { seq: 6, epoch } });

    // `since` (an event id) resumes by that event's number.
    const since = await request(
      client,
      { action: 'resume', channels: [{ channel, since: ids[4] }] },
      (f) => f.type === 'resumed' || f.type === 'refresh',
    );
    expect(eventsIn(since).map((e) => e.seq)).toEqual([6]);

    const fetched = await request(
      client,
      { action: 'fetch', channel, fromSeq: 2, toSeq: 8 },
      (f) => f.type === 'fetched' || f.type === 'refresh',
    );
    expect(eventsIn(fetched).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6]);
    // 7 and 8 have no event yet: not lost, just not there (count < range).
    expect(fetched.at(-1)).toEqual({ type: 'fetched', channel, fromSeq: 2, toSeq: 8, count: 5 });

    const otherEpoch = await request(
      client,
      { action: 'resume', channels: [{ channel, afterSeq: 2, epoch: 'an-older-history' }] },
      (f) => f.type === 'resumed' || f.type === 'refresh',
    );
    expect(otherEpoch.at(-1)).toEqual({
      type: 'refresh',
      channel,
      reason: 'epoch_changed',
      head: { seq: 6, epoch },
    });

    const notSubscribed = await request(
      client,
      { action: 'fetch', channel: 'seq-elsewhere', fromSeq: 1, toSeq: 2 },
      (f) => f.type === 'error',
    );
    expect(notSubscribed.at(-1)).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED', action: 'fetch' });
  });

  it('leaves no gap unreported through shuffled, delayed, duplicated delivery and random disconnects', async () => {
    const faults = new FaultInjector(
      parseFaultConfig({
        seed: 7,
        // Publisher retries, targeted re-deliveries after later events, connections dropped by the server.
        putEvents: { entryThrottleFraction: 0.1 },
        connections: { errorFraction: 0.1, goneFraction: 0.02 },
      }),
    );
    const uninstall = installFaults(runtime, faults);
    let run = 0;
    let resumes = 0;
    let replayed = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            events: fc.integer({ min: 10, max: 40 }),
            paceMs: fc.integer({ min: 5, max: 40 }),
            disconnects: fc.array(
              fc.record({
                afterMs: fc.integer({ min: 0, max: 500 }),
                downMs: fc.integer({ min: 50, max: 800 }),
              }),
              { minLength: 1, maxLength: 4 },
            ),
            shuffleSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          }),
          async ({ events, paceMs, disconnects, shuffleSeed }) => {
            run += 1;
            const channel = `seq-prop-${run}`;
            const model = new GapTrackingClient(channel, open, shuffleSeed);
            await model.start();
            // Events keep coming while the client drops and comes back.
            const writer = (async () => {
              for (let i = 0; i < events; i++) {
                await write(channel, 1);
                await new Promise((resolve) => setTimeout(resolve, paceMs));
              }
            })();
            for (const { afterMs, downMs } of disconnects) {
              await new Promise((resolve) => setTimeout(resolve, afterMs));
              let before: number[] = [];
              await model.reconnectAndResume(downMs, async () => {
                // What the audit holds just before the resume is asked: the resume must bring all of it.
                before = await auditedSeqs(channel, model.epoch);
              });
              resumes += 1;
              const missing = before.filter((n) => !model.held.has(n));
              expect(missing, `audited before the resume, missing after it (run ${run})`).toEqual([]);
            }
            await writer;
            await runtime.waitForIdle({ timeoutMs: 120_000 });
            // Everything is audited exactly once, numbered 1..N.
            const audited = await auditedSeqs(channel, model.epoch);
            expect(audited).toEqual(Array.from({ length: events }, (_, i) => i + 1));
            // The client fills every gap it sees (waiting, then fetching) and ends with the audited set.
            await model.settle(events);
            expect([...model.held].sort((a, b) => a - b)).toEqual(audited);
            expect(model.refreshes).toEqual([]);
            replayed += model.replayed;
            await model.close();
          },
        ),
        { numRuns: 3, seed: 20261130, endOnFailure: true },
      );
      // The runs did meet the faults they were meant to meet.
      const counts = faults.counts;
      expect(counts.connectionsError).toBeGreaterThan(0);
      expect(counts.putEventsEntriesThrottled).toBeGreaterThan(0);
      // And the resumes had something to replay (events published while the client was away).
      expect(resumes).toBeGreaterThan(2);
      expect(replayed).toBeGreaterThan(0);
    } finally {
      uninstall();
      faults.configure({});
    }
  }, 600_000);
});

/**
 * A minimal client following the documented gap policy: it tracks the numbers it holds per
 * channel; live events pass through a layer that delays, reorders and duplicates them; a gap
 * that outlives a short wait is fetched; after a disconnect it resumes after its highest
 * contiguous number.
 */
class GapTrackingClient {
  readonly held = new Set<number>();
  readonly refreshes: ServerFrame[] = [];
  epoch = '';
  private client: TestClient | undefined;
  private seen = 0;
  /** Events that arrived as the answer to a resume (replayed), and fetches sent. */
  replayed = 0;
  fetches = 0;
  private pending = 0;
  private pumping: TestClient | undefined;
  private random: () => number;

  constructor(
    private readonly channel: string,
    private readonly connect: () => Promise<TestClient>,
    seed: number,
  ) {
    let state = seed >>> 0 || 1;
    this.random = () => {
      state = (state * 1_103_515_245 + 12_345) >>> 0;
      return state / 2 ** 32;
    };
  }

  /** The highest n such that 1..n are all held. */
  contiguous(): number {
    let n = 0;
    while (this.held.has(n + 1)) n += 1;
    return n;
  }

  async start(): Promise<void> {
    const frame = await this.ask(
      { action: 'subscribe', channels: [this.channel] },
      (f) => f.type === 'subscribed',
    );
    const head = frame.type === 'subscribed' ? frame.heads?.[0] : undefined;
    if (!head) throw new Error('subscribed without a head');
    this.epoch = head.epoch;
  }

  /**
   * Send a message and wait for its answer, as a real client would: on an `error` frame (the
   * server's own post can fail under the injected faults), a silence, or a dropped socket, ask
   * again, reconnecting if needed. Frames up to the answer go to the model directly; the rest
   * through the shuffling layer.
   */
  private async ask(message: unknown, done: (f: ServerFrame) => boolean): Promise<ServerFrame> {
    let lastError: ServerFrame | undefined;
    for (let attempt = 1; attempt <= 8; attempt++) {
      let client = this.client;
      if (!client || client.ws.readyState !== OPEN) {
        client = await this.connect();
        this.client = client;
        this.seen = 0;
        // A new connection holds no subscription: resume first (it subscribes), then ask.
        const action = (message as { action?: string }).action;
        if (action !== 'resume' && action !== 'subscribe') await this.resume();
      }
      const from = client.frames.length;
      client.send(message);
      const end = await client
        .waitFor((f) => done(f) || f.type === 'error', 15_000, from)
        .catch(() => undefined);
      const upTo = end ? client.frames.indexOf(end, from) + 1 : client.frames.length;
      for (const frame of client.frames.slice(this.seen, upTo)) {
        if (frame.type === 'refresh') this.refreshes.push(frame);
        const events = frame.type === 'events' ? frame.events : frame.type === 'event' ? [frame.event] : [];
        for (const event of events) this.accept(event);
        if (end?.type === 'resumed') this.replayed += events.length;
      }
      this.seen = upTo;
      if (end && end.type !== 'error') {
        this.pump();
        return end;
      }
      lastError = end;
    }
    throw new Error(`no answer to ${JSON.stringify(message)}; last: ${JSON.stringify(lastError)}`);
  }

  /** Hand live frames to the model through the shuffling layer, until the client changes. */
  private pump(): void {
    const client = this.client;
    if (!client || this.pumping === client) return;
    this.pumping = client;
    const tick = () => {
      if (client !== this.client) {
        if (this.pumping === client) this.pumping = undefined;
        return;
      }
      for (const frame of client.frames.slice(this.seen)) this.deliverLive(frame);
      this.seen = client.frames.length;
      setTimeout(tick, 10);
    };
    tick();
  }

  private deliverLive(frame: ServerFrame): void {
    if (frame.type === 'refresh') this.refreshes.push(frame);
    const events = frame.type === 'events' ? frame.events : frame.type === 'event' ? [frame.event] : [];
    for (const event of events) {
      const copies = this.random() < 0.15 ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        this.pending += 1;
        setTimeout(
          () => {
            this.pending -= 1;
            this.accept(event);
          },
          Math.floor(this.random() * 300),
        );
      }
    }
  }

  private accept(event: Envelope): void {
    if (event.channel !== this.channel || event.epoch !== this.epoch || event.seq === undefined) return;
    this.held.add(event.seq);
  }

  private async drain(): Promise<void> {
    await until(() => this.pending === 0, 'the shuffling layer to drain', 30_000);
  }

  /** Drop the socket (as a network would), stay away `downMs`, reconnect, resume after the contiguous prefix. */
  async reconnectAndResume(downMs: number, beforeResume: () => Promise<void>): Promise<void> {
    const old = this.client;
    this.client = undefined;
    await old?.close();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.drain();
    await beforeResume();
    await this.resume();
    await this.drain();
  }

  private async resume(): Promise<void> {
    const end = await this.ask(
      {
        action: 'resume',
        channels: [{ channel: this.channel, afterSeq: this.contiguous(), epoch: this.epoch }],
      },
      (f) => f.type === 'resumed' || f.type === 'refresh',
    );
    if (end.type !== 'resumed' || !end.head) throw new Error(`resume answered ${JSON.stringify(end)}`);
  }

  /**
   * Wait for the gaps to fill: a number missing below the highest one held is a visible gap;
   * one that outlives a short wait is fetched. Ends when 1..expected are all held.
   */
  async settle(expected: number): Promise<void> {
    const deadline = Date.now() + 120_000;
    while (this.contiguous() < expected) {
      if (Date.now() > deadline) throw new Error(`still missing numbers after ${this.contiguous()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await this.drain();
      const fromSeq = this.contiguous() + 1;
      if (fromSeq > expected) break;
      this.fetches += 1;
      await this.ask(
        { action: 'fetch', channel: this.channel, fromSeq, toSeq: expected, epoch: this.epoch },
        (f) => f.type === 'fetched' || f.type === 'refresh',
      );
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
