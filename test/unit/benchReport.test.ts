/**
 * The bench's HTML report: self-contained (no external scripts, styles or images), one chart per
 * measured figure group, "not measured" for the rest, names escaped.
 */
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/lib/results.js';
import { barChart, renderReport } from '../../bench/report.js';

const machine: BenchResults['machine'] = {
  cores: 2,
  cpuModel: 'test <cpu>',
  totalMemoryMb: 1024,
  node: 'v20',
  platform: 'linux-x64',
  loadAverageAtStart: 1,
  loadAverageAtEnd: 2,
  startedAt: '2026-11-30T00:00:00.000Z',
  finishedAt: '2026-11-30T00:01:00.000Z',
  totalDurationMs: 60_000,
};

function run(figures: Record<string, Record<string, number>>): BenchResults {
  return {
    machine,
    scenarios: Object.entries(figures).map(([name, values]) => ({
      name,
      title: name,
      status: 'ok',
      durationMs: 1,
      figures: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v, unit: 'x' }])),
      notes: [`note of ${name} <b>`],
    })),
  };
}

describe('renderReport', () => {
  it('draws bundle sizes before and after and marks unmeasured charts', () => {
    const html = renderReport(
      run({ coldStart: { 'fanout.deployed.bundleBytes': 150_000, 'fanout.xraySdk.bundleBytes': 300_000 } }),
      run({ coldStart: { 'fanout.sdkExternal.bundleBytes': 660_000 } }),
    );
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('Bundle size per function');
    // 660,000 / 1024 ≈ 645 KB before, 146 KB after.
    expect(html).toContain('>645<');
    expect(html).toContain('>146<');
    expect(html.match(/Not measured in this run/g)?.length).toBe(6);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);
    expect(html).toContain('test &lt;cpu&gt;');
    expect(html).toContain('note of coldStart &lt;b&gt;');
  });

  it('draws fan-out time for every client count, in order', () => {
    const html = renderReport(
      run({
        fanout: {
          'path.10000.ms': 7000,
          'rawHttp.10000.ms': 2000,
          'floor.10000.ms': 250,
          'path.1000.ms': 700,
          'rawHttp.1000.ms': 200,
          'floor.1000.ms': 25,
        },
      }),
    );
    const first = html.indexOf('1,000 clients');
    const second = html.indexOf('10,000 clients');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
  });
});

describe('barChart', () => {
  it('scales bars to the largest value and escapes labels', () => {
    const svg = barChart(
      't',
      'ms',
      [{ label: 'a', color: '#000' }],
      [
        { label: '<x>', values: [10] },
        { label: 'y', values: [5] },
      ],
    );
    const widths = [...svg.matchAll(/width="([\d.]+)" height="14"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([520, 260]);
    expect(svg).toContain('&lt;x&gt;');
  });
});
