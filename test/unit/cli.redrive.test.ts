import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedRedrive, type DlqPort, type ReceivedDlqMessage } from '../../src/cli/ops/boundedRedrive.js';
import { queueRedriveDecider, webhookRedriveDecider } from '../../src/cli/ops/redriveDeciders.js';
import type { DeadLetterReasonCode, DeliveryMessage } from '../../src/core/webhookMessages.js';
import { envelopeFactory } from './publisherFactories.js';

/** An SQS queue in memory: receive hides, release shows again, delete removes; ids are fresh per send. */
function memoryQueue() {
  let next = 0;
  const messages: { id: string; body: string; hidden: boolean; attributes: Record<string, string> }[] = [];
  const port: DlqPort = {
    depth: async () => messages.length,
    receive: async () =>
      messages
        .filter((m) => !m.hidden)
        .slice(0, 10)
        .map((m) => {
          m.hidden = true;
          return { messageId: m.id, receiptHandle: m.id, body: m.body, attributes: m.attributes };
        }),
    delete: async (handles) => {
      for (const handle of handles) messages.splice(messages.findIndex((m) => m.id === handle) >>> 0, 1);
    },
    release: async (handles) => {
      for (const m of messages) if (handles.includes(m.id)) m.hidden = false;
    },
  };
  return {
    port,
    messages,
    send(body: string, attributes: Record<string, string> = {}): string {
      next += 1;
      const id = `msg-${next}`;
      messages.push({ id, body, hidden: false, attributes });
      return id;
    },
  };
}

const envelope = (id: string) => envelopeFactory({ id, tenantId: 'acme' });

function deadLetter(eventId: string, endpointId: string, code: DeadLetterReasonCode): string {
  return JSON.stringify({
    eventId,
    endpointId,
    tenantId: 'acme',
    attempt: 1,
    envelope: envelope(eventId),
    deadLetter: { code, reason: code, attempts: 1, at: '2026-11-30T10:00:01.000Z' },
  });
}

const ENDPOINTS: Record<string, { enabled: boolean; disabledReason?: string }> = {
  'ep-disabled': { enabled: false, disabledReason: 'failing for 3 days' },
  'ep-flaky': { enabled: true },
};

