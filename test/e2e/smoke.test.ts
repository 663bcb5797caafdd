// e2e-target: stack
/**
 * The post-deploy smoke test: against a deployed stack (`E2E_TARGET=stack STACK_NAME=<name>`,
 * endpoints from the stack's outputs) or, by default, the offline runtime. Events written to the
 * outbox each reach the audit log and a subscribed WebSocket client, and no dead-letter queue
 * gains a message. Counts what went in and what came out; never deletes anything it did not write.
 */

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_ENV } from '../../lib/config.js';
import type { Runtime } from '../../local/runtime.js';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import { getDocumentClient, getSqsClient } from '../../src/aws/clients.js';
import { EXTRA_OUTPUTS, outputNameForEnv } from '../../src/contract/outputNames.js';
import { topology } from '../../src/contract/topology.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { startTestRuntime, waitFor } from './helpers/index.js';
import { isStackTarget, openStackTarget } from './targets/index.js';
import { connectClient, type TestClient } from './websocketTestClient.js';

const EVENTS = 20;
const onStack = isStackTarget();
/** A deployed pipeline may take a cold start per function: generous, and never a pass condition. */
const DELIVERY_TIMEOUT_MS = onStack ? 180_000 : 90_000;

const DEAD_LETTER_QUEUES = [
  'publisherDlq',
  'auditDlq',
  'fanoutDlq',
  'webhookDispatchDlq',
  'busTargetDlq',
] as const;

interface Target {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly webSocketUrl: string;
  /** Mints a connection token, or undefined when the stack verifies tokens of an outside issuer (OIDC). */
  readonly token: (tenantId: string, subject: string) => Promise<string | undefined>;
}

let runtime: Runtime | undefined;
let target: Target;

async function hs256Secret(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (env.JWT_SECRET) return env.JWT_SECRET;
  const arn = env[CONFIG_ENV.jwtSecretArn];
  if (!arn) return undefined;
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
  const text = out.SecretString ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'secret' in parsed &&
      typeof parsed.secret === 'string'
    )
      return parsed.secret;
  } catch {
    // the secret string itself
  }
  return text;
}

async function openTarget(): Promise<Target> {
  let env: Readonly<Record<string, string | undefined>>;
  let webSocketUrl: string;
  if (onStack) {
    const stack = await openStackTarget();
    const secretArn = stack.outputs[outputNameForEnv(CONFIG_ENV.jwtSecretArn)];
    env = { ...process.env, ...stack.env, ...(secretArn ? { [CONFIG_ENV.jwtSecretArn]: secretArn } : {}) };
    webSocketUrl = stack.outputs[EXTRA_OUTPUTS.webSocketUrl] ?? '';
    if (!webSocketUrl)
      throw new Error(`Stack ${stack.stackName} has no ${EXTRA_OUTPUTS.webSocketUrl} output`);
  } else {
    runtime = await startTestRuntime();
    env = runtime.env;
    webSocketUrl = runtime.endpoints.webSocket;
  }
  const secret = await hs256Secret(env);
  const smokeToken = process.env.SMOKE_TOKEN;
  return {
    env,
    webSocketUrl,
    token: async (tenantId, subject) =>
      secret
        ? mintConnectionToken({ tenantId, subject, channels: ['smoke'] }, secretKey(secret))
        : smokeToken,
  };
}

async function deadLetterCounts(): Promise<Record<string, number>> {
  const sqs = getSqsClient();
  const counts: Record<string, number> = {};
  for (const name of DEAD_LETTER_QUEUES) {
    const url = target.env[topology.queues[name].env];
    if (!url) throw new Error(`The target has no ${name} (${topology.queues[name].env})`);
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    counts[name] =
      Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return counts;
}

describe(`smoke test (${onStack ? `deployed stack ${process.env.STACK_NAME}` : 'offline runtime'})`, () => {
  beforeAll(async () => {
    target = await openTarget();
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('brings every event to the audit log and a subscribed client, and no DLQ gains a message', async () => {
    const tenantId = `smoke-${ulid().toLowerCase()}`;
    const outboxTable = target.env[topology.tables.outbox.env];
    const auditTable = target.env[topology.tables.audit.env];
    if (!outboxTable || !auditTable) throw new Error('The target has no outbox or audit table');
    const before = await deadLetterCounts();

    const token = await target.token(tenantId, 'smoke-client');
    let client: TestClient | undefined;
    if (token) {
      client = await connectClient(target.webSocketUrl, token);
      client.send({ action: 'subscribe', channels: ['smoke'] });
      await client.waitFor((f) => f.type === 'subscribed', DELIVERY_TIMEOUT_MS);
    }

    const db = getDocumentClient();
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const event = newOutboxEvent({ tenantId, channel: 'smoke', type: 'smoke.tested', data: { i } });
      const { appended } = await appendToOutbox(db, event, { tableName: outboxTable });
      expect(appended).toBe(true);
      ids.push(event.eventId);
    }

    const audit = createAuditRepository({ client: db, tableName: auditTable });
    const audited = new Set<string>();
    await waitFor(
      async () => {
        for (const id of ids) if (!audited.has(id) && (await audit.getEvent(tenantId, id))) audited.add(id);
        return audited.size === EVENTS;
      },
      { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 500, description: `${EVENTS} audit records` },
    );
    expect(audited.size).toBe(EVENTS);

    if (client) {
      const received = () =>
        new Set(
          client
            ?.events()
            .map((e) => e.id)
            .filter((id) => ids.includes(id)),
        );
      await waitFor(() => received().size === EVENTS, {
        timeoutMs: DELIVERY_TIMEOUT_MS,
        description: `${EVENTS} events on the WebSocket`,
      });
      expect(received().size).toBe(EVENTS);
      // Nothing of another tenant, or of another test run, reaches this client.
      expect(client.events().every((e) => e.tenantId === tenantId)).toBe(true);
      await client.close();
    }

    const after = await deadLetterCounts();
    expect(after).toEqual(before);
  });
});
