/**
 * (j) Receipts: what `receipts: true` costs in inbound WebSocket messages. The real client SDK on
 * real timers, fed 200 events/s per connection (frames of 4 every 20 ms, as a coalescing fan-out
 * delivers them) through an in-process socket that counts what the client sends back. The audit
 * writes each receipt and each per-subject record cost come from the cost model (`npm run cost`).
 */
import { loadavg } from 'node:os';
import { connect, type Envelope, type SocketCallbacks } from '../../src/client/index.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';

const CHANNEL = 'orders';
const EVENTS_PER_SECOND = 200;
const FRAME_EVERY_MS = 20;

function sequenced(seq: number): Envelope {
  const time = new Date().toISOString();
  return {
    version: 1,
    id: `ev-${seq}`,
    source: 'bench',
    tenantId: 'bench',
    channel: CHANNEL,
    type: 'order.updated',
    resourceId: `order-${seq}`,
    time,
    position: `${time}#ev-${seq}`,
    data: { seq },
    seq,
    epoch: 'e1',
  };
}

async function measureConnection(
  seconds: number,
): Promise<{ events: number; acks: number; ackedIds: number }> {
  let callbacks: SocketCallbacks | undefined;
  let acks = 0;
  const acked = new Set<string>();
  const client = connect({
    url: 'ws://in-process/bench',
    token: 'bench',
    receipts: true,
    socketFactory: (_url, socketCallbacks) => {
      callbacks = socketCallbacks;
      queueMicrotask(() => socketCallbacks.onOpen());
      return {
        send(text: string) {
          const message = JSON.parse(text) as { action: string; ids?: string[] };
          if (message.action !== 'ack') return;
          acks += 1;
          for (const id of message.ids ?? []) acked.add(id);
        },
        close() {},
      };
    },
  });
  client.subscribe(CHANNEL, () => undefined);
  while (callbacks === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setTimeout(resolve, 10));
  callbacks.onMessage(JSON.stringify({ type: 'subscribed', channels: [CHANNEL] }));
  const perFrame = (EVENTS_PER_SECOND * FRAME_EVERY_MS) / 1000;
  let seq = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const events = Array.from({ length: perFrame }, () => sequenced(++seq));
    callbacks.onMessage(JSON.stringify({ type: 'events', events }));
    await new Promise((resolve) => setTimeout(resolve, FRAME_EVERY_MS));
  }
  // The last batch goes out within the client's one-second pause.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  client.close();
  return { events: seq, acks, ackedIds: acked.size };
}

export const receiptsScenario: Scenario = {
  name: 'receipts',
  title: 'Receipts: inbound ack messages per event per connection at 200 events/s',
  budgetMs: 60_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const seconds = context.quick ? 3 : 15;
    const connections = 10;
    const loadAtStart = loadavg()[0] ?? 0;
    context.progress(`${connections} connections, ${EVENTS_PER_SECOND} events/s each, ${seconds} s`);
    const results = await Promise.all(Array.from({ length: connections }, () => measureConnection(seconds)));
    const events = results.reduce((sum, r) => sum + r.events, 0);
    const acks = results.reduce((sum, r) => sum + r.acks, 0);
    const ackedIds = results.reduce((sum, r) => sum + r.ackedIds, 0);
    return {
      figures: {
        ackMessagesPerEventPerConnection: figure(acks / events, 'messages'),
        idsPerAckMessage: figure(ackedIds / Math.max(1, acks), 'ids'),
        eventsAcknowledged: figure(ackedIds / events, 'ratio'),
        eventsDelivered: figure(events, 'events'),
      },
      notes: [
        `${connections} connections × ${EVENTS_PER_SECOND} events/s × ${seconds} s through the real client on real timers; target ≤ 0.02 ack messages per event per connection`,
        "audit writes: each receipt is one conditional put of a per-subject record; the fan-out's per-subject records cost a digest per event and a deliveries item per subscriber and fan-out write (table + bySubject index): see `npm run cost`",
        `load average ${loadAtStart.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}`,
      ],
    };
  },
};
