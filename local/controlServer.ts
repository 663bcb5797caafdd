/**
 * The runtime's HTTP server for people and tools: `/health`, the console (`/`, `/console/**`),
 * and `/control/**` routes. Routes are a small ordered registry: each handler answers `true` when
 * it handled the request, so other pieces (the console, fault injection) plug in without this
 * file knowing them. Every request first passes `requestGuard.ts` (loopback Host, own Origin,
 * JSON bodies, documented methods).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from './ports.js';
import { localRequestRefusal } from './requestGuard.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface ControlServer {
  readonly url: string;
  readonly port: number;
  /** Adds a handler, tried after the ones added before it. Returns a function that removes it. */
  addRoute(handler: RouteHandler): () => void;
  stop(): Promise<void>;
}

export async function startControlServer(options: { port?: number } = {}): Promise<ControlServer> {
  const routes: RouteHandler[] = [];
  let port = 0;
  const server = createServer((req, res) => {
    const refusal = localRequestRefusal(req, port);
    if (refusal) {
      if (refusal.allow) res.setHeader('allow', refusal.allow.join(', '));
      sendJson(res, refusal.status, { error: refusal.code, message: refusal.message });
      req.resume(); // drain an unread body so the socket can be reused
      return;
    }
    dispatch(routes, req, res).catch((error: unknown) => {
      sendJson(res, 500, {
        error: 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      });
    });
  });
  port = await listenOn(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    addRoute(handler) {
      routes.push(handler);
      return () => {
        const index = routes.indexOf(handler);
        if (index >= 0) routes.splice(index, 1);
      };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function dispatch(
  routes: readonly RouteHandler[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  for (const route of routes) {
    if (await route(req, res)) return;
  }
  sendJson(res, 404, {
    error: 'NOT_FOUND',
    message: `No route for ${req.method ?? 'GET'} ${req.url ?? '/'}`,
  });
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : JSON.parse(text);
}
