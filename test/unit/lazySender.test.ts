/**
 * The lazy SDK senders: nothing is imported before the first send, one load serves concurrent
 * first sends, every command shim becomes the real SDK command of its name (so mocks asserting on
 * the real classes keep working), a failed load is a clear error and is tried again, and the
 * shared clients keep the options `src/aws/clients.ts` gives them.
 */
import * as managementModule from '@aws-sdk/client-apigatewaymanagementapi';
import * as dynamoModule from '@aws-sdk/client-dynamodb';
import * as eventBridgeModule from '@aws-sdk/client-eventbridge';
import * as secretsModule from '@aws-sdk/client-secrets-manager';
import * as sqsModule from '@aws-sdk/client-sqs';
import * as documentModule from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAwsError } from '../../src/aws/sdk/awsErrors.js';
import {
  documentSender,
  dynamoCommands,
  GetCommand,
  getDocumentSender,
  PutCommand,
} from '../../src/aws/sdk/dynamo.js';
import { eventBridgeCommands, getEventBridgeSender } from '../../src/aws/sdk/eventBridge.js';
import { getManagementSender, managementCommands } from '../../src/aws/sdk/managementApi.js';
import { getSecretsSender, secretsCommands } from '../../src/aws/sdk/secretsManager.js';
import {
  type CommandShim,
  lazySender,
  type SdkClient,
  SdkLoadError,
  type ServiceLoader,
  UnknownCommandError,
} from '../../src/aws/sdk/sender.js';
import { getSqsSender, SendMessageCommand, sqsCommands, sqsSender } from '../../src/aws/sdk/sqs.js';

/** A fake package: one command class, and a client that records what it was sent. */
class FakeCommand {
  constructor(readonly input: unknown) {}
}
const fakeModule = { FakeCommand };
const FakeShim = class {
  readonly commandName = 'FakeCommand';
  constructor(readonly input: unknown) {}
};

function fakeService(load: () => Promise<typeof fakeModule>): ServiceLoader<typeof fakeModule> {
  return { packages: '@aws-sdk/client-fake', load, commands: (module) => module };
}

function recordingClient(): SdkClient & { sent: object[] } {
  const sent: object[] = [];
  return {
    sent,
    async send(command) {
      sent.push(command);
      return { ok: true };
    },
  };
}

describe('lazy sender', () => {
  it('loads nothing and creates no client until the first send', async () => {
    const load = vi.fn(async () => fakeModule);
    const client = recordingClient();
    const create = vi.fn(() => client);
    const sender = lazySender<typeof fakeModule, CommandShim>(fakeService(load), create);
    expect(load).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();

    await expect(sender.send(new FakeShim({ a: 1 }))).resolves.toEqual({ ok: true });
    expect(load).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledTimes(1);
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0]).toBeInstanceOf(FakeCommand);
    expect(client.sent[0]).toMatchObject({ input: { a: 1 } });
  });

  it('loads once and creates one client under concurrent first sends', async () => {
    let release: (module: typeof fakeModule) => void = () => undefined;
    const load = vi.fn(() => new Promise<typeof fakeModule>((resolve) => (release = resolve)));
    const client = recordingClient();
    const create = vi.fn(() => client);
    const sender = lazySender<typeof fakeModule, CommandShim>(fakeService(load), create);

    const sends = Array.from({ length: 20 }, (_, i) => sender.send(new FakeShim({ i })));
    release(fakeModule);
    await Promise.all(sends);
    await sender.send(new FakeShim({ i: 20 }));
    expect(load).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledTimes(1);
    expect(client.sent.map((command) => (command as FakeCommand).input)).toEqual(
      Array.from({ length: 21 }, (_, i) => ({ i })),
    );
  });

  it('rejects the sends of a failed load with a clear error, and loads again on the next send', async () => {
    const missing = Object.assign(new Error("Cannot find package '@aws-sdk/client-fake'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const load = vi.fn<() => Promise<typeof fakeModule>>().mockRejectedValueOnce(missing);
    load.mockResolvedValue(fakeModule);
    const client = recordingClient();
    const sender = lazySender<typeof fakeModule, CommandShim>(fakeService(load), () => client);

    const [first, second] = await Promise.allSettled([
      sender.send(new FakeShim(1)),
      sender.send(new FakeShim(2)),
    ]);
    for (const result of [first, second]) {
      expect(result?.status).toBe('rejected');
      const reason = result?.status === 'rejected' ? result.reason : undefined;
      expect(reason).toBeInstanceOf(SdkLoadError);
      expect((reason as SdkLoadError).message).toContain('Could not load @aws-sdk/client-fake');
      expect((reason as SdkLoadError).cause).toBe(missing);
    }
    expect(load).toHaveBeenCalledTimes(1);
    expect(client.sent).toEqual([]);

    await expect(sender.send(new FakeShim(3))).resolves.toEqual({ ok: true });
    expect(load).toHaveBeenCalledTimes(2);
    expect(client.sent).toHaveLength(1);
  });

  it('does not cache a failed client creation either', async () => {
    const load = vi.fn(async () => fakeModule);
    const client = recordingClient();
    const invalid = new Error('invalid client configuration');
    const create = vi.fn<() => SdkClient>().mockImplementationOnce(() => {
      throw invalid;
    });
    create.mockReturnValue(client);
    const sender = lazySender<typeof fakeModule, CommandShim>(fakeService(load), create);
    await expect(sender.send(new FakeShim(1))).rejects.toBe(invalid);
    await expect(sender.send(new FakeShim(2))).resolves.toEqual({ ok: true });
    expect(create).toHaveBeenCalledTimes(2);
    expect(client.sent).toHaveLength(1);
  });

  it('refuses a shim whose name the package does not export', async () => {
    const sender = lazySender<typeof fakeModule, CommandShim>(
      fakeService(async () => fakeModule),
      recordingClient,
    );
    const Stray = class {
      readonly commandName = 'NoSuchCommand';
      constructor(readonly input: unknown) {}
    };
    await expect(sender.send(new Stray({}))).rejects.toBeInstanceOf(UnknownCommandError);
  });
});

