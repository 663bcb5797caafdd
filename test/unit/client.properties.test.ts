/**
 * Properties of the client's per-channel ordering and of its frame guard, on generated input:
 * any arrival order with repeats, under any held-event cap, comes out as 1..N exactly once once
 * the gaps are fetched; and no text, however hostile, makes the guard throw or pass a non-frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelState } from '../../src/client/channelState.js';
import { parseServerFrame } from '../../src/client/frames.js';
import { sequenced } from './clientFakes.js';

describe('channel ordering (property)', () => {
  it('delivers 1..N exactly once and in order, whatever the arrival order, repeats and cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            // Every number at least once, some again, in any order.
            arrivals: fc
              .tuple(
                fc.shuffledSubarray(
                  Array.from({ length: n }, (_, i) => i + 1),
                  { minLength: n, maxLength: n },
                ),
                fc.array(fc.integer({ min: 1, max: n }), { maxLength: n }),
              )
              .chain(([all, repeats]) =>
                fc.shuffledSubarray([...all, ...repeats], { minLength: all.length + repeats.length }),
              ),
            cap: fc.integer({ min: 1, max: 80 }),
          }),
        ),
        ({ n, arrivals, cap }) => {
          const state = new ChannelState('orders', cap, 100, 10_000, { seq: 0, epoch: 'e1' });
          const out: number[] = [];
          const take = (events: { seq?: number }[]) => out.push(...events.map((e) => e.seq ?? -1));
          for (const seq of arrivals) take(state.accept(sequenced(seq)));
          // What a fetch would bring back: the missing range, until nothing is missing.
          for (let range = state.missing(); range; range = state.missing()) {
            for (let seq = range[0]; seq <= range[1]; seq += 1) take(state.accept(sequenced(seq)));
          }
          expect(out).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(state.heldCount).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never lets a repeat at or below the watermark through', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 80 }), (arrivals) => {
        const state = new ChannelState('orders', 100, 100, 10_000, { seq: 0, epoch: 'e1' });
        const out: number[] = [];
        for (const seq of arrivals) out.push(...state.accept(sequenced(seq)).map((e) => e.seq ?? -1));
        expect(new Set(out).size).toBe(out.length);
        expect(out).toEqual(Array.from({ length: out.length }, (_, i) => i + 1));
      }),
    );
  });
});

describe('frame guard (property)', () => {
  it('never throws and returns either nothing or an object with a known type', () => {
    const known = new Set([
      'event',
      'events',
      'subscribed',
      'unsubscribed',
      'resumed',
      'pong',
      'refresh',
      'close',
      'error',
      'fetched',
    ]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc
            .record({
              type: fc.constantFrom(...known),
              channel: fc.oneof(fc.string(), fc.integer()),
              channels: fc.array(fc.oneof(fc.string(), fc.integer())),
              heads: fc.array(
                fc.record({
                  channel: fc.string(),
                  seq: fc.oneof(fc.integer(), fc.double()),
                  epoch: fc.oneof(fc.string(), fc.constant(null)),
                }),
              ),
              head: fc.oneof(fc.constant(undefined), fc.record({ seq: fc.integer(), epoch: fc.string() })),
              fromSeq: fc.oneof(fc.integer(), fc.string()),
              toSeq: fc.integer(),
              count: fc.integer(),
            })
            .map((value) => JSON.stringify(value)),
        ),
        (text) => {
          const frame = parseServerFrame(text);
          if (frame !== undefined) expect(known.has(frame.type)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses envelopes whose seq is not a positive integer or comes without an epoch', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string()), (seq) => {
        const event = { ...sequenced(1), seq };
        expect(parseServerFrame(JSON.stringify({ type: 'event', event }))).toBeUndefined();
      }),
    );
    const { epoch: _epoch, ...withoutEpoch } = sequenced(1);
    expect(parseServerFrame(JSON.stringify({ type: 'event', event: withoutEpoch }))).toBeUndefined();
    expect(parseServerFrame(JSON.stringify({ type: 'event', event: sequenced(1) }))).toBeDefined();
  });
});
