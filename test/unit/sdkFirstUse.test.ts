/**
 * A function loads only the SDK packages its invocation uses: the authorizer verifying a token
 * signed with `JWT_SECRET` loads none, and reading the secret from Secrets Manager loads that
 * client and nothing else; the fan-out loads SQS only when it splits a wide fan-out into chunks.
 * Every `@aws-sdk/*` package deployed code can import is replaced by a module whose factory
 * records that it was loaded; the fan-out's table and `@connections` ports are fakes.
 */
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JWT_ENV, mintConnectionToken, secretKey } from '../../src/core/token.js';
import { busEventBody, envelopeFactory, sqsRecordFactory } from '../helpers/envelopes.js';

const loaded = vi.hoisted(() => new Set<string>());
const fake = vi.hoisted(() => ({
  subscribers: [] as string[],
  posts: [] as string[],
  sqsSent: [] as { QueueUrl: string; MessageBody: string }[],
}));
const SECRET = 'first-use-secret-first-use-secret';

vi.mock('@aws-sdk/client-secrets-manager', () => {
  loaded.add('@aws-sdk/client-secrets-manager');
  class GetSecretValueCommand {
    constructor(readonly input: { SecretId: string; VersionStage?: string }) {}
  }
  class SecretsManagerClient {
    async send(command: GetSecretValueCommand): Promise<{ SecretString: string }> {
      if (command.input.VersionStage === 'AWSPREVIOUS')
        throw Object.assign(new Error('no previous version'), { name: 'ResourceNotFoundException' });
      return { SecretString: SECRET };
    }
  }
  return { GetSecretValueCommand, SecretsManagerClient };
});
vi.mock('@aws-sdk/client-dynamodb', () => {
  loaded.add('@aws-sdk/client-dynamodb');
  return {};
});
vi.mock('@aws-sdk/lib-dynamodb', () => {
  loaded.add('@aws-sdk/lib-dynamodb');
  return {};
});
vi.mock('@aws-sdk/util-dynamodb', () => {
  loaded.add('@aws-sdk/util-dynamodb');
  return {};
});
vi.mock('@aws-sdk/client-sqs', () => {
  loaded.add('@aws-sdk/client-sqs');
  class SendMessageCommand {
    constructor(readonly input: { QueueUrl: string; MessageBody: string }) {}
  }
  class SQSClient {
    async send(command: SendMessageCommand): Promise<object> {
      fake.sqsSent.push(command.input);
      return {};
    }
  }
  return { SendMessageCommand, SQSClient };
});
vi.mock('@aws-sdk/client-eventbridge', () => {
  loaded.add('@aws-sdk/client-eventbridge');
  return {};
});
vi.mock('@aws-sdk/client-apigatewaymanagementapi', () => {
  loaded.add('@aws-sdk/client-apigatewaymanagementapi');
  return {};
});

vi.mock('../../src/aws/auditRepository.js', () => ({
  getAuditRepository: () => ({
    recordEvent: async () => ({ recorded: true }),
    recordedAmong: async () => [],
    recordAttempts: async () => {},
    recordSubjects: async () => ({ skipped: 0 }),
  }),
}));
vi.mock('../../src/aws/connectionsRepository.js', () => ({
  getConnectionsRepository: () => ({
    findSubscribers: async () => fake.subscribers,
    subjectsOf: async (ids: string[]) => new Map(ids.map((id) => [id, { tenantId: 't1', subject: id }])),
  }),
}));
vi.mock('../../src/aws/connectionsApi.js', () => ({
  getConnectionsApi: () => ({
    post: async (connectionId: string) => {
      fake.posts.push(connectionId);
    },
    disconnect: async () => {},
  }),
}));

const saved = { ...process.env };
afterAll(() => {
  vi.unstubAllEnvs();
  process.env = { ...saved };
});

function authorizerEvent(token: string) {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/live/$connect',
    queryStringParameters: { token },
    headers: {},
    requestContext: { connectionId: 'c-1' },
  };
}

describe('the authorizer loads no SDK package on the JWT path', () => {
  beforeEach(() => {
    for (const name of Object.values(JWT_ENV)) delete process.env[name];
  });

  it('verifies a JWT_SECRET token without loading any @aws-sdk package, then loads only Secrets Manager for JWT_SECRET_ARN', async () => {
    process.env[JWT_ENV.secret] = SECRET;
    const { handler } = await import('../../lambdas/ws-authorizer/handler.js');
    expect([...loaded]).toEqual([]);

    const token = await mintConnectionToken({ tenantId: 't1', subject: 'alice' }, secretKey(SECRET));
    const allowed = await handler(authorizerEvent(token));
    expect(allowed.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect([...loaded]).toEqual([]);

    // The default stack's mode: the secret lives in Secrets Manager.
    delete process.env[JWT_ENV.secret];
    process.env[JWT_ENV.secretArn] = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt';
    const again = await handler(authorizerEvent(token));
    expect(again.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect([...loaded]).toEqual(['@aws-sdk/client-secrets-manager']);
  });
});

describe('the fan-out loads SQS only to split a wide fan-out', () => {
  it('posts to a few subscribers without loading SQS, and loads it to enqueue the chunks of a wide one', async () => {
    vi.stubEnv('FANOUT_QUEUE_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/fanout');
    vi.stubEnv('FANOUT_DLQ_URL', 'https://sqs.us-east-1.amazonaws.com/123456789012/fanout-dlq');
    vi.stubEnv('FANOUT_CHUNK_THRESHOLD', '3');
    const { handler } = await import('../../lambdas/fanout/handler.js');
    const event = () => ({ Records: [sqsRecordFactory(busEventBody(envelopeFactory()), 'm1')] });

    fake.subscribers = ['c1', 'c2', 'c3'];
    expect(await handler(event())).toEqual({ batchItemFailures: [] });
    expect(fake.posts.sort()).toEqual(['c1', 'c2', 'c3']);
    expect(loaded.has('@aws-sdk/client-sqs')).toBe(false);

    fake.subscribers = ['c1', 'c2', 'c3', 'c4'];
    expect(await handler(event())).toEqual({ batchItemFailures: [] });
    expect(loaded.has('@aws-sdk/client-sqs')).toBe(true);
    expect(fake.sqsSent.length).toBeGreaterThan(0);
    expect(fake.sqsSent.every((sent) => sent.QueueUrl.endsWith('/fanout'))).toBe(true);
  });
});
