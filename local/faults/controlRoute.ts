/**
 * `GET /control/faults` (the configuration and the counts so far) and `PUT /control/faults`
 * (replace the configuration; `{}` turns every fault off) on the runtime's control server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidFaultConfigError, parseFaultConfig } from './config.js';
import type { FaultInjector } from './injector.js';

export const FAULTS_CONTROL_PATH = '/control/faults';

const MAX_BODY_BYTES = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.byteLength;
    if (size > MAX_BODY_BYTES) throw new InvalidFaultConfigError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Handle a request to the faults control path; returns false when the path is not ours. */
export async function handleFaultsControl(
  faults: FaultInjector,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  if (path !== FAULTS_CONTROL_PATH) return false;
  if (req.method === 'GET') {
    send(res, 200, { active: faults.active, config: faults.config, counts: faults.counts });
    return true;
  }
  if (req.method === 'PUT' || req.method === 'POST') {
    try {
      const body = await readBody(req);
      faults.configure(parseFaultConfig(body.trim() === '' ? '{}' : body));
      send(res, 200, { active: faults.active, config: faults.config, counts: faults.counts });
    } catch (error) {
      if (!(error instanceof InvalidFaultConfigError)) throw error;
      send(res, 400, { code: 'INVALID_FAULT_CONFIG', message: error.message });
    }
    return true;
  }
  res.writeHead(405, { allow: 'GET, PUT' });
  res.end();
  return true;
}
