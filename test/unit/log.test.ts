import { afterEach, describe, expect, it, vi } from 'vitest';
import { consoleLog, errorFields, type LogPort } from '../../src/core/log.js';
import { dispatchRecords } from '../../src/core/webhookDispatch.js';
import { busEventBody, envelopeFactory } from '../helpers/envelopes.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('core log port', () => {
  it('hands the error itself to the handler’s logger, so its stack and cause survive', async () => {
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const log: LogPort = { warn: () => {}, error: (message, fields) => lines.push({ message, fields }) };
    const cause = new Error('socket reset');
    const failure = new Error('endpoints unavailable', { cause });

    const result = await dispatchRecords([{ messageId: 'm1', body: busEventBody(envelopeFactory()) }], {
      listEndpoints: async () => {
        throw failure;
      },
      sendDeliveries: async () => [],
      quarantine: async () => {},
      log,
    });

    expect(result.failedMessageIds).toEqual(['m1']);
    expect(lines).toEqual([
      { message: 'webhook dispatch failed', fields: { messageId: 'm1', error: failure } },
    ]);
    expect(lines[0]?.fields.error).toBe(failure);
  });

  it('without a logger, writes one JSON line with the error’s name, message, stack and cause chain', () => {
    const written: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => {
      written.push(line);
    });
    consoleLog.error('lease not released', {
      endpointId: 'ep1',
      error: new TypeError('a', { cause: new Error('b') }),
    });
    const line = JSON.parse(written[0] ?? '{}');
    expect(line).toMatchObject({
      level: 'ERROR',
      msg: 'lease not released',
      endpointId: 'ep1',
      error: { name: 'TypeError', message: 'a', cause: { name: 'Error', message: 'b' } },
    });
    expect(line.error.stack).toContain('TypeError: a');
  });

  it('passes non-errors through as they are', () => {
    expect(errorFields('plain')).toBe('plain');
    expect(errorFields(42)).toBe(42);
  });
});
