/**
 * `npx tsx bench/callerCost.ts [calls] [rounds]`: the caller's CPU for one `@connections` post
 * alone (SDK client, the fan-out's signed keep-alive client, raw signed and raw unsigned
 * keep-alive POSTs) against a stub server in a child process, without the rest of the fan-out
 * scenario; prints the medians and the machine's load.
 */
import { loadavg } from 'node:os';
import { serializeFrame } from '../src/core/frames.js';
import { stampedEnvelope } from './lib/busEvents.js';
import { CALLER_COST_VARIANTS, callerCost } from './lib/callerCost.js';

const calls = Number(process.argv[2] ?? 5_000);
const rounds = Number(process.argv[3] ?? 5);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const loadBefore = load();
const cost = await callerCost(
  calls,
  serializeFrame({ type: 'event', event: stampedEnvelope('fanout') }),
  rounds,
);
for (const variant of CALLER_COST_VARIANTS) {
  console.log(
    `${variant.padEnd(10)} ${cost.cpuUsPerCall[variant].toFixed(0).padStart(6)} µs CPU  ${cost.wallUsPerCall[variant].toFixed(0).padStart(6)} µs wall per post`,
  );
}
console.log(
  `signed ÷ raw signed ${(cost.cpuUsPerCall.signed / cost.cpuUsPerCall.rawSigned).toFixed(2)}, signed ÷ raw unsigned ${(cost.cpuUsPerCall.signed / cost.cpuUsPerCall.raw).toFixed(2)}, SDK ÷ raw signed ${(cost.cpuUsPerCall.sdk / cost.cpuUsPerCall.rawSigned).toFixed(2)} (caller CPU, median of ${rounds} rounds of ${calls}); load ${loadBefore} → ${load()}`,
);
