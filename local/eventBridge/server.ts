/**
 * The HTTP face of the local bus, speaking AWS's JSON 1.1 protocol as the unmodified
 * `EventBridgeClient` sends it: `POST /` with `X-Amz-Target: AWSEvents.PutEvents` and
 * `Content-Type: application/x-amz-json-1.1`. Errors are answered as AWS does: HTTP 400 with
 * `{"__type": "<code>", "message": "..."}` and the `x-amzn-ErrorType` header.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../ports.js';
import { BusRequestError } from './errors.js';
import type { LocalBus } from './localBus.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Far above any valid request (the bus limit is checked on the entries); stops runaway bodies. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface BusServer {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startBusServer(bus: LocalBus, options: { port?: number } = {}): Promise<BusServer> {
  const server = createServer((req, res) => {
    handle(bus, req, res).catch((error: unknown) => {
      sendError(
        res,
        new BusRequestError('InternalException', error instanceof Error ? error.message : String(error), 500),
      );
    });
  });
  server.keepAliveTimeout = 5000;
  const port = await listenOn(server, options.port ?? 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(bus: LocalBus, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    return sendError(res, new BusRequestError('UnknownOperationException', 'Only POST is supported', 405));
  }
  const target = req.headers['x-amz-target'];
  const body = await readBody(req);
  if (body === undefined) {
    return sendError(res, new BusRequestError('ValidationException', 'Request body too large', 413));
  }
  if (target !== 'AWSEvents.PutEvents') {
    return sendError(
      res,
      new BusRequestError(
        'UnknownOperationException',
        `The local bus implements AWSEvents.PutEvents only, not ${String(target)}`,
      ),
    );
  }
  let request: unknown;
  try {
    request = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    return sendError(
      res,
      new BusRequestError('SerializationException', 'The request body is not valid JSON'),
    );
  }
  try {
    const response = await bus.putEvents(request);
    send(res, 200, response);
  } catch (error) {
    if (error instanceof BusRequestError) return sendError(res, error);
    throw error;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(body);
}

function sendError(res: ServerResponse, error: BusRequestError): void {
  if (res.headersSent) return;
  send(
    res,
    error.statusCode,
    { __type: error.code, message: error.message },
    { 'x-amzn-errortype': error.code },
  );
}
