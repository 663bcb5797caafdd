/** A raw WebSocket test client for the e2e tests: records every frame (parsed) and every raw message size. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import WebSocket from 'ws';
import { getDocumentClient } from '../../src/aws/clients.js';
import { topology } from '../../src/contract/topology.js';
import { type AuditAttemptItem, auditAttemptItemSchema, auditEventPk } from '../../src/core/auditRecord.js';
import type { Envelope } from '../../src/core/envelope.js';
import { keyPrefix } from '../../src/core/keyCodec.js';
import { type ServerFrame, serverFrameSchema } from '../../src/core/protocol.js';

export interface TestClient {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[];
  readonly messageSizes: number[];
  readonly closed: Promise<number>;
  /** Events in arrival order (from `event` and `events` frames; duplicates kept). */
  events(): Envelope[];
  send(message: unknown): void;
  /** Resolves with the first frame (after `from`) matching the predicate. */
  waitFor(
    predicate: (frame: ServerFrame) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<ServerFrame>;
  close(): Promise<void>;
}

export async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Connect with a token; rejects with `HTTP <status>` when the gateway refuses the upgrade. */
export function connectClient(
  url: string,
  token: string | undefined,
  options: { readonly origin?: string } = {},
): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      token === undefined ? url : `${url}?token=${encodeURIComponent(token)}`,
      options.origin ? { origin: options.origin } : {},
    );
    const frames: ServerFrame[] = [];
    const messageSizes: number[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (data: Buffer) => {
      messageSizes.push(data.byteLength);
      frames.push(serverFrameSchema.parse(JSON.parse(data.toString('utf8'))));
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        messageSizes,
        closed,
        events: () =>
          frames.flatMap((f) => (f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : [])),
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        async waitFor(predicate, timeoutMs = 60_000, from = 0) {
          let found: ServerFrame | undefined;
          await until(
            () => {
              found = frames.slice(from).find(predicate);
              return found !== undefined;
            },
            'a matching frame',
            timeoutMs,
          );
          if (!found) throw new Error('unreachable');
          return found;
        },
        async close() {
          if (ws.readyState === WebSocket.OPEN) ws.close();
          await closed;
        },
      }),
    );
  });
}

/** The fan-out's summary attempt of an event (target `fanout`), read from the audit table. */
export async function fanoutSummaryOf(
  tenantId: string,
  eventId: string,
): Promise<AuditAttemptItem['fanout']> {
  const page = await getDocumentClient().send(
    new QueryCommand({
      TableName: process.env[topology.tables.audit.env],
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': auditEventPk(tenantId, eventId),
        ':prefix': keyPrefix(['ATTEMPT', 'websocket']),
      },
    }),
  );
  const attempts = (page.Items ?? []).map((item) => auditAttemptItemSchema.parse(item));
  return attempts.find((a) => a.target === 'fanout')?.fanout;
}
