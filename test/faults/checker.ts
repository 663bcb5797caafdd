/**
 * `npm run test:faults [-- --short] [--events N] [--clients N] [--keep] [--no-kill]`: the no-loss
 * checker (docs/reliability.md). The default (long) form is the release check: 2,000 events, 3
 * tenants, 30 WebSocket clients, 4 webhook endpoints per tenant, every fault on at a moderate rate,
 * a phase where fan-out lags far behind the audit, then a Ctrl-C, a SIGKILL, a killed DynamoDB
 * Local JVM and a stale checkpoint file mid-stream. `--short` is the CI form. `--no-kill` keeps
 * the faults and the lag and skips the disruptions. `--repeat N` runs it N times in a row and ends
 * with one line per run; `--load N` keeps N CPU-bound processes running beside it (a loaded
 * machine on purpose). Exit code 1 when any event is missing on any path in any run, or a run
 * ends without a verdict; duplicates are reported, not failed.
 */
import { parseArgs } from 'node:util';
import { renderVerdict } from './classify.js';
import { type RunSummary, renderRunSummaries, sampleLoad, startCpuBurners } from './repeat.js';
import {
  ALL_DISRUPTIONS,
  type CheckerReport,
  DEFAULT_FAULTS,
  DEFAULT_LAG,
  runChecker,
  SHORT_FAULTS,
} from './run.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    events: { type: 'string' },
    clients: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-kill': { type: 'boolean', default: false },
    /** Comma-separated subset of sigint,sigkill,jvm-kill,stale-checkpoints (default: all). */
    disruptions: { type: 'string' },
    /** Runs in a row (default 1). */
    repeat: { type: 'string' },
    /** CPU-bound processes kept running beside the runs (default 0). */
    load: { type: 'string' },
  },
  strict: true,
});

/**
 * `settleTimeoutMs`: how long after the last write the runtime may take to become idle;
 * `settleStallMs`: how long its queued work may stay unchanged (more than the longest visibility
 * timeout, 7 minutes, during which a failed batch waits unseen). The long form's webhook
 * backlog (about 10,000 deliveries: 3 live endpoints per event, the failing ones retried, the
 * events re-published by the stale-checkpoint re-read and the archive replay) drains at about
 * 500 a minute on a loaded 2-core machine: slowly, not lossily.
 */
export const LONG = {
  events: 2_000,
  clients: 30,
  slowReceiverMs: 300,
  settleTimeoutMs: 3_600_000,
  settleStallMs: 600_000,
} as const;
export const SHORT = {
  events: 150,
  clients: 6,
  slowReceiverMs: 200,
  settleTimeoutMs: 300_000,
  settleStallMs: 600_000,
} as const;

const size = values.short ? SHORT : LONG;
function wholeNumber(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${flag} takes a whole number, got "${text}"`);
    process.exit(2);
  }
  return value;
}
const repeat = Math.max(1, wholeNumber('repeat', values.repeat, 1));
const burners = wholeNumber('load', values.load, 0);

function runOnce(): Promise<CheckerReport> {
  return runChecker({
    events: values.events ? Number(values.events) : size.events,
    tenants: 3,
    clients: values.clients ? Number(values.clients) : size.clients,
    ...(values['no-kill']
      ? {}
      : {
          disruptions: ALL_DISRUPTIONS.filter(
            (d) => values.disruptions === undefined || values.disruptions.split(',').includes(d.kind),
          ),
        }),
    lag: DEFAULT_LAG,
    faults: values.short ? SHORT_FAULTS : DEFAULT_FAULTS,
    slowReceiverMs: size.slowReceiverMs,
    settleTimeoutMs: size.settleTimeoutMs,
    settleStallMs: size.settleStallMs,
    keepDataDir: values.keep,
  });
}

function printReport(report: CheckerReport): void {
  console.log(
    `\noutbox-relay no-loss check: ${report.facts.written.length} events, ${report.facts.clients.length} WebSocket clients, ${report.facts.endpoints.length} webhook endpoints, disruptions: ${report.disrupted.join(', ') || 'none'} (${report.restarts} restart(s)), ${(report.durationMs / 1000).toFixed(1)} s\n`,
  );
  console.log(renderVerdict(report.verdict));
  // Every event is classified; this says when the missing ones (if any) were written.
  const byPhase = new Map<string, { written: number; missing: number }>();
  for (const phase of report.phases.values()) {
    const row = byPhase.get(phase) ?? { written: 0, missing: 0 };
    row.written += 1;
    byPhase.set(phase, row);
  }
  for (const { eventId } of report.verdict.missing) {
    const row = byPhase.get(report.phases.get(eventId) ?? 'unknown');
    if (row) row.missing += 1;
  }
  console.log('\nevents by the phase they were written in:');
  for (const [phase, row] of byPhase)
    console.log(`  ${phase.padEnd(18)} ${row.written} written, ${row.missing} missing`);
  console.log(
    `\nfaults injected (counts read before each disruption and at the end): ${JSON.stringify(report.faultCounts)}`,
  );
  if (values.keep) console.log(`data kept in ${report.dataDir}`);
  console.log(report.verdict.ok ? '\nOK: nothing missing.' : '\nFAILED: events missing (see above).');
}

const stopBurners = burners > 0 ? startCpuBurners(burners) : () => {};
process.once('exit', stopBurners);
const summaries: RunSummary[] = [];
try {
  for (let run = 1; run <= repeat; run++) {
    if (repeat > 1)
      console.log(
        `\n[checker] run ${run} of ${repeat}${burners > 0 ? `, ${burners} CPU burner(s) beside it` : ''}`,
      );
    const startedAt = new Date();
    const load = sampleLoad();
    try {
      const report = await runOnce();
      printReport(report);
      summaries.push({
        run,
        startedAt,
        durationMs: report.durationMs,
        load: load.stop(),
        events: report.facts.written.length,
        verdict: report.verdict,
      });
    } catch (error) {
      // A run that ends without a verdict (it gave up waiting) fails the series; the next run still goes.
      console.error(`[checker] run ${run} ended without a verdict:`, error);
      summaries.push({
        run,
        startedAt,
        durationMs: Date.now() - startedAt.getTime(),
        load: load.stop(),
        events: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
} finally {
  stopBurners();
}
const summary = renderRunSummaries(summaries);
if (repeat > 1 || burners > 0) console.log(`\n${summary.text}`);
process.exitCode = summary.ok ? 0 : 1;
