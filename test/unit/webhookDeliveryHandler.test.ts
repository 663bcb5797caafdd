import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendDeliveries } from '../../src/aws/webhookQueues.js';
import type { DeliveryMessage } from '../../src/core/webhookMessages.js';
import { startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';
import { deliveryMessageFactory, endpointFactory, envelopeFactory } from './webhookFactories.js';

const env = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AUDIT_TABLE: 'audit',
  QUARANTINE_TABLE: 'quarantine',
  WEBHOOK_ENDPOINTS_TABLE: 'endpoints',
  WEBHOOK_DELIVERY_QUEUE_URL: 'https://sqs.local/delivery',
  WEBHOOK_DLQ_URL: 'https://sqs.local/webhook-dlq',
  OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0,7,9',
};
Object.assign(process.env, env);

const sqs = mockClient(SQSClient);
const ddb = mockClient(DynamoDBDocumentClient);
let receiver: TestReceiver;

beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 500 }));
});
afterAll(async () => {
  await receiver.close();
  sqs.restore();
  ddb.restore();
});
beforeEach(() => {
  sqs.reset();
  ddb.reset();
  receiver.requests.length = 0;
});

function sqsEvent(message: DeliveryMessage, receiveCount: number) {
  return {
    Records: [
      {
        messageId: 'msg-1',
        receiptHandle: 'rh-1',
        body: JSON.stringify(message),
        attributes: { ApproximateReceiveCount: String(receiveCount) },
      },
    ],
  };
}

async function handler() {
  return (await import('../../lambdas/webhook-delivery/handler.js')).handler;
}

describe('webhook delivery handler failure paths', () => {
  it('reports the message failed when scheduling the retry (ChangeMessageVisibility) fails, so it still returns', async () => {
    const endpoint = endpointFactory({}, { url: receiver.url, maxAttempts: 3 });
    ddb.on(GetCommand).resolves({ Item: { pk: 'x', sk: 'y', ...endpoint } });
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { failureStreak: 1, failingSince: new Date().toISOString() } });
    ddb.on(PutCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error('throttled'));
    const result = await (await handler())(sqsEvent(deliveryMessageFactory(envelopeFactory(), endpoint), 1));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(receiver.requests).toHaveLength(1);
    const change = sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input;
    expect(change).toMatchObject({ QueueUrl: env.WEBHOOK_DELIVERY_QUEUE_URL, ReceiptHandle: 'rh-1' });
    // 7 s scheduled, ±20 % jitter.
    expect(change?.VisibilityTimeout).toBeGreaterThanOrEqual(6);
    expect(change?.VisibilityTimeout).toBeLessThanOrEqual(8);
  });

  it('keeps the message when the DLQ send fails after the last attempt, and parks it without re-sending next time', async () => {
    const endpoint = endpointFactory({}, { url: receiver.url, maxAttempts: 3 });
    ddb.on(GetCommand).resolves({ Item: { pk: 'x', sk: 'y', ...endpoint } });
    ddb.on(UpdateCommand).resolves({ Attributes: { failureStreak: 3 } });
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).rejectsOnce(new Error('DLQ unavailable')).resolves({ MessageId: 'dlq-1' });
    const message = deliveryMessageFactory(envelopeFactory(), endpoint);

    const first = await (await handler())(sqsEvent(message, 3));
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] });
    expect(receiver.requests).toHaveLength(1);

    // The fourth receive is beyond the limit: straight to the DLQ, no fourth request.
    const second = await (await handler())(sqsEvent(message, 4));
    expect(second).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
    const parked = JSON.parse(String(sqs.commandCalls(SendMessageCommand)[1]?.args[0].input.MessageBody));
    expect(parked.deadLetter).toMatchObject({ code: 'attempts_exhausted' });
  });

  it('parks a body that is not a delivery message in the DLQ with a reason', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-2' });
    const result = await (await handler())({
      Records: [
        {
          messageId: 'bad',
          receiptHandle: 'rh',
          body: 'garbage',
          attributes: { ApproximateReceiveCount: '1' },
        },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: env.WEBHOOK_DLQ_URL,
      MessageBody: 'garbage',
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'invalid_message' } },
    });
  });
});

describe('sending delivery messages', () => {
  it('returns exactly the entries SQS refused', async () => {
    const endpoint = endpointFactory();
    const messages = Array.from({ length: 12 }, () => deliveryMessageFactory(envelopeFactory(), endpoint));
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '3', Code: 'InternalError', SenderFault: false }] })
      .resolves({});
    const unsent = await sendDeliveries(new SQSClient({}), 'https://sqs.local/delivery', messages);
    expect(unsent).toEqual([messages[3]]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('returns a whole chunk when the batch call itself fails', async () => {
    const endpoint = endpointFactory();
    const messages = Array.from({ length: 3 }, () => deliveryMessageFactory(envelopeFactory(), endpoint));
    sqs.on(SendMessageBatchCommand).rejects(new Error('network'));
    const original = console.error;
    console.error = () => {};
    try {
      expect(await sendDeliveries(new SQSClient({}), 'https://sqs.local/delivery', messages)).toEqual(
        messages,
      );
    } finally {
      console.error = original;
    }
  });
});

describe('webhook dispatcher handler', () => {
  it('quarantines an invalid body in the quarantine table and sends deliveries for the valid one', async () => {
    const endpoint = endpointFactory();
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'x', sk: 'y', ...endpoint }] });
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({});
    const { handler: dispatch } = await import('../../lambdas/webhook-dispatcher/handler.js');
    const envelope = envelopeFactory();
    const result = await dispatch({
      Records: [
        {
          messageId: 'good',
          body: JSON.stringify({ 'detail-type': envelope.type, source: 'outbox-relay', detail: envelope }),
        },
        { messageId: 'poison', body: '{"detail":{}}', attributes: { SentTimestamp: '1763632800000' } },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    // (The other Puts are the tenant's event-type catalogue, in the endpoints table.)
    const put = ddb
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.TableName === 'quarantine');
    expect(put?.TableName).toBe('quarantine');
    expect(put?.Item).toMatchObject({
      reason: 'INVALID_EVENT',
      source: 'webhookDispatcher',
      recordId: 'poison',
    });
    const sent = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(sent.map((e) => JSON.parse(String(e.MessageBody)).endpointId)).toEqual([endpoint.id]);
  });
});
