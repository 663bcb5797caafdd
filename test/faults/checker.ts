/**
 * `npm run test:faults [-- --short] [--events N] [--clients N] [--keep]`: the no-loss checker
 * (docs/reliability.md). The default (long) form is the release check: 2,000 events, 3 tenants,
 * 30 WebSocket clients, 4 webhook endpoints per tenant, every fault on at a moderate rate and one
 * SIGKILL + restart mid-stream. `--short` is the CI form (under 3 minutes). Exit code 1 when any
 * event is missing on any path; duplicates are reported, not failed.
 */
import { parseArgs } from 'node:util';
import { renderVerdict } from './classify.js';
import { DEFAULT_FAULTS, runChecker, SHORT_FAULTS } from './run.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    events: { type: 'string' },
    clients: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-kill': { type: 'boolean', default: false },
  },
  strict: true,
});

export const LONG = { events: 2_000, clients: 30, slowReceiverMs: 300 } as const;
export const SHORT = { events: 150, clients: 6, slowReceiverMs: 200 } as const;

const size = values.short ? SHORT : LONG;
const report = await runChecker({
  events: values.events ? Number(values.events) : size.events,
  tenants: 3,
  clients: values.clients ? Number(values.clients) : size.clients,
  ...(values['no-kill'] ? {} : { killAt: 0.4 }),
  faults: values.short ? SHORT_FAULTS : DEFAULT_FAULTS,
  slowReceiverMs: size.slowReceiverMs,
  keepDataDir: values.keep,
});

console.log(
  `\noutbox-relay no-loss check: ${report.facts.written.length} events, ${report.facts.clients.length} WebSocket clients, ${report.facts.endpoints.length} webhook endpoints, ${report.restarts} SIGKILL + restart, ${(report.durationMs / 1000).toFixed(1)} s\n`,
);
console.log(renderVerdict(report.verdict));
console.log(`\nfaults injected (before the kill, after the restart): ${JSON.stringify(report.faultCounts)}`);
if (values.keep) console.log(`data kept in ${report.dataDir}`);
console.log(report.verdict.ok ? '\nOK: nothing missing.' : '\nFAILED: events missing (see above).');
process.exitCode = report.verdict.ok ? 0 : 1;
