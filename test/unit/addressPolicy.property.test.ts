/**
 * The SSRF address policy against an independent oracle: the special-purpose ranges written out
 * again as numbers (IANA's registries), and the IPv4-embedding IPv6 forms as arithmetic on a
 * 128-bit integer, with no use of node:net or of the module under test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AddressCategory,
  checkWebhookUrl,
  classifyAddress,
  PRODUCTION_POLICY,
} from '../../src/core/addressPolicy.js';
import { AddressRefusedError } from '../../src/core/webhookErrors.js';

type Category = Exclude<AddressCategory, 'public'>;
const RUNS = { numRuns: 10_000 };

const v4 = (a: number, b: number, c: number, d: number) =>
  BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
const V4_RANGES: readonly [bigint, number, Category][] = [
  [v4(0, 0, 0, 0), 8, 'unspecified'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(100, 64, 0, 0), 10, 'private'],
  [v4(169, 254, 0, 0), 16, 'link_local'],
  [v4(192, 0, 0, 0), 24, 'reserved'],
  [v4(192, 0, 2, 0), 24, 'reserved'],
  [v4(198, 18, 0, 0), 15, 'reserved'],
  [v4(198, 51, 100, 0), 24, 'reserved'],
  [v4(203, 0, 113, 0), 24, 'reserved'],
  [v4(224, 0, 0, 0), 4, 'reserved'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
];

const v6 = (hextets: readonly number[]) => hextets.reduce((acc, h) => (acc << 16n) | BigInt(h), 0n);
const V6_RANGES: readonly [bigint, number, Category][] = [
  [0n, 128, 'unspecified'],
  [1n, 128, 'loopback'],
  [v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]), 10, 'link_local'],
  [v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]), 7, 'unique_local'],
  [v6([0xff00, 0, 0, 0, 0, 0, 0, 0]), 8, 'reserved'],
  [v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), 32, 'reserved'],
  [v6([0x100, 0, 0, 0, 0, 0, 0, 0]), 64, 'reserved'],
  [v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]), 48, 'reserved'],
  [v6([0x2002, 0, 0, 0, 0, 0, 0, 0]), 16, 'reserved'],
  [v6([0x2001, 0, 0, 0, 0, 0, 0, 0]), 32, 'reserved'],
  [v6([0xfec0, 0, 0, 0, 0, 0, 0, 0]), 10, 'reserved'],
];

function inRange(value: bigint, bits: number, [start, prefix]: readonly [bigint, number, Category]): boolean {
  const shift = BigInt(bits - prefix);
  return value >> shift === start >> shift;
}

function oracleV4(value: bigint): AddressCategory {
  return V4_RANGES.find((range) => inRange(value, 32, range))?.[2] ?? 'public';
}

/** The IPv4 address a 128-bit value embeds (mapped, compatible, translated, NAT64), if any. */
function embedded(value: bigint): bigint | undefined {
  const high = value >> 32n;
  const low = value & 0xffff_ffffn;
  if (high === 0xffffn) return low; // ::ffff:0:0/96, mapped
  if (high === 0xffff_0000n) return low; // ::ffff:0:0:0/96, translated
  if (high === 0n && value > 1n) return low; // ::/96, compatible (not :: nor ::1)
  if (high === 0x64_ff9b_0000_0000_0000_0000n) return low; // 64:ff9b::/96, NAT64
  return undefined;
}

function oracleV6(value: bigint): AddressCategory {
  const inner = embedded(value);
  if (inner !== undefined) {
    const category = oracleV4(inner);
    return category === 'public' ? 'reserved' : category;
  }
  return V6_RANGES.find((range) => inRange(value, 128, range))?.[2] ?? 'public';
}

// Spellings ------------------------------------------------------------------------------------