/** What the shim test needs of an aws-sdk-client-mock stub (one type for every service). */
interface ClientMock {
  reset(): void;
  restore(): void;
  onAnyCommand(): { resolves(response: object): unknown };
  calls(): { args: unknown[] }[];
}

interface ServiceCase {
  readonly name: string;
  /** Shim classes by the name of the real command class. */
  readonly table: object;
  /** The SDK namespace exporting the real command classes. */
  readonly real: object;
  readonly mock: () => ClientMock;
  readonly sender: () => { send(command: never): Promise<unknown> };
}

const SERVICES: ServiceCase[] = [
  {
    name: 'dynamodb (document client)',
    table: dynamoCommands,
    real: documentModule,
    mock: () => mockClient(documentModule.DynamoDBDocumentClient),
    sender: getDocumentSender,
  },
  {
    name: 'sqs',
    table: sqsCommands,
    real: sqsModule,
    mock: () => mockClient(sqsModule.SQSClient),
    sender: getSqsSender,
  },
  {
    name: 'eventbridge',
    table: eventBridgeCommands,
    real: eventBridgeModule,
    mock: () => mockClient(eventBridgeModule.EventBridgeClient),
    sender: getEventBridgeSender,
  },
  {
    name: 'apigatewaymanagementapi',
    table: managementCommands,
    real: managementModule,
    mock: () => mockClient(managementModule.ApiGatewayManagementApiClient),
    sender: () => getManagementSender('https://abc.execute-api.us-east-1.amazonaws.com/live'),
  },
  {
    name: 'secrets manager',
    table: secretsCommands,
    real: secretsModule,
    mock: () => mockClient(secretsModule.SecretsManagerClient),
    sender: getSecretsSender,
  },
];

describe('command shims', () => {
  const restores: (() => void)[] = [];
  afterEach(() => {
    for (const restore of restores.splice(0)) restore();
  });

  it.each(SERVICES)(
    '$name: every shim is sent as the real command of its name, with its input',
    async (service) => {
      const mock = service.mock();
      restores.push(() => mock.restore());
      const sender = service.sender();
      const entries = Object.entries(service.table) as [string, new (input: unknown) => CommandShim][];
      expect(entries.length).toBeGreaterThan(0);
      for (const [name, Shim] of entries) {
        const Real: unknown = Reflect.get(service.real, name);
        expect(typeof Real, `${name} in the SDK package`).toBe('function');
        expect(new Shim({}).commandName).toBe(name);
        mock.reset();
        mock.onAnyCommand().resolves({});
        const input = { marker: name };
        await sender.send(new Shim(input) as never);
        expect(mock.calls(), name).toHaveLength(1);
        const sent = mock.calls()[0]?.args[0];
        expect(sent, name).toBeInstanceOf(Real as new (...args: never[]) => unknown);
        expect((sent as { input: unknown }).input, name).toEqual(input);
      }
    },
  );
});

