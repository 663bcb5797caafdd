import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEventPk, auditTenantPk, channelKeyOf, resourceKeyOf } from '../../src/core/auditRecord.js';
import { decodeKey, encodeKey, KEY_SEPARATOR, KeyDecodeError, keyPrefix } from '../../src/core/keyCodec.js';
import { outboxKeys } from '../../src/core/outboxRow.js';
import { subscriptionKey, tenantConnectionsKey } from '../../src/core/subscriptions.js';

// At least 10,000 generated cases per property (hostile names are the point of the codec).
const RUNS = { numRuns: 10_000 };

/** Strings that stress the codec: its separator and escapes, NUL, multi-byte and lone surrogates. */
const hostileChar = fc.constantFrom(
  '#',
  '%',
  '2',
  '3',
  '5',
  '%23',
  '%25',
  '\u0000',
  'é',
  '日',
  '😀',
  '\uD800',
  'a',
);
const hostile = fc.oneof(
  fc.string({ unit: hostileChar, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ maxLength: 12 }),
);
const parts = fc.array(hostile, { minLength: 1, maxLength: 5 }) as fc.Arbitrary<[string, ...string[]]>;

/** The attack: the same characters cut into parts at other places (`kv`+`x#c` vs `kv#x`+`c`). */
const recut = parts.chain((original) => {
  const joined = original.join(KEY_SEPARATOR);
  return fc
    .array(fc.nat({ max: joined.length }), { maxLength: 4 })
    .map((cuts): [[string, ...string[]], [string, ...string[]]] => {
      const sorted = [...new Set(cuts)].sort((a, b) => a - b);
      const pieces: string[] = [];
      let from = 0;
      for (const cut of sorted) {
        pieces.push(joined.slice(from, cut));
        from = cut;
      }
      pieces.push(joined.slice(from));
      const [first = '', ...rest] = pieces;
      return [original, [first, ...rest]];
    });
});

describe('key codec', () => {
  it('round-trips every list of parts', () => {
    fc.assert(
      fc.property(parts, (p) => {
        expect(decodeKey(encodeKey(p))).toEqual(p);
      }),
      RUNS,
    );
  });

  it('is injective: different part lists never share a key', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        if (encodeKey(a) === encodeKey(b)) expect(a).toEqual(b);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(recut, ([a, b]) => {
        expect(encodeKey(a) === encodeKey(b)).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      RUNS,
    );
  });

  it('gives begins_with prefixes that match exactly the keys with those first parts', () => {
    fc.assert(
      fc.property(parts, parts, (p, q) => {
        const hasPrefix = q.length > p.length && p.every((part, i) => q[i] === part);
        expect(encodeKey(q).startsWith(keyPrefix(p))).toBe(hasPrefix);
      }),
      RUNS,
    );
  });

  it('leaves parts without # or % as they are, so keys stay readable', () => {
    expect(encodeKey(['t1', 'orders'])).toBe('t1#orders');
    expect(encodeKey(['kv', 'x#c'])).toBe('kv#x%23c');
    expect(encodeKey(['kv#x', 'c'])).toBe('kv%23x#c');
    expect(encodeKey(['SUB', 't', 'c', 3])).toBe('SUB#t#c#3');
  });

  it('refuses to decode what it never encoded', () => {
    for (const bad of ['a%', 'a%2', 'a%41', '%%']) expect(() => decodeKey(bad)).toThrow(KeyDecodeError);
  });
});

describe('key builders', () => {
  it('keep a tenant+channel apart from every other tenant+channel, whatever the names', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, fc.nat({ max: 7 }), (t1, c1, t2, c2, shard) => {
        const same = t1 === t2 && c1 === c2;
        expect(channelKeyOf(t1, c1) === channelKeyOf(t2, c2)).toBe(same);
        expect(subscriptionKey(t1, c1, shard) === subscriptionKey(t2, c2, shard)).toBe(same);
        // A tenant's connection list never equals any subscription key (tenant `CONNECTIONS` included).
        expect(tenantConnectionsKey(t1, shard)).not.toBe(subscriptionKey(t2, c2, shard));
        expect(auditEventPk(t1, c1) === auditEventPk(t2, c2)).toBe(same);
        expect(auditEventPk(t1, c1)).not.toBe(auditTenantPk(t2));
        expect(resourceKeyOf(t1, c1) === resourceKeyOf(t2, c2)).toBe(same);
      }),
      RUNS,
    );
  });

  it('scope event ids per tenant: the outbox and the audit key an id by its tenant', () => {
    const a = outboxKeys({ tenantId: 'ta', eventId: 'same' });
    const b = outboxKeys({ tenantId: 'tb', eventId: 'same' });
    expect(a).not.toEqual(b);
    expect(auditEventPk('ta', 'same')).not.toBe(auditEventPk('tb', 'same'));
    expect(subscriptionKey('kv', 'x#c', 0)).not.toBe(subscriptionKey('kv#x', 'c', 0));
    expect(tenantConnectionsKey('kv', 0)).not.toBe(subscriptionKey('CONNECTIONS', 'kv', 0));
    expect(tenantConnectionsKey('kv', 0)).not.toBe(subscriptionKey('CONN', 'kv', 0));
  });
});
