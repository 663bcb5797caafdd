import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEventPk, channelKeyOf, resourceKeyOf } from '../../src/core/auditRecord.js';
import { positionOf } from '../../src/core/envelope.js';
import { encodeKey } from '../../src/core/keyCodec.js';
import {
  assertName,
  DYNAMODB_PARTITION_KEY_MAX_BYTES,
  DYNAMODB_SORT_KEY_MAX_BYTES,
  InvalidNameError,
  NAME_KINDS,
  NAME_MAX_BYTES,
  type NameKind,
  nameRefusal,
  nameSchema,
  RESOURCE_ID_MAX_BYTES,
  utf8Bytes,
} from '../../src/core/names.js';
import { outboxKeys } from '../../src/core/outboxRow.js';
import { subscriptionKey, tenantConnectionsKey } from '../../src/core/subscriptions.js';

const RUNS = { numRuns: 10_000 };
const kind = fc.constantFrom(...NAME_KINDS);

/**
 * An independent oracle: code point by code point with explicit ranges where they are short (C0,
 * DEL, C1, surrogates, the separator), TextEncoder for the bytes (the module counts by hand).
 */
function oracleValid(k: NameKind, value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const isHigh = unit >= 0xd800 && unit <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      const cp = (unit - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000;
      // Astral format characters (Cf): U+110BD, U+110CD, U+13430–1343F, U+1BCA0–1BCA3, U+1D173–1D17A, U+E0001, U+E0020–E007F.
      if (
        cp === 0x110bd ||
        cp === 0x110cd ||
        (cp >= 0x13430 && cp <= 0x1343f) ||
        (cp >= 0x1bca0 && cp <= 0x1bca3) ||
        (cp >= 0x1d173 && cp <= 0x1d17a) ||
        cp === 0xe0001 ||
        (cp >= 0xe0020 && cp <= 0xe007f)
      )
        return false;
      i++;
      continue;
    }
    if (unit >= 0xd800 && unit <= 0xdfff) return false; // lone surrogate
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) return false; // C0, DEL, C1
    if (unit === 0x23) return false; // '#'
    if (k === 'channel' && unit === 0x2a) return false; // '*'
    const char = String.fromCharCode(unit);
    // BMP whitespace and separators (Z + \s), and BMP format characters (Cf), listed.
    if (
      ' \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'.includes(
        char,
      )
    )
      return false;
    if (
      unit === 0xad ||
      (unit >= 0x600 && unit <= 0x605) ||
      unit === 0x61c ||
      unit === 0x6dd ||
      unit === 0x70f ||
      (unit >= 0x890 && unit <= 0x891) ||
      unit === 0x8e2 ||
      unit === 0x180e ||
      (unit >= 0x200b && unit <= 0x200f) ||
      (unit >= 0x202a && unit <= 0x202e) ||
      (unit >= 0x2060 && unit <= 0x2064) ||
      (unit >= 0x2066 && unit <= 0x206f) ||
      (unit >= 0xfff9 && unit <= 0xfffb)
    )
      return false;
  }
  return new TextEncoder().encode(value).length <= NAME_MAX_BYTES[k];
}

const nameLike = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({
    unit: fc.constantFrom(
      'a',
      '#',
      '*',
      ' ',
      '\u0000',
      '\u007f',
      '\u0085',
      '\u200b',
      '\u202e',
      'é',
      '日',
      '😀',
      '\uD800',
      '\uDC00',
      '\u3000',
    ),
    maxLength: 140,
  }),
);

describe('names', () => {
  it('never throw on arbitrary input: the check and the schema answer with a refusal', () => {
    fc.assert(
      fc.property(kind, fc.anything(), (k, value) => {
        const refusal = nameRefusal(k, value);
        const parsed = nameSchema(k).safeParse(value);
        expect(parsed.success).toBe(refusal === undefined);
      }),
      RUNS,
    );
  });

  it('agree with an independent oracle on arbitrary text', () => {
    fc.assert(
      fc.property(kind, nameLike, (k, value) => {
        expect(nameRefusal(k, value) === undefined).toBe(oracleValid(k, value));
      }),
      RUNS,
    );
  });

  it('count UTF-8 bytes like TextEncoder', () => {
    fc.assert(
      fc.property(nameLike, (value) => {
        expect(utf8Bytes(value)).toBe(new TextEncoder().encode(value).length);
      }),
      RUNS,
    );
  });

  it('accept multi-byte names at the byte limit and refuse one byte more', () => {
    const at = {
      tenantId: `${'日'.repeat(42)}ab`,
      channel: '😀'.repeat(64),
      subject: 'é'.repeat(128),
      eventId: '😀'.repeat(32),
    };
    for (const k of NAME_KINDS) {
      expect(utf8Bytes(at[k])).toBe(NAME_MAX_BYTES[k]);
      expect(nameRefusal(k, at[k])).toBeUndefined();
      expect(nameRefusal(k, `${at[k]}x`)).toBe('too_long');
    }
  });

  it('refuse each hostile class with its own reason and a typed error', () => {
    expect(nameRefusal('tenantId', 'kv#x')).toBe('separator');
    expect(nameRefusal('channel', 'a\u0000b')).toBe('control_character');
    expect(nameRefusal('channel', 'a\u202eb')).toBe('format_character');
    expect(nameRefusal('subject', 'a\uD800')).toBe('lone_surrogate');
    expect(nameRefusal('tenantId', 'a b')).toBe('whitespace');
    expect(nameRefusal('channel', 'orders*')).toBe('wildcard');
    expect(nameRefusal('tenantId', '')).toBe('empty');
    expect(nameRefusal('tenantId', 42)).toBe('not_a_string');
    expect(nameRefusal('tenantId', 'CONNECTIONS')).toBeUndefined();
    const error = (() => {
      try {
        assertName('tenantId', 'kv#x');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(error).toMatchObject({ kind: 'tenantId', refusal: 'separator' });
  });

  it('keep every key within DynamoDB limits at the byte limits', () => {
    const tenant = '😀'.repeat(NAME_MAX_BYTES.tenantId / 4);
    const channel = '😀'.repeat(NAME_MAX_BYTES.channel / 4);
    const eventId = '😀'.repeat(NAME_MAX_BYTES.eventId / 4);
    const resourceId = '😀'.repeat(RESOURCE_ID_MAX_BYTES / 4);
    const partitionKeys = [
      subscriptionKey(tenant, channel, 7),
      tenantConnectionsKey(tenant, 7),
      channelKeyOf(tenant, channel),
      resourceKeyOf(tenant, resourceId),
      auditEventPk(tenant, eventId),
      outboxKeys({ tenantId: tenant, eventId }).pk,
    ];
    const sortKeys = [
      outboxKeys({ tenantId: tenant, eventId }).sk,
      encodeKey(['SUB', channel]),
      positionOf('2026-11-30T00:00:00.000Z', eventId),
    ];
    for (const key of partitionKeys)
      expect(utf8Bytes(key)).toBeLessThanOrEqual(DYNAMODB_PARTITION_KEY_MAX_BYTES);
    for (const key of sortKeys) expect(utf8Bytes(key)).toBeLessThanOrEqual(DYNAMODB_SORT_KEY_MAX_BYTES);
  });
});
