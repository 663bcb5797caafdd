/**
 * `npm run bench [-- --only coldStart,fanout] [--quick]`: runs each scenario for a bounded time
 * in its own process (bench/scenarioProcess.ts) on the offline runtime, prints progress lines, writes `bench/results.json` (every figure
 * `{ value, unit }`, plus the machine) and prints a short table. Never part of `npm test`.
 * The whole suite is sized to finish within 10 minutes on a 2-core machine.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import type { BenchResults, Scenario, ScenarioResult } from './lib/results.js';
import { renderReport } from './report.js';
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

/** The kept run the report compares bundle sizes and init against ("before"). */
const BASELINE_RESULTS = join(import.meta.dirname, '..', 'docs', 'bench', 'results-2026-11-23.json');

function readBaseline(): BenchResults | undefined {
  try {
    return JSON.parse(readFileSync(BASELINE_RESULTS, 'utf8')) as BenchResults;
  } catch {
    return undefined;
  }
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

const scenarioOutputSchema = z.object({
  figures: z.record(z.string(), z.object({ value: z.number(), unit: z.string() })),
  notes: z.array(z.string()),
});
const childMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('result'), output: scenarioOutputSchema }),
  z.object({ type: z.literal('skipped'), reason: z.string() }),
  z.object({ type: z.literal('failed'), reason: z.string() }),
]);
type ChildMessage = z.infer<typeof childMessageSchema>;

/** Fork bench/scenarioProcess.ts for one scenario; kill it at 1.5 × its budget so the suite cannot hang. */
function runInChild(scenario: Scenario, budgetMs: number, quick: boolean): Promise<ChildMessage> {
  return new Promise((resolve) => {
    const child = fork(
      join(import.meta.dirname, 'scenarioProcess.ts'),
      [scenario.name, String(budgetMs), quick ? 'quick' : 'full'],
      {
        execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    let answer: ChildMessage | undefined;
    const timer = setTimeout(() => {
      answer ??= {
        type: 'failed',
        reason: `exceeded its hard limit of ${((budgetMs * 1.5) / 1000).toFixed(0)} s`,
      };
      child.kill('SIGKILL');
    }, budgetMs * 1.5);
    child.on('message', (message: unknown) => {
      const parsed = childMessageSchema.safeParse(message);
      if (parsed.success) answer = parsed.data;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(answer ?? { type: 'failed', reason: `the scenario process exited ${code} without a result` });
    });
  });
}

async function runScenario(
  scenario: Scenario,
  quick: boolean,
  suiteStarted: number,
  chosen: boolean,
): Promise<ScenarioResult> {
  const started = Date.now();
  const remaining = SUITE_BUDGET_MS - (started - suiteStarted);
  // The suite's budget keeps a whole `npm run bench` short; a scenario named with --only gets its own.
  const budgetMs = chosen ? scenario.budgetMs : Math.max(5_000, Math.min(scenario.budgetMs, remaining));
  console.log(`[${scenario.name}] start: ${scenario.title} (budget ${(budgetMs / 1000).toFixed(0)} s)`);
  const message = await runInChild(scenario, budgetMs, quick);
  const durationMs = Date.now() - started;
  const base = { name: scenario.name, title: scenario.title, durationMs };
  if (message.type === 'result') {
    console.log(`[${scenario.name}] done in ${(durationMs / 1000).toFixed(1)} s`);
    return { ...base, status: 'ok', ...message.output };
  }
  console.log(`[${scenario.name}] ${message.type === 'skipped' ? 'skipped' : 'FAILED'}: ${message.reason}`);
  return { ...base, status: message.type, figures: {}, notes: [], reason: message.reason };
}

function printTable(results: BenchResults): void {
  console.log('');
  const m = results.machine;
  console.log(
    `Machine: ${m.cores} cores (${m.cpuModel}), Node ${m.node}, load average ${m.loadAverageAtStart.toFixed(1)} → ${m.loadAverageAtEnd.toFixed(1)}`,
  );
  for (const s of results.scenarios) {
    console.log('');
    console.log(
      `${s.title} — ${s.status}${s.reason ? `: ${s.reason}` : ''} (${(s.durationMs / 1000).toFixed(1)} s)`,
    );
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
    console.error(
      `bench: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
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
    scenarios.push(await runScenario(scenario, quick, suiteStarted, only !== undefined));
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
  const report = `${out.replace(/\.json$/, '')}.html`;
  writeFileSync(report, renderReport(results, readBaseline()));
  console.log(`Report written to ${report}`);
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
