/**
 * A tiny WebSocket client: connects with a token, subscribes, prints events (`event` and
 * coalesced `events` frames), and after a drop reconnects and resumes from the last event id it
 * saw, dropping duplicates by id. Raw protocol on purpose (the SDK in src/client does more).
 *
 *   npm start                                  # in another terminal
 *   TOKEN=$(npm run -s token -- --tenant t1 --sub demo)
 *   npx tsx examples/node-client.ts --url ws://127.0.0.1:<port>/live --token "$TOKEN" --channels orders
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { Envelope } from '../src/core/envelope.js';
import { serverFrameSchema } from '../src/core/protocol.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    channels: { type: 'string', default: 'orders' },
  },
});
if (!values.url || !values.token) {
  console.error(
    'Usage: npx tsx examples/node-client.ts --url ws://host:port/live --token <jwt> [--channels a,b]',
  );
  process.exit(2);
}
const url = `${values.url}?token=${encodeURIComponent(values.token)}`;
const channels = (values.channels ?? 'orders').split(',').filter((c) => c !== '');

const lastSeen = new Map<string, string>(); // channel → last event id
const seenIds = new Set<string>();
let stopping = false;

function print(event: Envelope): void {
  if (seenIds.has(event.id)) return; // at-least-once: drop duplicates by id
  seenIds.add(event.id);
  lastSeen.set(event.channel, event.id);
  console.log(`${event.time} ${event.channel} ${event.type} ${event.id} ${JSON.stringify(event.data)}`);
}

function connect(attempt = 0): void {
  const ws = new WebSocket(url);
  ws.on('open', () => {
    attempt = 0;
    // First connection: subscribe. After a reconnect: resume every channel from the last id seen.
    const resume = channels.map((channel) => ({
      channel,
      ...(lastSeen.has(channel) ? { since: lastSeen.get(channel) } : {}),
    }));
    ws.send(
      JSON.stringify(
        lastSeen.size === 0 ? { action: 'subscribe', channels } : { action: 'resume', channels: resume },
      ),
    );
  });
  ws.on('message', (data: Buffer) => {
    const parsed = serverFrameSchema.safeParse(JSON.parse(data.toString('utf8')));
    if (!parsed.success) return;
    const frame = parsed.data;
    switch (frame.type) {
      case 'event':
        print(frame.event);
        break;
      case 'events':
        for (const event of frame.events) print(event);
        break;
      case 'refresh':
        console.log(
          `# refresh ${frame.channel} (${frame.reason}): reload this channel's state from your API`,
        );
        break;
      case 'close':
        console.log(`# server going away (${frame.reason}); reconnecting in ${frame.reconnectAfterMs} ms`);
        break;
      case 'error':
        console.error(`# error ${frame.code}: ${frame.message}`);
        break;
      default:
        console.log(`# ${JSON.stringify(frame)}`);
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    console.error(`# refused: HTTP ${res.statusCode} (bad or expired token?)`);
    process.exit(1);
  });
  ws.on('close', () => {
    if (stopping) return;
    const delay = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    console.log(`# disconnected; reconnecting in ${Math.round(delay)} ms`);
    setTimeout(() => connect(attempt + 1), delay);
  });
  ws.on('error', () => {});
  process.once('SIGINT', () => {
    stopping = true;
    ws.close();
  });
}

connect();
