/**
 * A self-contained HTML report of a bench run (inline SVG charts, no external assets): bundle
 * sizes before/after, latency per hop, fan-out time against clients, messages per event with
 * coalescing on and off, caller cost per `@connections` post. `npm run bench` writes it next to
 * the results (`bench/results.html`); for an older results file:
 * `npx tsx bench/report.ts bench/results.json [--baseline docs/bench/results-2026-11-23.json] [--out report.html]`.
 * A chart whose figures the run did not measure says so instead of drawing nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchResults } from './lib/results.js';

interface Series {
  readonly label: string;
  readonly color: string;
}

interface Group {
  readonly label: string;
  /** One value per series; undefined = not measured. */
  readonly values: readonly (number | undefined)[];
}

const PALETTE = ['#3b6fb6', '#e07b39', '#5a9e4b', '#9b59b6'];

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: value >= 100 ? 0 : 2 });
}

/** Horizontal grouped bars: one row group per label, one bar per series. */
export function barChart(
  title: string,
  unit: string,
  series: readonly Series[],
  groups: readonly Group[],
): string {
  const measured = groups.filter((g) => g.values.some((v) => v !== undefined && Number.isFinite(v)));
  if (measured.length === 0)
    return `<section><h2>${escapeHtml(title)}</h2><p class="missing">Not measured in this run.</p></section>`;
  const max = Math.max(...measured.flatMap((g) => g.values.filter((v): v is number => v !== undefined)), 1);
  const labelWidth = 170;
  const barArea = 520;
  const barHeight = 14;
  const groupHeight = series.length * (barHeight + 2) + 10;
  const height = measured.length * groupHeight + 30;
  const rows = measured
    .map((group, gi) => {
      const y0 = 10 + gi * groupHeight;
      const bars = group.values
        .map((value, si) => {
          if (value === undefined || !Number.isFinite(value)) return '';
          const y = y0 + si * (barHeight + 2);
          const width = Math.max(1, (value / max) * barArea);
          const color = series[si]?.color ?? '#888';
          return `<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${color}"><title>${escapeHtml(series[si]?.label ?? '')}: ${formatNumber(value)} ${escapeHtml(unit)}</title></rect><text x="${(labelWidth + width + 4).toFixed(1)}" y="${y + barHeight - 3}" font-size="11">${formatNumber(value)}</text>`;
        })
        .join('');
      return `<text x="${labelWidth - 6}" y="${y0 + barHeight - 2}" font-size="12" text-anchor="end">${escapeHtml(group.label)}</text>${bars}`;
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${labelWidth + i * 170}" y="${height - 14}" width="10" height="10" fill="${s.color}"/><text x="${labelWidth + i * 170 + 14}" y="${height - 5}" font-size="11">${escapeHtml(s.label)}</text>`,
    )
    .join('');
  return `<section><h2>${escapeHtml(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" role="img" width="${labelWidth + barArea + 80}" height="${height}" viewBox="0 0 ${labelWidth + barArea + 80} ${height}"><title>${escapeHtml(title)} (${escapeHtml(unit)})</title>${rows}${legend}</svg><p class="unit">${escapeHtml(unit)}</p></section>`;
}

function figuresOf(results: BenchResults | undefined, scenario: string): Record<string, number> {
  const found = results?.scenarios.find((s) => s.name === scenario);
  const out: Record<string, number> = {};
  for (const [key, figure] of Object.entries(found?.figures ?? {})) out[key] = figure.value;
  return out;
}

function series(...labels: string[]): Series[] {
  return labels.map((label, i) => ({ label, color: PALETTE[i % PALETTE.length] ?? '#888' }));
}

function prefixes(figures: Record<string, number>, pattern: RegExp): string[] {
  const seen = new Set<string>();
  for (const key of Object.keys(figures)) {
    const match = pattern.exec(key);
    if (match?.[1]) seen.add(match[1]);
  }
  return [...seen];
}

/** The report for `results`, with bundle sizes of `baseline` (an earlier run) as "before". */
export function renderReport(results: BenchResults, baseline?: BenchResults): string {
  const cold = figuresOf(results, 'coldStart');
  const coldBefore = figuresOf(baseline, 'coldStart');
  const functions = prefixes({ ...coldBefore, ...cold }, /^([^.]+)\.[^.]+\.bundleBytes$/);
  const kb = (v: number | undefined) => (v === undefined ? undefined : v / 1024);
  const bundles = barChart(
    'Bundle size per function',
    'KB (minified, SDK external)',
    series('baseline run (deployed then)', 'deployed now', 'now with xraySdk'),
    functions.map((fn) => ({
      label: fn,
      values: [
        kb(coldBefore[`${fn}.sdkExternal.bundleBytes`] ?? coldBefore[`${fn}.deployed.bundleBytes`]),
        kb(cold[`${fn}.deployed.bundleBytes`]),
        kb(cold[`${fn}.xraySdk.bundleBytes`]),
      ],
    })),
  );
  const init = barChart(
    'Module load (init) CPU per function',
    'ms CPU, median of fresh processes',
    series('baseline run', 'deployed now'),
    functions.map((fn) => ({
      label: fn,
      values: [
        coldBefore[`${fn}.sdkExternal.initCpuMs`] ?? coldBefore[`${fn}.deployed.initCpuMs`],
        cold[`${fn}.deployed.initCpuMs`],
      ],
    })),
  );
  const latency = figuresOf(results, 'latency');
  const hops = prefixes(latency, /^hop\.([^.]+)\.p50$/);
  const hopChart = barChart('Latency per hop', 'ms', series('p50', 'p99'), [
    ...hops.map((hop) => ({ label: hop, values: [latency[`hop.${hop}.p50`], latency[`hop.${hop}.p99`]] })),
    { label: 'end to end (WebSocket)', values: [latency.websocketP50, latency.websocketP99] },
    { label: 'end to end (webhook)', values: [latency.webhookP50, latency.webhookP99] },
  ]);
  const fanout = figuresOf(results, 'fanout');
  const sizes = prefixes(fanout, /^path\.(\d+)\.ms$/).sort((a, b) => Number(a) - Number(b));
  const fanoutChart = barChart(
    'Fan-out time against clients',
    'ms until the last client has the message',
    series('@connections path (fan-out handler)', 'raw POSTs', 'direct broadcast (floor)'),
    sizes.map((n) => ({
      label: `${Number(n).toLocaleString('en-US')} clients`,
      values: [fanout[`path.${n}.ms`], fanout[`rawHttp.${n}.ms`], fanout[`floor.${n}.ms`]],
    })),
  );
  const caller = barChart(
    'Caller CPU of one @connections post',
    'µs of caller CPU per post (stub server in another process)',
    series('SDK client', 'signed keep-alive client (the fan-out)', 'raw signed POST', 'raw unsigned POST'),
    [
      {
        label: 'per post',
        values: [
          fanout['callerCost.sdkCpuPerCall'],
          fanout['callerCost.signedCpuPerCall'],
          fanout['callerCost.rawSignedCpuPerCall'],
          fanout['callerCost.rawCpuPerCall'],
        ],
      },
    ],
  );
  const coalescing = figuresOf(results, 'coalescing');
  const coalescingChart = barChart(
    'Messages per event with coalescing on and off',
    'messages per event per subscriber',
    series('coalescing off', 'coalescing on'),
    [
      {
        label: 'messages / event',
        values: [
          coalescing['off.messagesPerEventPerSubscriber'],
          coalescing['on.messagesPerEventPerSubscriber'],
        ],
      },
    ],
  );
  const coalescingLatency = barChart(
    'Delivery latency with coalescing on and off',
    'ms',
    series('coalescing off', 'coalescing on'),
    [
      { label: 'p50', values: [coalescing['off.p50'], coalescing['on.p50']] },
      { label: 'p99', values: [coalescing['off.p99'], coalescing['on.p99']] },
    ],
  );
  const machine = results.machine;
  const notes = results.scenarios
    .map(
      (s) =>
        `<details><summary>${escapeHtml(s.name)}: ${escapeHtml(s.status)}</summary><ul>${(s.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></details>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>outbox-relay bench ${escapeHtml(machine.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}h2{font-size:1.1em;margin-top:2em}.missing{color:#888}.unit{color:#666;font-size:.85em;margin:0}</style>
</head><body>
<h1>outbox-relay bench</h1>
<p>${escapeHtml(`${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.startedAt} → ${machine.finishedAt}, load average ${machine.loadAverageAtStart.toFixed(1)} → ${machine.loadAverageAtEnd.toFixed(1)}`)}${baseline ? escapeHtml(`; baseline run ${baseline.machine.startedAt}`) : ''}. Figures from a shared machine: read them as relative.</p>
${bundles}${init}${hopChart}${fanoutChart}${caller}${coalescingChart}${coalescingLatency}
<h2>Notes</h2>${notes}
</body></html>
`;
}

function readResults(file: string): BenchResults {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { baseline: { type: 'string' }, out: { type: 'string' } },
  });
  const input = positionals[0] ?? 'bench/results.json';
  const out = values.out ?? input.replace(/\.json$/, '.html');
  writeFileSync(
    out,
    renderReport(readResults(input), values.baseline ? readResults(values.baseline) : undefined),
  );
  console.log(`Report written to ${out}`);
}
