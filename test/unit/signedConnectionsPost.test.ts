/**
 * The lean `@connections` post: signed requests on keep-alive sockets, accepted by the local
 * gateway's management API; the SDK path's error translation (410 → gone, throttling → retried
 * with back-off, 5xx → failed at once with its status for the fan-out's targeted retry).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { handleManagementRequest } from '../../local/gateway/managementApi.js';
import type { GatewayConnection, GatewayStats } from '../../local/gateway/types.js';
import { createSignedPost, credentialsFromEnv } from '../../src/aws/signedConnectionsPost.js';
import { type Credentials, signRequest } from '../../src/aws/sigv4.js';
import { ConnectionGoneError, PostToConnectionFailedError } from '../../src/core/websocketErrors.js';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'token' };
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
}

function post(endpoint: string, maxAttempts = 3) {
  const sleeps: number[] = [];
  const send = createSignedPost({
    endpoint,
    region: 'us-east-1',
    credentials: () => CREDENTIALS,
    maxAttempts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { send, sleeps };
}

function drain(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => resolve(body));
  });
}

describe('createSignedPost', () => {
  it('delivers through the local gateway to the connection, signed, on one kept-alive socket', async () => {
    const delivered: string[] = [];
    const connection = { connectionId: 'abc=/+', dropped: false } as unknown as GatewayConnection;
    const stats = { postCalls: 0, messages: 0, bytes: 0, units: 0, gone: 0, errors: 0 } as GatewayStats;
    const sockets = new Set<unknown>();
    const headers: IncomingMessage['headers'][] = [];
    const endpoint = await serve((req, res) => {
      sockets.add(req.socket);
      headers.push(req.headers);
      void handleManagementRequest(req, res, {
        stage: 'live',
        limits: { maxMessageBytes: 128 * 1024, idleTimeoutMs: 1, maxConnectionMs: 1, closeNoticeMs: 1 },
        connections: new Map([[connection.connectionId, connection]]),
        stats,
        send: async (_connection, data) => {
          delivered.push(data);
        },
        close: () => {},
        drop: () => {},
      });
    });
    const { send } = post(endpoint);
    const messages = ['{"type":"events"}', 'ünïcödé ✓', ''];
    for (const message of messages) await send('abc=/+', message);
    expect(delivered).toEqual(messages);
    expect(stats.messages).toBe(3);
    expect(sockets.size).toBe(1);
    for (const h of headers) {
      expect(h.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
      );
      expect(h['x-amz-security-token']).toBe('token');
    }
    await expect(send('unknown', 'x')).rejects.toBeInstanceOf(ConnectionGoneError);
  });

  it('sends exactly what signRequest signs, and reads rotated credentials within a second', async () => {
    const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
    const endpoint = await serve((req, res) => {
      void drain(req).then((body) => {
        received.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(204);
        res.end();
      });
    });
    let clock = Date.parse('2026-03-04T05:06:07.100Z');
    let reads = 0;
    let current: Credentials = CREDENTIALS;
    const send = createSignedPost({
      endpoint,
      region: 'eu-west-1',
      credentials: () => {
        reads++;
        return current;
      },
      now: () => clock,
    });
    const body = 'ünï ✓ {"type":"event"}';
    const sent: { id: string; at: number; credentials: Credentials }[] = [];
    const post = async (id: string) => {
      sent.push({ id, at: clock, credentials: current });
      await send(id, body);
    };
    await post('abc=/+');
    clock += 800; // the same second: credentials are not read again
    current = { accessKeyId: 'AKIDROTATED', secretAccessKey: 'rotated' };
    sent.push({ id: '..', at: clock, credentials: CREDENTIALS });
    await send('..', body);
    expect(reads).toBe(1);
    clock += 200; // the next second: the rotated ones sign
    await post('%3D.');
    expect(reads).toBe(2);
    const host = new URL(endpoint).host;
    expect(received).toHaveLength(3);
    received.forEach(({ url, headers, body: got }, i) => {
      // biome-ignore lint/style/noNonNullAssertion: one sent per received
      const { at, credentials } = sent[i]!;
      const expected = signRequest(
        { method: 'POST', host, path: url, body },
        credentials,
        { region: 'eu-west-1', service: 'execute-api' },
        new Date(at),
      );
      expect(got).toBe(body);
      expect(headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(headers.host).toBe(host);
      for (const [name, value] of Object.entries(expected)) expect(headers[name]).toBe(value);
      expect(headers['x-amz-security-token']).toBe(credentials.sessionToken);
    });
    expect(received.map((r) => r.url)).toEqual([
      '/live/@connections/abc%3D%2F%2B',
      '/live/@connections/..',
      '/live/@connections/%253D.',
    ]);
  });

  it('maps 410 to ConnectionGoneError without retrying', async () => {
    let calls = 0;
    const endpoint = await serve((req, res) => {
      calls++;
      void drain(req).then(() => {
        res.writeHead(410, { 'x-amzn-errortype': 'GoneException' });
        res.end('{"message":null}');
      });
    });
    const { send } = post(endpoint);
    const error = await send('c1', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionGoneError);
    expect((error as ConnectionGoneError).connectionId).toBe('c1');
    expect(calls).toBe(1);
  });

  it('retries throttling with growing back-off, then succeeds', async () => {
    let calls = 0;
    const endpoint = await serve((req, res) => {
      calls++;
      void drain(req).then(() => {
        if (calls < 3) {
          res.writeHead(429, { 'x-amzn-errortype': 'LimitExceededException' });
          res.end('{"message":"Rate exceeded"}');
        } else {
          res.writeHead(200);
          res.end();
        }
      });
    });
    const { send, sleeps } = post(endpoint);
    await send('c1', 'x');
    expect(calls).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((ms) => ms >= 0 && ms <= 400)).toBe(true);
  });

  it('gives up on throttling after maxAttempts with the status', async () => {
    let calls = 0;
    const endpoint = await serve((req, res) => {
      calls++;
      void drain(req).then(() => {
        res.writeHead(429, { 'x-amzn-errortype': 'LimitExceededException' });
        res.end('{"message":"Rate exceeded"}');
      });
    });
    const { send } = post(endpoint, 4);
    const error = await send('c1', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostToConnectionFailedError);
    expect((error as PostToConnectionFailedError).statusCode).toBe(429);
    expect((error as Error).message).toContain('LimitExceededException');
    expect(calls).toBe(4);
  });

  it('fails a 5xx at once, with its status, for the targeted retry', async () => {
    let calls = 0;
    const endpoint = await serve((req, res) => {
      calls++;
      void drain(req).then(() => {
        res.writeHead(500, { 'x-amzn-errortype': 'InternalServerErrorException' });
        res.end('{"message":"boom"}');
      });
    });
    const { send } = post(endpoint);
    const error = await send('c1', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostToConnectionFailedError);
    expect((error as PostToConnectionFailedError).statusCode).toBe(500);
    expect(calls).toBe(1);
  });

  it('retries a reset connection, and reports a dead endpoint without a status', async () => {
    let calls = 0;
    const endpoint = await serve((req, res) => {
      calls++;
      if (calls === 1) {
        req.socket.destroy();
        return;
      }
      void drain(req).then(() => {
        res.writeHead(200);
        res.end();
      });
    });
    const { send } = post(endpoint);
    await send('c1', 'x');
    expect(calls).toBe(2);

    const dead = await serve(() => {});
    await new Promise<void>((resolve) => {
      const server = servers.pop();
      server?.close(() => resolve());
    });
    const error = await post(dead)
      .send('c1', 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostToConnectionFailedError);
    expect((error as PostToConnectionFailedError).statusCode).toBeUndefined();
  });
});

describe('credentialsFromEnv', () => {
  it('reads Lambda credentials, or nothing when they are incomplete', () => {
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).toEqual({
      accessKeyId: 'a',
      secretAccessKey: 'b',
    });
    expect(
      credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 't' }),
    ).toEqual({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a' })).toBeUndefined();
    expect(credentialsFromEnv({})).toBeUndefined();
  });
});
