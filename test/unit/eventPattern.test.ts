import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesEventPattern } from '../../src/core/eventPattern.js';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'order.created',
  source: 'outbox-relay',
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:x:1'],
  detail: {
    tenantId: 't1',
    channel: 'orders',
    amount: 42,
    tags: ['a', 'b'],
    nested: { flag: true, none: null },
  },
};

describe('matchesEventPattern', () => {
  it('matches exact values and rejects other values', () => {
    expect(matchesEventPattern({ source: ['outbox-relay'] }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['other', 'outbox-relay'] }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['other'] }, event)).toBe(false);
  });

  it('requires every field of the pattern (AND) and descends into nested detail', () => {
    expect(
      matchesEventPattern(
        { source: ['outbox-relay'], detail: { tenantId: ['t1'], nested: { flag: [true] } } },
        event,
      ),
    ).toBe(true);
    expect(matchesEventPattern({ source: ['outbox-relay'], detail: { tenantId: ['t2'] } }, event)).toBe(
      false,
    );
    expect(matchesEventPattern({ detail: { nested: { none: [null] } } }, event)).toBe(true);
  });

  it('matches an array field when any element matches', () => {
    expect(matchesEventPattern({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['c'] } }, event)).toBe(false);
  });

  it('supports prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matchesEventPattern({ 'detail-type': [{ prefix: 'order.' }] }, event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ prefix: 'invoice.' }] }, event)).toBe(false);
    expect(matchesEventPattern({ 'detail-type': [{ suffix: '.created' }] }, event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ 'equals-ignore-case': 'ORDER.CREATED' }] }, event)).toBe(
      true,
    );
    expect(matchesEventPattern({ 'detail-type': [{ wildcard: 'order.*' }] }, event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ wildcard: 'invoice.*' }] }, event)).toBe(false);
  });

  it('supports anything-but with a value, a list and a prefix', () => {
    expect(matchesEventPattern({ detail: { channel: [{ 'anything-but': 'billing' }] } }, event)).toBe(true);
    expect(
      matchesEventPattern({ detail: { channel: [{ 'anything-but': ['orders', 'billing'] }] } }, event),
    ).toBe(false);
    expect(matchesEventPattern({ 'detail-type': [{ 'anything-but': { prefix: 'order.' } }] }, event)).toBe(
      false,
    );
    expect(matchesEventPattern({ 'detail-type': [{ 'anything-but': { prefix: 'invoice.' } }] }, event)).toBe(
      true,
    );
  });

  it('supports exists true and false', () => {
    expect(matchesEventPattern({ detail: { tenantId: [{ exists: true }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { resourceId: [{ exists: true }] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { resourceId: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { tenantId: [{ exists: false }] } }, event)).toBe(false);
  });

  it('supports numeric ranges', () => {
    expect(matchesEventPattern({ detail: { amount: [{ numeric: ['>', 0, '<=', 42] }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { amount: [{ numeric: ['>', 42] }] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { amount: [{ numeric: ['=', 42] }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { channel: [{ numeric: ['>', 0] }] } }, event)).toBe(false);
  });

  it('supports $or between alternatives', () => {
    const pattern = {
      $or: [{ detail: { channel: ['billing'] } }, { 'detail-type': [{ prefix: 'order.' }] }],
    };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(
      matchesEventPattern({ $or: [{ detail: { channel: ['billing'] } }, { source: ['x'] }] }, event),
    ).toBe(false);
  });

  it('does not match a missing field except with exists false', () => {
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [{ prefix: '' }] } }, event)).toBe(false);
  });

  it('refuses malformed patterns with InvalidEventPatternError', () => {
    expect(() => matchesEventPattern({ source: 'outbox-relay' }, event)).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern({ source: [] }, event)).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern({ source: [{ regex: '.*' }] }, event)).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern({ detail: { amount: [{ numeric: ['>'] }] } }, event)).toThrow(
      InvalidEventPatternError,
    );
  });
});
