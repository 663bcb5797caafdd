/**
 * A local webhook receiver for the bench: answers 2xx at once (or never, for the "endpoint that
 * times out" case), and records each request's receipt time, its `webhook-id` and the latency
 * against the event's `data.sentAt`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import * as z from 'zod';
import { nowMs } from './harness.js';

const bodySchema = z.object({ id: z.string(), data: z.object({ sentAt: z.number() }).loose() }).loose();

export interface WebhookReceiver {
  readonly url: string;
  /** Requests answered (or held, when hanging). */
  readonly requests: number;
  /** Distinct `webhook-id`s received. */
  readonly distinct: number;
  readonly latencies: readonly number[];
  readonly receipts: readonly number[];
  reset(): void;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(
  options: {
    hang?: boolean /** Answer 204 only after this long (a slow but healthy receiver). */;
    delayMs?: number;
  } = {},
): Promise<WebhookReceiver> {
  let requests = 0;
  let latencies: number[] = [];
  let receipts: number[] = [];
  let ids = new Set<string>();
  const sockets = new Set<Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = nowMs();
      requests += 1;
      receipts.push(at);
      const id = req.headers['webhook-id'];
      if (typeof id === 'string') ids.add(id);
      try {
        const body = bodySchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (body.success) latencies.push(at - body.data.data.sentAt);
      } catch {
        // Not JSON: counted, no latency.
      }
      if (options.hang) return; // never answer: the delivery times out
      const answer = () => {
        res.writeHead(204);
        res.end();
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  };
  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the webhook receiver has no TCP port');
  const { port } = address;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get requests() {
      return requests;
    },
    get distinct() {
      return ids.size;
    },
    get latencies() {
      return latencies;
    },
    get receipts() {
      return receipts;
    },
    reset() {
      requests = 0;
      latencies = [];
      receipts = [];
      ids = new Set();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
