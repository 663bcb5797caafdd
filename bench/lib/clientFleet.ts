/**
 * A fleet of WebSocket clients in a child process (its own event loop and file-descriptor table,
 * so 10,000 client sockets do not compete with the gateway's 10,000 server sockets for the same
 * per-process limit, and the receiving work runs on the other core). Driven over IPC by
 * `FleetHandle` (bench/lib/fleet.ts).
 *
 * Each client connects with the given token, subscribes to the channel, and records every event
 * it receives: per event id the first and last receipt time across clients, latency against the
 * event's `data.sentAt` (epoch ms), duplicates and out-of-order positions per client.
 */
import { WebSocket } from 'ws';
import * as z from 'zod';

const commandSchema = z.discriminatedUnion('cmd', [
  z.object({
    cmd: z.literal('connect'),
    url: z.string(),
    token: z.string(),
    channel: z.string(),
    count: z.number().int().positive(),
    concurrency: z.number().int().positive(),
  }),
  z.object({ cmd: z.literal('reset') }),
  z.object({
    cmd: z.literal('waitForEvents'),
    perClient: z.number().int().nonnegative(),
    timeoutMs: z.number(),
  }),
  z.object({ cmd: z.literal('report') }),
  z.object({ cmd: z.literal('close') }),
]);
export type FleetCommand = z.infer<typeof commandSchema>;

const benchEventSchema = z.object({
  id: z.string(),
  position: z.string(),
  data: z.record(z.string(), z.unknown()),
});
type BenchEvent = z.infer<typeof benchEventSchema>;
const eventFrameSchema = z.object({ type: z.literal('event'), event: benchEventSchema });
const eventsFrameSchema = z.object({ type: z.literal('events'), events: z.array(benchEventSchema) });
const otherFrameSchema = z.object({ type: z.string() });

export const fleetReportSchema = z.object({
  clients: z.number(),
  open: z.number(),
  /** WebSocket messages received that carried events (`event` or `events` frames). */
  eventMessages: z.number(),
  otherMessages: z.number(),
  refreshFrames: z.number(),
  eventsReceived: z.number(),
  duplicates: z.number(),
  outOfOrder: z.number(),
  maxMessageBytes: z.number(),
  /** Receipt latency samples (ms) against `data.sentAt`, one per event per client. */
  latencies: z.array(z.number()),
  /** Per event id: how many clients got it, and the first and last receipt time (epoch ms). */
  byEvent: z.record(z.string(), z.object({ count: z.number(), first: z.number(), last: z.number() })),
  /** Events received by the client that received the fewest. */
  minEventsPerClient: z.number(),
});
export type FleetReport = z.infer<typeof fleetReportSchema>;

interface ClientState {
  socket: WebSocket;
  seen: Set<string>;
  lastPosition: string;
  events: number;
}

const clients: ClientState[] = [];
let eventMessages = 0;
let otherMessages = 0;
let refreshFrames = 0;
let eventsReceived = 0;
let duplicates = 0;
let outOfOrder = 0;
let maxMessageBytes = 0;
let latencies: number[] = [];
let byEvent = new Map<string, { count: number; first: number; last: number }>();

const now = (): number => performance.timeOrigin + performance.now();

function reset(): void {
  eventMessages = 0;
  otherMessages = 0;
  refreshFrames = 0;
  eventsReceived = 0;
  duplicates = 0;
  outOfOrder = 0;
  maxMessageBytes = 0;
  latencies = [];
  byEvent = new Map();
  for (const c of clients) {
    c.seen.clear();
    c.lastPosition = '';
    c.events = 0;
  }
}

