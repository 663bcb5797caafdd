import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControlServer, sendJson, startControlServer } from '../../local/controlServer.js';
import { endpointsFilePath, writeEndpointsFile } from '../../local/endpointsFile.js';
import { localRequestRefusal } from '../../local/requestGuard.js';

interface Answer {
  status: number;
  body: string;
  allow: string | undefined;
}

/** A raw request (fetch would not let us forge `Host`). */
function send(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/health',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => {
          const allow = res.headers.allow;
          resolve({ status: res.statusCode ?? 0, body, allow: Array.isArray(allow) ? allow[0] : allow });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the runtime HTTP server refuses what a browser attack would send', () => {
  let server: ControlServer;
  const reached: string[] = [];

  beforeEach(async () => {
    reached.length = 0;
    server = await startControlServer();
    server.addRoute(async (req, res) => {
      reached.push(`${req.method} ${req.url}`);
      sendJson(res, 200, { ok: true });
      return true;
    });
  });
  afterEach(async () => {
    await server.stop();
  });

  const json = { 'content-type': 'application/json' };

  it('serves a well-formed local request', async () => {
    const answer = await send(server.port, {
      method: 'POST',
      path: '/control/bus/replay',
      headers: { ...json, origin: `http://127.0.0.1:${server.port}` },
      body: '{}',
    });
    expect(answer.status).toBe(200);
    expect(reached).toEqual(['POST /control/bus/replay']);
    expect((await send(server.port, { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form post', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('refuses a body sent as %s with 415', async (_name, contentType) => {
    const answer = await send(server.port, {
      method: 'POST',
      path: '/console/api/events',
      headers: { 'content-type': contentType },
      body: '{"tenantId":"t1"}',
    });
    expect(answer.status).toBe(415);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(reached).toEqual([]);
  });

  it('refuses a body without a content type', async () => {
    const answer = await send(server.port, { method: 'PUT', path: '/control/faults', body: '{}' });
    expect(answer.status).toBe(415);
  });

  it.each(['evil.example', 'evil.example:80', '127.0.0.1.nip.io', 'user@127.0.0.1'])(
    'refuses a foreign Host %j (DNS rebinding) with 403',
    async (host) => {
      const answer = await send(server.port, { headers: { host } });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'FORBIDDEN_HOST' });
      expect(reached).toEqual([]);
    },
  );

  it('refuses a foreign Origin with 403, even on GET', async () => {
    for (const origin of [
      'https://evil.example',
      'http://127.0.0.1:1',
      'null',
      `https://127.0.0.1:${server.port}`,
    ]) {
      const answer = await send(server.port, { path: '/console/api/config', headers: { origin } });
      expect(answer.status, origin).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'FORBIDDEN_ORIGIN' });
    }
    expect(reached).toEqual([]);
  });

  it.each([
    ['DELETE', '/control/faults', 'GET, PUT'],
    ['POST', '/control/faults', 'GET, PUT'],
    ['GET', '/control/bus/replay', 'POST'],
    ['PUT', '/console/api/token', 'POST'],
    ['POST', '/health', 'GET'],
    ['DELETE', '/console/api/events/evt_1', 'GET'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const answer = await send(server.port, { method, path, headers: json, body: '{}' });
    expect(answer.status).toBe(405);
    expect(answer.allow).toBe(allow);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'METHOD_NOT_ALLOWED' });
    expect(reached).toEqual([]);
  });
});

describe('the request guard', () => {
  it('refuses a request without Host', () => {
    expect(localRequestRefusal({ method: 'GET', url: '/health', headers: {} }, 8080)).toMatchObject({
      status: 403,
      code: 'FORBIDDEN_HOST',
    });
  });

  it('never throws on arbitrary methods, paths and headers', () => {
    const value = fc.option(fc.string({ unit: 'binary' }), { nil: undefined });
    fc.assert(
      fc.property(
        value,
        value,
        value,
        value,
        value,
        fc.integer({ min: 1, max: 65_535 }),
        (method, url, host, origin, type, port) => {
          const refusal = localRequestRefusal(
            { method, url, headers: { host, origin, 'content-type': type } },
            port,
          );
          return refusal === undefined || [403, 405, 415].includes(refusal.status);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('.local/endpoints.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'endpoints-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const url = 'http://127.0.0.1:1';
  const runtime = {
    endpoints: {
      dynamodb: url,
      sqs: url,
      eventBridge: url,
      webSocket: url,
      managementApi: url,
      console: url,
      control: url,
    },
    env: { JWT_SECRET: 'dev-secret' },
  };
  const mode = (path: string) => statSync(path).mode & 0o777;

  it('is written owner-only (0600): it holds the dev JWT secret', () => {
    writeEndpointsFile(dir, runtime);
    expect(mode(endpointsFilePath(dir))).toBe(0o600);
  });

  it('stays owner-only over a world-readable file or temp file of an older run', () => {
    const path = endpointsFilePath(dir);
    writeFileSync(path, '{}');
    chmodSync(path, 0o644);
    writeFileSync(`${path}.tmp`, '{}');
    chmodSync(`${path}.tmp`, 0o666);
    writeEndpointsFile(dir, runtime);
    expect(mode(path)).toBe(0o600);
  });
});
