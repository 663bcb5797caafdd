import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleClientMessage, parseClientMessage } from '../../src/core/clientMessages.js';
import { ERROR_CODES, serverFrameSchema } from '../../src/core/protocol.js';
import { DEFAULT_RESUME_SETTINGS } from '../../src/core/resume.js';

const RUNS = { numRuns: 10_000 };
const codes = new Set<string>(ERROR_CODES);

/** Arbitrary text, arbitrary JSON, and JSON shaped like client messages with hostile values. */
const hostileText = fc.string({ unit: 'binary', maxLength: 300 });
const channel = fc.oneof(
  hostileText,
  fc.constantFrom('orders', 'a#b', 'CONNECTIONS', '\u0000', '🦄'.repeat(64), 'x'.repeat(257)),
);
const messageLike = fc.record(
  {
    action: fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'resume', 'ping', '$connect'), hostileText),
    channels: fc.oneof(
      fc.array(channel, { maxLength: 120 }),
      fc.array(fc.record({ channel, since: fc.option(hostileText, { nil: undefined }) }), { maxLength: 5 }),
      fc.jsonValue(),
    ),
    id: fc.oneof(hostileText, fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  hostileText,
  fc.jsonValue().map((value) => JSON.stringify(value)),
  messageLike.map((value) => JSON.stringify(value)),
);

describe('client frame parsing never throws', () => {
  it('returns a message or an error frame with a documented code for any body', () => {
    fc.assert(
      fc.property(fc.option(body, { nil: undefined }), (text) => {
        const parsed = parseClientMessage(text);
        if (parsed.ok) return true;
        const frame = serverFrameSchema.parse(parsed.frame);
        return frame.type === 'error' && codes.has(frame.code);
      }),
      RUNS,
    );
  });

  it('handling any body yields only protocol frames', async () => {
    const ports = {
      subscribe: async () => undefined,
      unsubscribe: async () => undefined,
      subscriptionsOf: async () => [],
      isSubscribed: async () => false,
      currentEpoch: async () => 'ep',
      querySeq: async () => ({ items: [], more: false }),
      getEvent: async () => undefined,
      queryChannel: async () => ({ events: [] }),
    };
    const context = {
      connectionId: 'c1',
      identity: { tenantId: 't1', subject: 's', allowedChannels: ['orders'] },
    };
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const frames = await handleClientMessage(text, context, ports, DEFAULT_RESUME_SETTINGS);
        expect(frames.length).toBeGreaterThan(0);
        for (const frame of frames) serverFrameSchema.parse(JSON.parse(frame));
      }),
      RUNS,
    );
  });
});