describe('webhook DLQ redrive', () => {
  it('terminates, moves nothing it cannot deliver, and reports a disabled, a removed and an unknown endpoint', async () => {
    const dlq = memoryQueue();
    const disabled = dlq.send(deadLetter('ev-1', 'ep-disabled', 'endpoint_disabled'));
    const removed = dlq.send(deadLetter('ev-2', 'ep-removed', 'endpoint_removed'));
    const unknown = dlq.send(deadLetter('ev-3', 'ep-unknown', 'attempts_exhausted'));
    dlq.send(deadLetter('ev-4', 'ep-flaky', 'attempts_exhausted'));
    const sent: DeliveryMessage[] = [];
    const progress: string[] = [];
    const report = await boundedRedrive(dlq.port, {
      dryRun: false,
      decide: webhookRedriveDecider({
        findEndpoint: async (_tenant, id) => ENDPOINTS[id],
        // The receiver still fails: the delivery parks the message again at once, under a new id.
        sendDelivery: async (message) => {
          sent.push(message);
          dlq.send(deadLetter(message.eventId, message.endpointId, 'attempts_exhausted'));
        },
      }),
      onProgress: (n, depth) => progress.push(`${n} of ${depth}`),
    });

    expect(sent.map((m) => [m.eventId, m.attempt])).toEqual([['ev-4', 1]]);
    expect(report).toMatchObject({ depth: 4, handled: 4, redriven: 1, skipped: 3, failed: 0 });
    const reasons = Object.fromEntries(report.entries.map((e) => [e.messageId, e.detail]));
    expect(reasons[disabled]).toMatch(/ep-disabled is disabled \(failing for 3 days\)/);
    expect(reasons[removed]).toMatch(/ep-removed was removed/);
    expect(reasons[unknown]).toMatch(/ep-unknown is unknown/);
    expect(progress).toEqual(['1 of 4', '2 of 4', '3 of 4', '4 of 4']);
    // The three undeliverable messages stay in the DLQ, visible again; plus the re-parked ev-4.
    expect(dlq.messages.map((m) => m.id)).toEqual(expect.arrayContaining([disabled, removed, unknown]));
    expect(dlq.messages).toHaveLength(4);
    expect(dlq.messages.every((m) => !m.hidden)).toBe(true);
  });

  it('stops at the depth it started with although failures keep arriving (each message once per run)', async () => {
    const dlq = memoryQueue();
    for (let i = 0; i < 25; i += 1) dlq.send(deadLetter(`ev-${i}`, 'ep-flaky', 'attempts_exhausted'));
    let sends = 0;
    const report = await boundedRedrive(dlq.port, {
      dryRun: false,
      decide: webhookRedriveDecider({
        findEndpoint: async (_tenant, id) => ENDPOINTS[id],
        sendDelivery: async (message) => {
          sends += 1;
          dlq.send(deadLetter(message.eventId, message.endpointId, 'attempts_exhausted'));
        },
      }),
    });
    expect(sends).toBe(25);
    expect(report.handled).toBe(25);
    expect(report.stoppedBecause).toBe('depth reached');
  });

  it('never handles a message twice, whatever the queue holds and however often deliveries fail again', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('ep-disabled', 'ep-flaky', 'ep-gone', 'garbage'), { maxLength: 40 }),
        fc.boolean(),
        async (targets, dryRun) => {
          const dlq = memoryQueue();
          for (const [i, target] of targets.entries()) {
            dlq.send(
              target === 'garbage'
                ? '{"not":"a delivery"}'
                : deadLetter(`ev-${i}`, target, 'attempts_exhausted'),
            );
          }
          const handledIds: string[] = [];
          let sends = 0;
          const report = await boundedRedrive(dlq.port, {
            dryRun,
            decide: (message: ReceivedDlqMessage) => {
              handledIds.push(message.messageId);
              return webhookRedriveDecider({
                findEndpoint: async (_tenant, id) => ENDPOINTS[id],
                sendDelivery: async (m) => {
                  sends += 1;
                  dlq.send(deadLetter(m.eventId, m.endpointId, 'attempts_exhausted'));
                },
              })(message);
            },
          });
          expect(new Set(handledIds).size).toBe(handledIds.length);
          expect(report.handled).toBeLessThanOrEqual(targets.length);
          const flaky = targets.filter((t) => t === 'ep-flaky').length;
          expect(sends).toBe(dryRun ? 0 : flaky);
          expect(report.redriven).toBe(flaky);
          if (dryRun) expect(dlq.messages).toHaveLength(targets.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('moves nothing and deletes nothing on --dry-run, and says what it would do', async () => {
    const dlq = memoryQueue();
    dlq.send(deadLetter('ev-1', 'ep-flaky', 'attempts_exhausted'));
    dlq.send(deadLetter('ev-2', 'ep-disabled', 'endpoint_disabled'));
    let sends = 0;
    const report = await boundedRedrive(dlq.port, {
      dryRun: true,
      decide: webhookRedriveDecider({
        findEndpoint: async (_tenant, id) => ENDPOINTS[id],
        sendDelivery: async () => {
          sends += 1;
        },
      }),
    });
    expect(sends).toBe(0);
    expect(dlq.messages).toHaveLength(2);
    expect(report.entries.map((e) => e.result).sort()).toEqual(['skipped', 'would redrive']);
  });

  it('redrives only the selected endpoint', async () => {
    const dlq = memoryQueue();
    dlq.send(deadLetter('ev-1', 'ep-flaky', 'attempts_exhausted'));
    dlq.send(deadLetter('ev-2', 'ep-other', 'attempts_exhausted'));
    const sent: string[] = [];
    const report = await boundedRedrive(dlq.port, {
      dryRun: false,
      decide: webhookRedriveDecider({
        findEndpoint: async () => ({ enabled: true }),
        sendDelivery: async (m) => {
          sent.push(m.endpointId);
        },
        endpointId: 'ep-flaky',
      }),
    });
    expect(sent).toEqual(['ep-flaky']);
    expect(report).toMatchObject({ skipped: 0, notSelected: 1 });
  });
});

describe('bus-event DLQ redrive', () => {
  it('returns a message the consumer failed on to its queue once, even when it comes straight back', async () => {
    const dlq = memoryQueue();
    const body = JSON.stringify({ 'detail-type': 'order.created', detail: { id: 'ev-9' } });
    dlq.send(body);
    dlq.send('{"detail":{"id":"ev-10"}}', { TARGET_ARN: 'arn:aws:sqs:us-east-1:1:missing' });
    const sent: string[] = [];
    const report = await boundedRedrive(dlq.port, {
      dryRun: false,
      decide: queueRedriveDecider({
        targetOf: (m) =>
          m.attributes.TARGET_ARN
            ? { reason: 'its target queue is not part of this stack' }
            : { url: 'q', name: 'audit queue' },
        send: async (_url, b) => {
          sent.push(b);
          // The consumer fails again at once: SQS moves it back to the DLQ (a new id here).
          dlq.send(b);
        },
      }),
    });
    expect(sent).toEqual([body]);
    expect(report).toMatchObject({ redriven: 1, skipped: 1 });
  });
});
