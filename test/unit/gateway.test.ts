import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebSocketGateway, type WebSocketGateway } from '../../local/gateway/index.js';

interface Invocation {
  fn: string;
  event: Record<string, unknown>;
}

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function record(event: unknown): Record<string, unknown> {
  return typeof event === 'object' && event !== null ? Object.fromEntries(Object.entries(event)) : {};
}

const gateways: WebSocketGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
});

async function setup(limits?: Parameters<typeof startWebSocketGateway>[0]['limits']) {
  const invocations: Invocation[] = [];
  const gateway = await startWebSocketGateway({
    limits,
    invoke: async (fn, event) => {
      invocations.push({ fn, event: record(event) });
      if (fn === 'wsAuthorizer') {
        const query = record(record(event).queryStringParameters);
        if (query.token === 'good') {
          return {
            principalId: 'p',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
            },
            context: { tenantId: 't1', sub: 's', channels: '' },
          };
        }
        if (query.token === 'deny') {
          return {
            principalId: 'p',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }],
            },
          };
        }
        throw new Error('Unauthorized');
      }
      return { statusCode: 200 };
    },
  });
  gateways.push(gateway);
  const client = new ApiGatewayManagementApiClient({
    endpoint: gateway.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts: 1,
  });
  return { gateway, invocations, client };
}

function connect(url: string): Promise<{ ws: WebSocket; received: string[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received: string[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (data) => received.push(data.toString()));
    ws.on('open', () => resolve({ ws, received, closed }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('local WebSocket gateway', () => {
  it('refuses a connection with 401 when the authorizer says Unauthorized, 403 on Deny, without $connect', async () => {
    const { gateway, invocations } = await setup();
    await expect(connect(`${gateway.url}?token=bad`)).rejects.toThrow('HTTP 401');
    await expect(connect(`${gateway.url}?token=deny`)).rejects.toThrow('HTTP 403');
    await expect(connect(gateway.url)).rejects.toThrow('HTTP 401');
    expect(invocations.filter((i) => i.fn === 'wsConnect')).toHaveLength(0);
    expect(gateway.connectionIds()).toHaveLength(0);
  });

  it('invokes handlers with API Gateway event shapes and routes by action', async () => {
    const { gateway, invocations } = await setup();
    const { ws } = await connect(`${gateway.url}?token=good`);
    const auth = invocations.find((i) => i.fn === 'wsAuthorizer');
    expect(auth?.event).toMatchObject({ type: 'REQUEST', queryStringParameters: { token: 'good' } });
    expect(String(auth?.event.methodArn)).toMatch(/^arn:aws:execute-api:[^:]+:\d+:[^/]+\/live\/\$connect$/);
    const connectEvent = invocations.find((i) => i.fn === 'wsConnect')?.event;
    expect(connectEvent?.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      stage: 'live',
      authorizer: { tenantId: 't1', sub: 's', principalId: 'p' },
      identity: { sourceIp: '127.0.0.1' },
    });
    ws.send('{"action":"ping"}');
    ws.send('{"action":"nope"}');
    ws.send('garbage');
    const messages = await until(() => {
      const m = invocations.filter((i) => i.fn === 'wsMessage');
      return m.length === 3 ? m : undefined;
    });
    expect(messages.map((m) => record(m.event.requestContext).routeKey)).toEqual([
      'ping',
      '$default',
      '$default',
    ]);
    expect(messages[0]?.event).toMatchObject({
      body: '{"action":"ping"}',
      requestContext: { eventType: 'MESSAGE', authorizer: { tenantId: 't1' } },
    });
    ws.close();
    const disconnect = await until(() => invocations.find((i) => i.fn === 'wsDisconnect'));
    expect(disconnect.event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
    });
  });

  it('serves @connections to the unmodified SDK client: POST, GET, DELETE, 410 for unknown ids', async () => {
    const { gateway, client } = await setup();
    const { ws, received, closed } = await connect(`${gateway.url}?token=good`);
    const [id] = gateway.connectionIds();
    if (!id) throw new Error('no connection');
    expect(id).toMatch(/=$/); // exercises URL encoding like real ids
    await client.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: new TextEncoder().encode('{"type":"pong"}') }),
    );
    await until(() => received.length === 1);
    expect(received[0]).toBe('{"type":"pong"}');
    const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: 'unknown=', Data: new Uint8Array([1]) })),
    ).rejects.toBeInstanceOf(GoneException);
    await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(gateway.stats()).toMatchObject({ messages: 1, bytes: 15, units: 1, gone: 1 });
  });

  it('closes with 1009 when a client sends more than 128 KB', async () => {
    const { gateway } = await setup();
    const { ws, closed } = await connect(`${gateway.url}?token=good`);
    ws.send('x'.repeat(128 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  it('drops a connection without $disconnect; @connections then answers 410', async () => {
    const { gateway, invocations, client } = await setup();
    const { closed } = await connect(`${gateway.url}?token=good`);
    const [id] = gateway.connectionIds();
    if (!id) throw new Error('no connection');
    expect(gateway.dropConnection(id)).toBe(true);
    await closed;
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([1]) })),
    ).rejects.toBeInstanceOf(GoneException);
    expect(invocations.filter((i) => i.fn === 'wsDisconnect')).toHaveLength(0);
  });

  it('answers 500 or 410 for connections chosen by the fault hook', async () => {
    const { gateway, client } = await setup();
    await connect(`${gateway.url}?token=good`);
    const [id] = gateway.connectionIds();
    if (!id) throw new Error('no connection');
    gateway.setFaults({
      active: true,
      connectionFault: (c) => (c === id ? { statusCode: 500, closeConnection: false } : undefined),
    });
    const failure = await client
      .send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([1]) }))
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ $metadata: { httpStatusCode: 500 } });
    gateway.setFaults({ active: true, connectionFault: () => ({ statusCode: 410, closeConnection: true }) });
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([1]) })),
    ).rejects.toBeInstanceOf(GoneException);
    await until(() => gateway.connectionIds().length === 0);
  });

  it('sends close before the connection limit and on stop, then closes', async () => {
    const { gateway } = await setup({ maxConnectionMs: 400, closeNoticeMs: 200 });
    const first = await connect(`${gateway.url}?token=good`);
    await until(() => first.received.some((m) => JSON.parse(m).type === 'close'));
    expect(await first.closed).toBe(1001);

    const { gateway: other } = await setup();
    const second = await connect(`${other.url}?token=good`);
    await other.stop();
    expect(await second.closed).toBe(1001);
    expect(second.received.map((m) => JSON.parse(m))).toContainEqual({
      type: 'close',
      reason: 'shutdown',
      reconnectAfterMs: 1000,
    });
  });

  it('closes an idle connection after the idle timeout', async () => {
    const { gateway } = await setup({ idleTimeoutMs: 200 });
    const { closed } = await connect(`${gateway.url}?token=good`);
    expect(await closed).toBe(1001);
  });
});