const dotted = (value: bigint) =>
  [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');

function hextetsOf(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
}

/** One of several valid spellings of an IPv6 address. */
function spellV6(value: bigint, style: number, upper: boolean): string {
  const hextets = hextetsOf(value);
  let text: string;
  if (style === 0) {
    text = hextets.map((h) => h.toString(16).padStart(4, '0')).join(':');
  } else if (style === 1) {
    text = `${hextets
      .slice(0, 6)
      .map((h) => h.toString(16))
      .join(':')}:${dotted(value & 0xffff_ffffn)}`;
  } else {
    // Compress the longest run of zero hextets (any run of ≥ 1 is valid).
    let best = [-1, 0];
    for (let i = 0; i < 8; ) {
      if (hextets[i] !== 0) {
        i += 1;
        continue;
      }
      let j = i;
      while (j < 8 && hextets[j] === 0) j += 1;
      if (j - i > (best[1] ?? 0)) best = [i, j - i];
      i = j;
    }
    const [start = -1, length = 0] = best;
    const parts = hextets.map((h) => h.toString(16));
    text =
      start < 0
        ? parts.join(':')
        : `${parts.slice(0, start).join(':')}::${parts.slice(start + length).join(':')}`;
  }
  return upper ? text.toUpperCase() : text;
}

// Generators -------------------------------------------------------------------------------------

const u32 = fc.bigInt({ min: 0n, max: 0xffff_ffffn });
/** Biased to the edges of the special ranges, where off-by-one mistakes live. */
const ipv4 = fc.oneof(
  u32,
  fc
    .tuple(fc.constantFrom(...V4_RANGES), fc.bigInt({ min: -2n, max: 2n }), fc.boolean())
    .map(([[start, prefix], delta, atEnd]) => {
      const size = 1n << BigInt(32 - prefix);
      const value = (atEnd ? start + size - 1n : start) + delta;
      return ((value % 0x1_0000_0000n) + 0x1_0000_0000n) % 0x1_0000_0000n;
    }),
);
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const ipv6 = fc.oneof(
  u128,
  ipv4.map((a) => 0xffff_0000_0000n | a), // mapped
  ipv4.map((a) => a), // compatible
  ipv4.map((a) => 0xffff_0000_0000_0000n | a), // translated
  ipv4.map((a) => (0x64_ff9b_0000_0000_0000_0000n << 32n) | a), // NAT64
  fc.constantFrom(0n, 1n, 2n),
  fc.tuple(fc.constantFrom(...V6_RANGES), u128, fc.boolean()).map(([[start, prefix], noise, atEnd]) => {
    const size = 1n << BigInt(128 - prefix);
    return atEnd ? start + size - 1n : start + (noise % size);
  }),
);

function refusedInProduction(url: string): boolean {
  try {
    checkWebhookUrl(url, PRODUCTION_POLICY);
    return false;
  } catch (error) {
    if (error instanceof AddressRefusedError) return true;
    throw error;
  }
}

describe('the address policy agrees with an independent range check', () => {
  it('on random IPv4 addresses, dotted', () => {
    fc.assert(
      fc.property(ipv4, (value) => classifyAddress(dotted(value)) === oracleV4(value)),
      RUNS,
    );
  });

  it('on random IPv4 addresses in URLs, in decimal, hex and dotted spellings', () => {
    fc.assert(
      fc.property(ipv4, fc.constantFrom('dotted', 'decimal', 'hex'), (value, spelling) => {
        const host =
          spelling === 'dotted'
            ? dotted(value)
            : spelling === 'decimal'
              ? value.toString()
              : `0x${value.toString(16)}`;
        return refusedInProduction(`https://${host}/hook`) === (oracleV4(value) !== 'public');
      }),
      RUNS,
    );
  });

  it('on random IPv6 addresses, including mapped, compatible, translated and NAT64 forms', () => {
    fc.assert(
      fc.property(ipv6, fc.integer({ min: 0, max: 2 }), fc.boolean(), (value, style, upper) => {
        const text = spellV6(value, style, upper);
        expect(classifyAddress(text)).toBe(oracleV6(value));
        // And in a URL, after the WHATWG parser has re-spelled it.
        expect(refusedInProduction(`https://[${text}]/hook`)).toBe(oracleV6(value) !== 'public');
      }),
      RUNS,
    );
  });

  it('examples the oracle and the policy both name', () => {
    expect(oracleV6(v6([0, 0, 0, 0, 0, 0, 0x7f00, 1]))).toBe('loopback'); // ::127.0.0.1
    expect(classifyAddress('::127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::ffff:0:a9fe:a9fe')).toBe('link_local'); // translated metadata address
    expect(classifyAddress('64:ff9b::10.0.0.1')).toBe('private');
    expect(classifyAddress('::8.8.8.8')).toBe('reserved'); // a public IPv4 only in its plain form
  });
});
