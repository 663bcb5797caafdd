/**
 * `npm run bench [-- --only coldStart,fanout] [--quick]`: runs each scenario for a bounded time
 * on the offline runtime, prints progress lines, writes `bench/results.json` (every figure
 * `{ value, unit }`, plus the machine) and prints a short table. Never part of `npm test`.
 * The whole suite is sized to finish within 10 minutes on a 2-core machine.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchResults, type Scenario, type ScenarioResult, ScenarioSkipped } from './lib/results.js';
import { SCENARIOS } from './scenarios/index.js';

/** The suite's ceiling: the issue asks for under 10 minutes on a 2-core machine. */
const SUITE_BUDGET_MS = 9.5 * 60_000;

function parse(argv: string[]): { only: string[] | undefined; quick: boolean; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: join(import.meta.dirname, 'results.json') },
    },
    strict: true,
  });
  return { only: values.only?.split(',').map((s) => s.trim()), quick: values.quick, out: values.out };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

async function runScenario(scenario: Scenario, quick: boolean, suiteStarted: number): Promise<ScenarioResult> {
  const started = Date.now();
  const remaining = SUITE_BUDGET_MS - (started - suiteStarted);
  const budgetMs = Math.max(5_000, Math.min(scenario.budgetMs, remaining));
  const progress = (message: string): void => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    console.log(`[${scenario.name} ${elapsed}s] ${message}`);
  };
  progress(`start: ${scenario.title} (budget ${(budgetMs / 1000).toFixed(0)} s)`);
  let timer: NodeJS.Timeout | undefined;
  // A scenario sizes itself to its budget; the hard limit only stops the suite from hanging.
  const hardLimit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`exceeded its hard limit of ${((budgetMs * 1.5) / 1000).toFixed(0)} s`)), budgetMs * 1.5);
  });
  try {
    const output = await Promise.race([scenario.run({ progress, budgetMs, quick }), hardLimit]);
    progress('done');
    return { name: scenario.name, title: scenario.title, status: 'ok', durationMs: Date.now() - started, ...output };
  } catch (error) {
    const skipped = error instanceof ScenarioSkipped;
    const reason = error instanceof Error ? error.message : String(error);
    progress(`${skipped ? 'skipped' : 'FAILED'}: ${reason}`);
    if (!skipped && error instanceof Error && error.stack) console.error(error.stack);
    return {
      name: scenario.name,
      title: scenario.title,
      status: skipped ? 'skipped' : 'failed',
      durationMs: Date.now() - started,
      figures: {},
      notes: [],
      reason,
    };
  } finally {
    clearTimeout(timer);
  }
}

function printTable(results: BenchResults): void {
  console.log('');
  const m = results.machine;
  console.log(
    `Machine: ${m.cores} cores (${m.cpuModel}), Node ${m.node}, load average ${m.loadAverageAtStart.toFixed(1)} → ${m.loadAverageAtEnd.toFixed(1)}`,
  );
  for (const s of results.scenarios) {
    console.log('');
    console.log(`${s.title} — ${s.status}${s.reason ? `: ${s.reason}` : ''} (${(s.durationMs / 1000).toFixed(1)} s)`);
    for (const [name, f] of Object.entries(s.figures)) {
      console.log(`  ${name.padEnd(52)} ${formatValue(f.value).padStart(14)} ${f.unit}`);
    }
  }
  console.log('');
  console.log(`Total ${(results.machine.totalDurationMs / 1000).toFixed(1)} s.`);
}

async function main(): Promise<number> {
  const { only, quick, out } = parse(process.argv.slice(2));
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) {
    console.error(`bench: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));
  const startedAt = new Date();
  const loadAverageAtStart = loadavg()[0] ?? 0;
  const suiteStarted = Date.now();
  const scenarios: ScenarioResult[] = [];
  for (const scenario of selected) {
    if (Date.now() - suiteStarted > SUITE_BUDGET_MS) {
      scenarios.push({
        name: scenario.name,
        title: scenario.title,
        status: 'skipped',
        durationMs: 0,
        figures: {},
        notes: [],
        reason: 'the suite ran out of its 10-minute budget',
      });
      continue;
    }
    scenarios.push(await runScenario(scenario, quick, suiteStarted));
  }
  const cpu = cpus();
  const results: BenchResults = {
    machine: {
      cores: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      totalMemoryMb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg()[0] ?? 0,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      totalDurationMs: Date.now() - suiteStarted,
    },
    scenarios,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  console.log(`Results written to ${out}`);
  return scenarios.some((s) => s.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => {
    // Runtimes and sockets the scenarios started are stopped by them; exit anyway so a leaked
    // handle cannot keep the process alive after the results are written.
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
