/**
 * The checker's four webhook receivers: healthy (200), slow (200 after a delay), always failing
 * (500) and gone (410). Each verifies the Standard Webhooks signature with the tenant's secret and
 * records every request it accepts, by event id.
 */
import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export const RECEIVER_KINDS = ['healthy', 'slow', 'failing', 'gone'] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

export interface Receiver {
  readonly kind: ReceiverKind;
  readonly url: string;
  /** Event ids received with a valid signature (counted, to report duplicates). */
  readonly verified: Map<string, number>;
  /** Requests whose signature did not verify. */
  readonly stats: { invalidSignatures: number };
  /** Secret per tenant, set once the endpoint is registered. */
  readonly secrets: Map<string, string>;
  close(): Promise<void>;
}

const STATUS: Record<ReceiverKind, number> = { healthy: 200, slow: 200, failing: 500, gone: 410 };

/** `slowMs`: how long the slow receiver takes to answer. */
export async function startReceiver(kind: ReceiverKind, slowMs = 500): Promise<Receiver> {
  const receiver: Omit<Receiver, 'url' | 'close'> = {
    kind,
    verified: new Map(),
    stats: { invalidSignatures: 0 },
    secrets: new Map(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const tenant = new URL(req.url ?? '/', 'http://x').pathname.split('/').at(-1) ?? '';
      const secret = receiver.secrets.get(tenant);
      let eventId: string | undefined;
      try {
        if (!secret) throw new Error('unknown tenant');
        const headers: Record<string, string> = {};
        for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const payload: unknown = new Webhook(secret).verify(body, headers);
        const id = typeof payload === 'object' && payload !== null ? Reflect.get(payload, 'id') : undefined;
        eventId = typeof id === 'string' ? id : undefined;
      } catch {
        receiver.stats.invalidSignatures += 1;
      }
      const answer = () => {
        if (eventId && STATUS[kind] === 200)
          receiver.verified.set(eventId, (receiver.verified.get(eventId) ?? 0) + 1);
        res.writeHead(STATUS[kind]);
        res.end();
      };
      if (kind === 'slow') setTimeout(answer, slowMs);
      else answer();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ...receiver,
    url: `http://127.0.0.1:${port}/hooks`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
