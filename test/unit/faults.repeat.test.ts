import { describe, expect, it } from 'vitest';
import type { PathRow, Verdict } from '../faults/classify.js';
import { type RunSummary, renderRunSummaries } from '../faults/repeat.js';

function row(path: string, missing: number, duplicates = 0): PathRow {
  return {
    path,
    expected: 10,
    delivered: 10 - missing,
    refreshed: 0,
    deadLettered: 0,
    notDispatched: 0,
    missing,
    duplicates,
    reasons: {},
  };
}

function verdict(missing: { audit?: number; websocket?: number; webhook?: number } = {}): Verdict {
  const rows = [
    row('audit', missing.audit ?? 0),
    row('websocket (6 clients)', missing.websocket ?? 0, 7),
    row('webhook healthy', missing.webhook ?? 0, 2),
    row('webhook slow', 0, 3),
  ];
  const total = rows.reduce((sum, r) => sum + r.missing, 0);
  return {
    rows,
    missing: Array.from({ length: total }, (_, i) => ({ path: 'x', eventId: `e${i}` })),
    ok: total === 0,
  };
}

const run = (n: number, extra: Partial<RunSummary>): RunSummary => ({
  run: n,
  startedAt: new Date('2026-11-30T09:05:00Z'),
  durationMs: 2_165_000,
  load: { start: 7.1, mean: 10.52, max: 20.1 },
  events: 2000,
  ...extra,
});

describe('renderRunSummaries', () => {
  it('passes only when every run ended with a verdict and nothing missing', () => {
    const summary = renderRunSummaries([run(1, { verdict: verdict() }), run(2, { verdict: verdict() })]);
    expect(summary.ok).toBe(true);
    expect(summary.text).toContain('OK: 2 of 2 runs in a row with nothing missing.');
    expect(summary.text).toMatch(/^1\s+09:05\s+2165 s\s+7\.1\/10\.5\/20\.1\s+2000\s+0\/0\/0\s+7\/5\s+OK$/m);
  });

  it('fails a series with one run missing events, and says which path', () => {
    const summary = renderRunSummaries([
      run(1, { verdict: verdict() }),
      run(2, { verdict: verdict({ websocket: 3 }) }),
    ]);
    expect(summary.ok).toBe(false);
    expect(summary.text).toMatch(/^2 .* 0\/3\/0 .* MISSING$/m);
    expect(summary.text).toContain('FAILED: 1 of 2 runs');
  });

  it('fails a series with a run that ended without a verdict', () => {
    const summary = renderRunSummaries([
      run(1, { verdict: verdict() }),
      run(2, { error: 'the runtime was not idle after 3600000 ms' }),
    ]);
    expect(summary.ok).toBe(false);
    expect(summary.text).toContain('no verdict: the runtime was not idle');
  });

  it('does not pass an empty series', () => {
    expect(renderRunSummaries([]).ok).toBe(false);
  });
});
