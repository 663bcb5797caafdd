/** Lifecycle events: opt-in, one outbox row per connect and disconnect, and never a failed route. */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { publishConnectionEvent } from '../../src/aws/connectionEvents.js';
import { CONNECTION_EVENTS_CHANNEL, connectionEvent } from '../../src/core/connectionEvents.js';
import { outboxRowInputSchema } from '../../src/core/outboxRow.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const identity = { tenantId: 'acme', subject: 'agent-7' };
const env = { CONNECTION_EVENTS: 'true', OUTBOX_TABLE: 'outbox', AWS_REGION: 'us-east-1' };

describe('connection events', () => {
  beforeEach(() => dynamo.reset());

  it('are valid outbox rows on the tenant’s connections channel, with an id derived from the connection', () => {
    const row = connectionEvent(
      'connection.opened',
      identity,
      'L0SM9cOFvHcCIhw=',
      new Date('2026-11-30T00:00:00Z'),
    );
    expect(outboxRowInputSchema.parse(row)).toMatchObject({
      eventId: 'connection.opened.L0SM9cOFvHcCIhw=',
      tenantId: 'acme',
      channel: CONNECTION_EVENTS_CHANNEL,
      type: 'connection.opened',
      resourceId: 'agent-7',
      data: { subject: 'agent-7', connectionId: 'L0SM9cOFvHcCIhw=' },
    });
  });

  it('publish nothing unless turned on', async () => {
    const logger = { warn: vi.fn() };
    await publishConnectionEvent('connection.opened', identity, 'c1', logger, { OUTBOX_TABLE: 'outbox' });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('write one outbox row when on, and never throw when the write fails', async () => {
    dynamo.on(PutCommand).resolves({});
    const logger = { warn: vi.fn() };
    await publishConnectionEvent('connection.closed', identity, 'c1', logger, env);
    const put = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe('outbox');
    expect(put?.Item).toMatchObject({ eventId: 'connection.closed.c1', type: 'connection.closed' });

    dynamo.reset();
    dynamo.on(PutCommand).rejects(new Error('throttled'));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await expect(
      publishConnectionEvent('connection.opened', identity, 'c2', logger, env),
    ).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(
      'could not publish a connection event',
      expect.objectContaining({ type: 'connection.opened' }),
    );
    await expect(
      publishConnectionEvent('connection.opened', identity, 'c3', logger, {
        ...env,
        CONNECTION_EVENTS: 'maybe',
      }),
    ).resolves.toBeUndefined();
  });
});
