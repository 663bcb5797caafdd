/**
 * `npm run cost -- --events-per-day N --connections-per-event C --webhooks-per-event W
 *   [--payload-kb K] [--coalesce-events-per-message E] [--connected-clients M]
 *   [--receipts-share 0..1] [--subject-records-max N] [--json]`
 *
 * Prints the monthly AWS bill of the pipeline by service, one explained line each, then the same
 * load with and without coalescing beside AppSync Events' and Ably's list prices. Without options
 * it prices the reference load (1 M events/day to 100 subscribers each, no webhooks, 1 KB).
 */
import { parseArgs } from 'node:util';
import { closest } from '../src/cli/suggest.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME } from '../src/core/fanoutPlan.js';
import {
  achievableEventsPerMessage,
  type CostReport,
  estimateMonthlyCost,
  InvalidWorkloadError,
  type Workload,
} from './costModel.js';
import { PRICES } from './prices.js';

/**
 * "With coalescing" when no --coalesce-events-per-message is given: what a deployed fan-out gathers
 * per connection with a 1 s batching window (event source mapping windows are whole seconds) and
 * the default cap of events per frame.
 */
const DEFAULT_WINDOW_SECONDS = 1;

function defaultCoalescing(workload: Workload): number {
  const clients = Math.max(1, workload.connectedClients ?? workload.connectionsPerEvent);
  const perConnectionRate = (workload.eventsPerDay / 86_400) * (workload.connectionsPerEvent / clients);
  return achievableEventsPerMessage(perConnectionRate, DEFAULT_WINDOW_SECONDS, DEFAULT_MAX_EVENTS_PER_FRAME);
}

const USAGE = `Usage: npm run cost -- --events-per-day N --connections-per-event C --webhooks-per-event W
         [--payload-kb K] [--coalesce-events-per-message E] [--connected-clients M]
         [--receipts-share 0..1] [--subject-records-max N] [--json]
Without options: the reference load (1,000,000 events/day, 100 subscribers each, no webhooks, 1 KB).`;

function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function quantity(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(n < 10 ? 2 : 0);
}

function number(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new InvalidWorkloadError(`--${name} is required\n${USAGE}`);
    return fallback;
  }
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidWorkloadError(`--${name} must be a number ≥ 0, got "${raw}"`);
  return value;
}

const OPTIONS = {
  'events-per-day': { type: 'string' },
  'connections-per-event': { type: 'string' },
  'webhooks-per-event': { type: 'string' },
  'payload-kb': { type: 'string' },
  'coalesce-events-per-message': { type: 'string' },
  'connected-clients': { type: 'string' },
  'receipts-share': { type: 'string' },
  'subject-records-max': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** parseArgs' own message for an unknown option is long; name the option and the closest known one. */
function argumentError(error: unknown): InvalidWorkloadError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '-{1,2}([^']+)'/.exec(message)?.[1];
  if (unknown === undefined) return new InvalidWorkloadError(`${message.split('. ')[0]}\n${USAGE}`);
  const near = closest(unknown, Object.keys(OPTIONS));
  return new InvalidWorkloadError(
    `unknown option --${unknown}${near ? ` (did you mean --${near}?)` : ''}\n${USAGE}`,
  );
}

function parseWorkload(argv: string[]): { workload: Workload; json: boolean } {
  const { values } = (() => {
    try {
      return parseArgs({ args: argv, options: OPTIONS, strict: true });
    } catch (error) {
      throw argumentError(error);
    }
  })();
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const reference = values['events-per-day'] === undefined;
  const workload: Workload = {
    eventsPerDay: number('events-per-day', values['events-per-day'], reference ? 1_000_000 : undefined),
    connectionsPerEvent: number(
      'connections-per-event',
      values['connections-per-event'],
      reference ? 100 : undefined,
    ),
    webhooksPerEvent: number('webhooks-per-event', values['webhooks-per-event'], reference ? 0 : undefined),
    payloadKb: number('payload-kb', values['payload-kb'], 1),
    coalesceEventsPerMessage: number('coalesce-events-per-message', values['coalesce-events-per-message'], 1),
    ...(values['connected-clients'] !== undefined
      ? { connectedClients: number('connected-clients', values['connected-clients']) }
      : {}),
    ...(values['receipts-share'] !== undefined
      ? { receiptsShare: number('receipts-share', values['receipts-share']) }
      : {}),
    ...(values['subject-records-max'] !== undefined
      ? { subjectRecordsMaxSubscribers: number('subject-records-max', values['subject-records-max']) }
      : {}),
  };
  return { workload, json: values.json };
}

