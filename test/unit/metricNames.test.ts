/**
 * Metric and service names live in one table (src/core/metricNames.ts). Every metric the stack's
 * dashboard or alarms read is emitted by some handler code, every name in the table is used, and
 * no code spells a metric or service name as a literal.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topology } from '../../src/contract/topology.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { type SourceFile, sourceFiles } from '../helpers/sourceFiles.js';

type MetricKey = keyof typeof METRIC;
const TABLE = path.join('src', 'core', 'metricNames.ts');

function sources(...directories: string[]): SourceFile[] {
  return sourceFiles(...directories).filter(({ file }) => file !== TABLE);
}

/** `METRIC.<key>` references in the given sources. */
function metricKeysIn(files: readonly { text: string }[]): Set<MetricKey> {
  const keys = new Set<MetricKey>();
  for (const { text } of files)
    for (const match of text.matchAll(/\bMETRIC\.(\w+)/g)) keys.add(match[1] as MetricKey);
  return keys;
}

// Emitting code: the handlers and the modules they call, and the producer helper (in the
// application's process). The stack (lib/) only reads metrics.
const emitting = sources('lambdas', 'src/aws', 'src/core', 'src/producer');
const reading = sources('lib');

describe('metric names', () => {
  it('every metric the dashboard or an alarm reads is emitted somewhere', () => {
    const emitted = metricKeysIn(emitting);
    const graphed = [...metricKeysIn(reading)];
    expect(graphed.length).toBeGreaterThan(10);
    expect(graphed.filter((key) => !emitted.has(key))).toEqual([]);
  });

  it('every name in the table is emitted and refers to a real entry', () => {
    const emitted = metricKeysIn(emitting);
    expect(Object.keys(METRIC).filter((key) => !emitted.has(key as MetricKey))).toEqual([]);
    expect([...emitted, ...metricKeysIn(reading)].filter((key) => !(key in METRIC))).toEqual([]);
  });

  it('no code spells a metric name as a literal', () => {
    const names = Object.values(METRIC);
    // An alarm's construct id may share a metric's name (renaming it would replace the alarm).
    const literals = sources('lambdas', 'src', 'lib', 'local', 'bench').flatMap(({ file, text: raw }) => {
      const text = raw.replace(/addAlarm\(\s*'[^']*'/g, 'addAlarm(');
      return names
        .filter((name) => text.includes(`'${name}'`) || text.includes(`"${name}"`))
        .map((n) => `${file}: ${n}`);
    });
    expect(literals).toEqual([]);
  });

  it('every metric is added by its table name, and every service by METRIC_SERVICE', () => {
    const offenders = sources('lambdas', 'src', 'local').flatMap(({ file, text }) => [
      ...[...text.matchAll(/addMetric\(\s*([^,\s]+)/g)]
        .filter((m) => !/^(METRIC\.\w+|name)$/.test(m[1] ?? ''))
        .map((m) => `${file}: addMetric(${m[1]}`),
      ...[...text.matchAll(/getTelemetry\(\s*['"`]/g)].map(() => `${file}: getTelemetry(<literal>)`),
    ]);
    expect(offenders).toEqual([]);
  });

  it('service names are the topology’s function names', () => {
    const functions: readonly string[] = Object.keys(topology.functions);
    expect(Object.values(METRIC_SERVICE).filter((service) => !functions.includes(service))).toEqual([]);
    expect(Object.entries(METRIC_SERVICE).every(([key, value]) => key === value)).toBe(true);
  });
});
