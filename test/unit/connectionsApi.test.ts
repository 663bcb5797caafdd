/** The `@connections` port translates the SDK's answers into the core's typed errors, keeping the original as `cause`. */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnectionsApi } from '../../src/aws/connectionsApi.js';
import { ConnectionGoneError, PostToConnectionFailedError } from '../../src/core/websocketErrors.js';

const management = mockClient(ApiGatewayManagementApiClient);
const api = createConnectionsApi('https://abc.execute-api.us-east-1.amazonaws.com/live');

beforeEach(() => management.reset());
afterAll(() => management.restore());

function httpError(status: number, name = 'ServiceError'): Error {
  return Object.assign(new Error(`${name} ${status}`), { name, $metadata: { httpStatusCode: status } });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('connections API port', () => {
  it('posts the body as bytes to the connection', async () => {
    management.on(PostToConnectionCommand).resolves({});
    await api.post('conn-1', '{"type":"pong"}');
    const input = management.commandCalls(PostToConnectionCommand)[0]?.args[0].input;
    expect(input?.ConnectionId).toBe('conn-1');
    expect(new TextDecoder().decode(input?.Data as Uint8Array)).toBe('{"type":"pong"}');
  });

  it('turns GoneException into ConnectionGoneError for that connection, with the SDK error as cause', async () => {
    const gone = new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });
    management.on(PostToConnectionCommand).rejects(gone);
    const error = await caught(api.post('conn-gone', 'x'));
    expect(error).toBeInstanceOf(ConnectionGoneError);
    expect(error).toMatchObject({ connectionId: 'conn-gone' });
    expect((error as Error).cause).toBe(gone);
  });

  it('treats any 410 answer as gone, even without the typed exception', async () => {
    management.on(PostToConnectionCommand).rejects(httpError(410));
    expect(await caught(api.post('conn-2', 'x'))).toBeInstanceOf(ConnectionGoneError);
  });

  it('turns every other failure into PostToConnectionFailedError with the status and the cause', async () => {
    const throttled = httpError(429, 'LimitExceededException');
    management.on(PostToConnectionCommand).rejects(throttled);
    const error = await caught(api.post('conn-3', 'x'));
    expect(error).toBeInstanceOf(PostToConnectionFailedError);
    expect(error).toMatchObject({ connectionId: 'conn-3', statusCode: 429 });
    expect((error as Error).message).toContain('LimitExceededException');
    expect((error as Error).cause).toBe(throttled);
  });

  it('disconnect succeeds on a connection already gone, and fails on anything else', async () => {
    management.on(DeleteConnectionCommand).rejectsOnce(httpError(410)).rejectsOnce(httpError(500));
    await expect(api.disconnect('conn-4')).resolves.toBeUndefined();
    await expect(api.disconnect('conn-4')).rejects.toThrow('ServiceError 500');
  });
});