function printReport(report: CostReport): void {
  const w = report.workload;
  console.log(
    `outbox-relay — monthly AWS bill estimate (${PRICES.region} list prices checked ${PRICES.checkedOn}; no free tiers)`,
  );
  console.log(
    `Load: ${w.eventsPerDay.toLocaleString('en-US')} events/day (${(w.eventsPerDay / 86_400).toFixed(1)}/s, ` +
      `${quantity(report.eventsPerMonth)}/month of 730 h), ${w.connectionsPerEvent} subscribers and ${w.webhooksPerEvent} ` +
      `webhooks per event, ${w.payloadKb} KB payload, ${report.effectiveEventsPerMessage} event(s) per WebSocket message, ` +
      `${w.connectedClients} clients connected.`,
  );
  console.log('');
  const header = `${'Service'.padEnd(22)} ${'Line'.padEnd(34)} ${'Quantity'.padStart(18)}  ${'USD/month'.padStart(12)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const l of report.lines) {
    console.log(
      `${l.service.padEnd(22)} ${l.item.slice(0, 34).padEnd(34)} ${`${quantity(l.quantity)} ${l.unit.split(' ')[0]}`.padStart(18)}  ${usd(l.usd).padStart(12)}`,
    );
    console.log(`    at ${l.price}: ${l.explanation}`);
  }
  console.log('-'.repeat(header.length));
  console.log(`${'Total'.padEnd(76)}${usd(report.totalUsd).padStart(12)}`);
  console.log('');
  console.log('By service:');
  for (const [service, amount] of Object.entries(report.byService)) {
    const share = report.totalUsd === 0 ? 0 : (amount / report.totalUsd) * 100;
    console.log(`  ${service.padEnd(24)} ${usd(amount).padStart(12)}  ${share.toFixed(1).padStart(5)} %`);
  }
}

function printComparison(workload: Workload): void {
  const off = estimateMonthlyCost({ ...workload, coalesceEventsPerMessage: 1 }, PRICES);
  const requested = workload.coalesceEventsPerMessage ?? 1;
  const e = requested > 1 ? requested : defaultCoalescing(workload);
  const on = estimateMonthlyCost({ ...workload, coalesceEventsPerMessage: e }, PRICES);
  console.log('');
  console.log(
    'The same load, realtime delivery priced four ways (whole pipeline for outbox-relay; realtime fees only for the others):',
  );
  const row = (name: string, total: number, realtime: number | undefined, note: string): void => {
    const rt = realtime === undefined ? ''.padStart(14) : usd(realtime).padStart(14);
    console.log(`  ${name.padEnd(40)} ${usd(total).padStart(12)} ${rt}  ${note}`);
  };
  console.log(`  ${''.padEnd(40)} ${'total'.padStart(12)} ${'realtime part'.padStart(14)}`);
  row('outbox-relay, one message per event', off.totalUsd, off.realtimeUsd, '');
  row(
    `outbox-relay, coalescing ${on.effectiveEventsPerMessage.toFixed(1)} events/message`,
    on.totalUsd,
    on.realtimeUsd,
    requested > 1
      ? ''
      : `(what a ${DEFAULT_WINDOW_SECONDS} s batching window gathers per connection at this rate)`,
  );
  for (const alt of off.alternatives) {
    row(`${alt.name} (list price)`, alt.usd, alt.usd, '');
    console.log(`      ${alt.explanation}`);
  }
  console.log(
    '  The hosted services include neither the outbox, ordering and resume, webhooks nor the audit log; data transfer\n' +
      '  out is charged by AWS for AppSync Events too.',
  );
}

function main(argv: string[]): number {
  try {
    const { workload, json } = parseWorkload(argv);
    const report = estimateMonthlyCost(workload, PRICES);
    if (json) {
      const coalesced = estimateMonthlyCost(
        {
          ...workload,
          coalesceEventsPerMessage:
            (workload.coalesceEventsPerMessage ?? 1) > 1
              ? workload.coalesceEventsPerMessage
              : defaultCoalescing(workload),
        },
        PRICES,
      );
      console.log(
        JSON.stringify(
          {
            prices: { region: PRICES.region, checkedOn: PRICES.checkedOn, sources: PRICES.sources },
            report,
            coalesced,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    printReport(report);
    printComparison(workload);
    return 0;
  } catch (error) {
    if (error instanceof InvalidWorkloadError) {
      console.error(`cost: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
