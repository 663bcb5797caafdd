/**
 * Runs of the checker in a row (`--repeat N`) on a machine loaded on purpose (`--load N`): the
 * release check is "N runs, 0 missing every time", and a run on an idle machine proves little
 * about the timing windows a busy one opens. Pure parts (the summary table) are unit-tested.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg, setPriority } from 'node:os';
import type { Verdict } from './classify.js';

export interface LoadFigures {
  readonly start: number;
  readonly mean: number;
  readonly max: number;
}

/** Samples the 1-minute load average every `everyMs` until stopped. */
export function sampleLoad(everyMs = 30_000): { stop: () => LoadFigures } {
  const samples = [loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(loadavg()[0] ?? 0), everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(loadavg()[0] ?? 0);
      return {
        start: samples[0] ?? 0,
        mean: samples.reduce((sum, s) => sum + s, 0) / samples.length,
        max: Math.max(...samples),
      };
    },
  };
}

/**
 * `count` busy loops in child processes at a lower priority (`nice` 5 where the platform has it),
 * as "something CPU-heavy beside it"; stopped by the returned function (and with this process,
 * as they end when their stdin closes).
 */
export function startCpuBurners(count: number): () => void {
  const burners: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      [
        '-e',
        "process.stdin.on('close', () => process.exit(0)); process.stdin.resume(); setImmediate(function spin() { const end = Date.now() + 50; while (Date.now() < end); setImmediate(spin); });",
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    if (child.pid !== undefined) {
      try {
        // Lowering a child's priority needs no privilege.
        setPriority(child.pid, 5);
      } catch {
        // Not available here: the burner runs at the default priority.
      }
    }
    burners.push(child);
  }
  return () => {
    for (const child of burners) {
      child.stdin?.end();
      child.kill();
    }
  };
}

export interface RunSummary {
  readonly run: number;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly load: LoadFigures;
  readonly events: number;
  /** Missing per path group; undefined when the run ended without a verdict (the error). */
  readonly verdict?: Verdict;
  readonly error?: string;
}

function missingBy(verdict: Verdict, prefix: string): number {
  return verdict.rows.filter((row) => row.path.startsWith(prefix)).reduce((sum, row) => sum + row.missing, 0);
}

function duplicatesBy(verdict: Verdict, prefix: string): number {
  return verdict.rows
    .filter((row) => row.path.startsWith(prefix))
    .reduce((sum, row) => sum + row.duplicates, 0);
}

/** One line per run and a closing verdict: every run must have ended with a verdict and 0 missing. */
export function renderRunSummaries(runs: readonly RunSummary[]): { text: string; ok: boolean } {
  const header = [
    'run',
    'started (UTC)',
    'duration',
    'load avg start/mean/max',
    'events',
    'missing audit/websocket/webhooks',
    'duplicates websocket/webhooks',
    'outcome',
  ];
  const rows = runs.map((run) => {
    const v = run.verdict;
    return [
      String(run.run),
      run.startedAt.toISOString().slice(11, 16),
      `${Math.round(run.durationMs / 1000)} s`,
      `${run.load.start.toFixed(1)}/${run.load.mean.toFixed(1)}/${run.load.max.toFixed(1)}`,
      String(run.events),
      v ? `${missingBy(v, 'audit')}/${missingBy(v, 'websocket')}/${missingBy(v, 'webhook')}` : '-',
      v ? `${duplicatesBy(v, 'websocket')}/${duplicatesBy(v, 'webhook')}` : '-',
      v ? (v.ok ? 'OK' : 'MISSING') : `no verdict: ${run.error ?? 'unknown error'}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const ok = runs.length > 0 && runs.every((run) => run.verdict?.ok === true);
  const passed = runs.filter((run) => run.verdict?.ok === true).length;
  return {
    text: [
      line(header),
      ...rows.map(line),
      '',
      ok
        ? `OK: ${runs.length} of ${runs.length} runs in a row with nothing missing.`
        : `FAILED: ${passed} of ${runs.length} runs ended with a verdict and nothing missing.`,
    ].join('\n'),
    ok,
  };
}