function record(client: ClientState, event: BenchEvent, at: number): void {
  eventsReceived += 1;
  client.events += 1;
  if (client.seen.has(event.id)) duplicates += 1;
  client.seen.add(event.id);
  if (event.position < client.lastPosition) outOfOrder += 1;
  else client.lastPosition = event.position;
  const sentAt = event.data.sentAt;
  if (typeof sentAt === 'number') latencies.push(at - sentAt);
  const entry = byEvent.get(event.id);
  if (entry) {
    entry.count += 1;
    entry.last = Math.max(entry.last, at);
    entry.first = Math.min(entry.first, at);
  } else byEvent.set(event.id, { count: 1, first: at, last: at });
}

function openClient(url: string, token: string, channel: string): Promise<ClientState> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
    const state: ClientState = { socket, seen: new Set(), lastPosition: '', events: 0 };
    let subscribed = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('connect + subscribe timed out'));
    }, 60_000);
    socket.on('open', () => socket.send(JSON.stringify({ action: 'subscribe', channels: [channel] })));
    socket.on('message', (data: Buffer) => {
      const at = now();
      const text = data.toString();
      maxMessageBytes = Math.max(maxMessageBytes, data.byteLength);
      const json: unknown = JSON.parse(text);
      const single = eventFrameSchema.safeParse(json);
      if (single.success) {
        eventMessages += 1;
        record(state, single.data.event, at);
        return;
      }
      const several = eventsFrameSchema.safeParse(json);
      if (several.success) {
        eventMessages += 1;
        for (const event of several.data.events) record(state, event, at);
        return;
      }
      const other = otherFrameSchema.safeParse(json);
      if (!other.success) return;
      otherMessages += 1;
      if (other.data.type === 'refresh') refreshFrames += 1;
      if (other.data.type === 'subscribed' && !subscribed) {
        subscribed = true;
        clearTimeout(timer);
        resolve(state);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', (code) => {
      if (!subscribed) {
        clearTimeout(timer);
        reject(new Error(`closed ${code} before subscribing`));
      }
    });
  });
}

async function connect(
  command: Extract<FleetCommand, { cmd: 'connect' }>,
): Promise<{ connected: number; failed: number; errors: string[] }> {
  let next = 0;
  let failed = 0;
  const errors = new Set<string>();
  const worker = async (): Promise<void> => {
    while (next < command.count) {
      next += 1;
      try {
        clients.push(await openClient(command.url, command.token, command.channel));
      } catch (error) {
        failed += 1;
        errors.add(error instanceof Error ? error.message : String(error));
      }
      if ((clients.length + failed) % 1000 === 0)
        process.send?.({ type: 'progress', connected: clients.length, failed });
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return { connected: clients.length, failed, errors: [...errors].slice(0, 5) };
}

function report(): FleetReport {
  const minEvents = clients.length === 0 ? 0 : Math.min(...clients.map((c) => c.events));
  return {
    clients: clients.length,
    open: clients.filter((c) => c.socket.readyState === WebSocket.OPEN).length,
    eventMessages,
    otherMessages,
    refreshFrames,
    eventsReceived,
    duplicates,
    outOfOrder,
    maxMessageBytes,
    latencies,
    byEvent: Object.fromEntries(byEvent),
    minEventsPerClient: minEvents,
  };
}

async function waitForEvents(perClient: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (clients.every((c) => c.events >= perClient)) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

process.on('message', (raw: unknown) => {
  const command = commandSchema.parse(raw);
  const reply = (payload: Record<string, unknown>): void => {
    process.send?.({ type: 'reply', cmd: command.cmd, ...payload });
  };
  switch (command.cmd) {
    case 'connect':
      connect(command).then(
        (result) => reply(result),
        (error: unknown) => reply({ error: String(error) }),
      );
      break;
    case 'reset':
      reset();
      reply({});
      break;
    case 'waitForEvents':
      waitForEvents(command.perClient, command.timeoutMs).then((reached) => reply({ reached }));
      break;
    case 'report':
      reply({ report: report() });
      break;
    case 'close':
      for (const c of clients) c.socket.terminate();
      reply({});
      setTimeout(() => process.exit(0), 50);
      break;
  }
});

process.send?.({ type: 'ready' });
