/**
 * The checker's WebSocket clients: the client SDK (`src/client`, reconnect + resume + de-dup),
 * each subscribed to every channel of its tenant. Raw `event`/`events` frames are counted too, so
 * the report can show how many duplicates the SDK absorbed.
 */
import { connect, type RelayClient } from '../../src/client/index.js';
import { defaultSocketFactory } from '../../src/client/socket.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';

export interface FleetClient {
  readonly name: string;
  readonly tenantId: string;
  readonly channels: readonly string[];
  /** Event ids handed to the app (once each, by the SDK). */
  readonly delivered: Set<string>;
  /** Raw event frames per id (duplicates included). */
  readonly rawCounts: Map<string, number>;
  /** Refresh notices: the app was told to reload a channel. */
  readonly refreshes: { channel: string; reason: string; eventId?: string; at: number }[];
  readonly client: RelayClient;
}

function eventIdsOf(text: string): string[] {
  try {
    const frame: unknown = JSON.parse(text);
    if (typeof frame !== 'object' || frame === null) return [];
    const type = Reflect.get(frame, 'type');
    const idOf = (event: unknown) =>
      typeof event === 'object' && event !== null ? String(Reflect.get(event, 'id')) : '';
    if (type === 'event') return [idOf(Reflect.get(frame, 'event'))];
    const events = Reflect.get(frame, 'events');
    if (type === 'events' && Array.isArray(events)) return events.map(idOf);
  } catch {
    // Not JSON: the SDK reports it.
  }
  return [];
}

export function startClient(options: {
  name: string;
  url: string;
  tenantId: string;
  channels: readonly string[];
  jwtSecret: () => string;
}): FleetClient {
  const delivered = new Set<string>();
  const rawCounts = new Map<string, number>();
  const refreshes: FleetClient['refreshes'] = [];
  const client = connect({
    url: options.url,
    getToken: () =>
      mintConnectionToken(
        { tenantId: options.tenantId, subject: options.name },
        secretKey(options.jwtSecret()),
      ),
    backoff: { baseMs: 200, maxMs: 2_000 },
    resumeTimeoutMs: 15_000,
    resumeRetries: 5,
    dedupeWindow: 10_000,
    socketFactory: (url, callbacks) =>
      defaultSocketFactory(url, {
        ...callbacks,
        onMessage: (text) => {
          for (const id of eventIdsOf(text)) rawCounts.set(id, (rawCounts.get(id) ?? 0) + 1);
          callbacks.onMessage(text);
        },
      }),
  });
  for (const channel of options.channels) client.subscribe(channel, (event) => delivered.add(event.id));
  client.on('refresh', (notice) => refreshes.push({ ...notice, at: Date.now() }));
  client.on('error', () => {
    // Errors surface as reconnects and refreshes; the classification reads those.
  });
  return {
    name: options.name,
    tenantId: options.tenantId,
    channels: options.channels,
    delivered,
    rawCounts,
    refreshes,
    client,
  };
}
