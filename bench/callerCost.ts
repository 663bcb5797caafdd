/**
 * `npx tsx bench/callerCost.ts [calls]`: the caller's side of one `@connections` call alone (SDK
 * client, lean signed client, raw POST) against a stub server, without the rest of the fan-out
 * scenario; three runs, with the machine's load.
 */
import { loadavg } from 'node:os';
import { callerCost } from './scenarios/fanout.js';

const calls = Number(process.argv[2] ?? 10_000);
for (let run = 1; run <= 3; run++) {
  const cost = await callerCost(calls);
  const per = (ms: number) => ((ms * 1000) / calls).toFixed(0);
  console.log(
    `run ${run}: ${calls} calls, µs per call: SDK ${per(cost.sdkMs)}, signed ${per(cost.signedMs)}, raw ${per(cost.rawMs)}; signed ÷ raw ${(cost.signedMs / cost.rawMs).toFixed(2)}; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}