describe('shared clients keep the options of src/aws/clients.ts', () => {
  it('the document client removes undefined values; SQS posts to the configured endpoint', async () => {
    const documents = mockClient(documentModule.DynamoDBDocumentClient);
    const queues = mockClient(sqsModule.SQSClient);
    try {
      documents.onAnyCommand().resolves({});
      queues.onAnyCommand().resolves({});
      await getDocumentSender().send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
      await getSqsSender().send(
        new SendMessageCommand({ QueueUrl: 'http://127.0.0.1:9/q', MessageBody: 'x' }),
      );
      const documentClient = documents.call(0).thisValue as documentModule.DynamoDBDocumentClient;
      expect(documentClient.config.translateConfig?.marshallOptions?.removeUndefinedValues).toBe(true);
      const sqsClient = queues.call(0).thisValue as sqsModule.SQSClient;
      expect(sqsClient.config.useQueueUrlAsEndpoint).toBe(false);
    } finally {
      documents.restore();
      queues.restore();
    }
  });

  it('one management client per endpoint', async () => {
    const management = mockClient(managementModule.ApiGatewayManagementApiClient);
    try {
      management.onAnyCommand().resolves({});
      const endpoints = ['https://a.example/live', 'https://b.example/live'];
      for (const endpoint of [...endpoints, ...endpoints])
        await getManagementSender(endpoint).send(
          new managementCommands.DeleteConnectionCommand({ ConnectionId: 'c' }),
        );
      const clients = management.calls().map((call) => call.thisValue);
      expect(new Set(clients).size).toBe(2);
      const hosts = await Promise.all(
        clients.slice(0, 2).map(async (client) => {
          const endpoint = await (
            client as managementModule.ApiGatewayManagementApiClient
          ).config.endpoint?.();
          return endpoint?.hostname;
        }),
      );
      expect(hosts).toEqual(['a.example', 'b.example']);
    } finally {
      management.restore();
    }
  });
});

describe('existing clients', () => {
  it('are wrapped once, and a sender passes through', () => {
    const client = documentModule.DynamoDBDocumentClient.from(
      new dynamoModule.DynamoDBClient({ region: 'us-east-1' }),
    );
    const sender = documentSender(client);
    expect(documentSender(client)).toBe(sender);
    expect(documentSender(sender)).toBe(sender);
    const queue = new sqsModule.SQSClient({ region: 'us-east-1' });
    expect(sqsSender(sqsSender(queue))).toBe(sqsSender(queue));
  });

  it('a mocked client receives the real command instance', async () => {
    const client = documentModule.DynamoDBDocumentClient.from(
      new dynamoModule.DynamoDBClient({ region: 'us-east-1' }),
    );
    const mock = mockClient(client);
    try {
      mock.on(documentModule.PutCommand).resolves({});
      await documentSender(client).send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }));
      expect(mock.commandCalls(documentModule.PutCommand)[0]?.args[0].input).toEqual({
        TableName: 't',
        Item: { pk: 'a' },
      });
    } finally {
      mock.restore();
    }
  });
});

describe('isAwsError', () => {
  it('tells service errors apart by name, keeping their fields', () => {
    const cancelled = new dynamoModule.TransactionCanceledException({
      message: 'cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
    });
    expect(isAwsError(cancelled, 'TransactionCanceledException')).toBe(true);
    if (isAwsError(cancelled, 'TransactionCanceledException'))
      expect(cancelled.CancellationReasons?.[0]?.Code).toBe('ConditionalCheckFailed');
    expect(isAwsError(cancelled, 'ConditionalCheckFailedException')).toBe(false);
    // The same error from another copy of the package, or rebuilt by a mock: the name is what counts.
    const lookalike = Object.assign(new Error('gone'), { name: 'GoneException' });
    expect(isAwsError(lookalike, 'GoneException')).toBe(true);
    expect(isAwsError({ name: 'GoneException' }, 'GoneException')).toBe(false);
    expect(isAwsError(undefined, 'GoneException')).toBe(false);
  });
});
