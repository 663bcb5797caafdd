/**
 * (d) Fan-out: one event to 1,000 and to 10,000 connected, subscribed clients through the
 * `@connections` path (the fan-out handler: subscriber query, then one PostToConnection per
 * client over HTTP with the real SDK client) against the floor (the same frame sent straight on
 * the gateway's `ws` server), as a ratio. (f) Memory: peak RSS of the runtime's process (and of
 * the DynamoDB Local JVM) during the run.
 *
 * The clients live in a child process (bench/lib/clientFleet.ts): its own file-descriptor table
 * (20,000 here) and the second core, so 10,000 client sockets plus 10,000 gateway sockets fit
 * without raising any limit.
 */
import { Agent } from 'node:http';
import { mapWithConcurrency } from '../../src/core/concurrency.js';
import { serializeFrame } from '../../src/core/frames.js';
import { busEventBody, sqsEvent, stampedEnvelope } from '../lib/busEvents.js';
import { callerCost, rawPoster } from '../lib/callerCost.js';
import { FleetHandle } from '../lib/fleet.js';
import { mintToken, nowMs, RssSampler, startBenchRuntime } from '../lib/harness.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { median } from '../lib/stats.js';

const CHANNEL = 'fanout';
const REPEATS = 3;

interface Measured {
  readonly pathMs: number;
  readonly pathHandlerMs: number;
  readonly rawHttpMs: number;
  readonly rawSignedHttpMs: number;
  readonly floorMs: number;
}

/**
 * The HTTP `@connections` cost alone: one keep-alive POST per connection, 50 in flight, no SDK, no
 * handler; unsigned, or SigV4-signed as every call to AWS must be.
 */
async function rawHttpBroadcast(
  managementEndpoint: string,
  connectionIds: readonly string[],
  body: string,
  signed: boolean,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  try {
    const post = rawPoster(managementEndpoint, signed, agent);
    await mapWithConcurrency(connectionIds, 50, (id) => post(id, body));
  } finally {
    agent.destroy();
  }
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  title: '(d) Fan-out to 1,000 / 10,000 clients vs direct broadcast, (f) peak RSS',
  budgetMs: 300_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const started = Date.now();
    const sizes = context.quick ? [100, 500] : [1_000, 10_000];
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [];
    const rss = new RssSampler();
    const runtime = await startBenchRuntime({
      // The scenario invokes the fan-out itself; nothing else should compete for the core.
      disabledMappings: ['audit', 'webhookDispatcher', 'webhookDelivery'],
    });
    const fleet = await FleetHandle.start(context.progress);
    try {
      const token = await mintToken(runtime, 'fanout-bench');
      let connected = 0;
      const measure = async (clients: number): Promise<Measured> => {
        const path: number[] = [];
        const pathHandler: number[] = [];
        const rawHttp: number[] = [];
        const rawSignedHttp: number[] = [];
        const floor: number[] = [];
        for (let i = 0; i < REPEATS; i++) {
          // Through @connections: the fan-out handler with one event, as its queue mapping would call it.
          await fleet.reset();
          const envelope = stampedEnvelope(CHANNEL);
          const t0 = nowMs();
          await runtime.invoke('fanout', sqsEvent([busEventBody(envelope)]));
          const handlerDone = nowMs();
          if (!(await fleet.waitForEvents(1, 120_000)))
            throw new Error(`not every client got the @connections event (${clients})`);
          const report = await fleet.report();
          const receipt = report.byEvent[envelope.id];
          if (!receipt || receipt.count !== clients)
            throw new Error(`@connections reached ${receipt?.count ?? 0} of ${clients}`);
          path.push(receipt.last - t0);
          pathHandler.push(handlerDone - t0);

          // In between: the same number of @connections POSTs over raw keep-alive HTTP (no SDK, no
          // handler work), unsigned and signed.
          for (const signed of [false, true]) {
            await fleet.reset();
            const viaHttp = stampedEnvelope(CHANNEL);
            const h0 = nowMs();
            await rawHttpBroadcast(
              runtime.endpoints.managementApi,
              runtime.gateway.connectionIds(),
              serializeFrame({ type: 'event', event: viaHttp }),
              signed,
            );
            if (!(await fleet.waitForEvents(1, 120_000)))
              throw new Error(`not every client got the raw HTTP broadcast (${clients})`);
            const httpReceipt = (await fleet.report()).byEvent[viaHttp.id];
            if (!httpReceipt || httpReceipt.count !== clients)
              throw new Error(`raw HTTP reached ${httpReceipt?.count ?? 0} of ${clients}`);
            (signed ? rawSignedHttp : rawHttp).push(httpReceipt.last - h0);
          }

          // The floor: the same frame, straight on the gateway's ws server.
          await fleet.reset();
          const direct = stampedEnvelope(CHANNEL);
          const f0 = nowMs();
          await runtime.gateway.broadcastDirect(serializeFrame({ type: 'event', event: direct }));
          if (!(await fleet.waitForEvents(1, 120_000)))
            throw new Error(`not every client got the direct broadcast (${clients})`);
          const floorReceipt = (await fleet.report()).byEvent[direct.id];
          if (!floorReceipt || floorReceipt.count !== clients)
            throw new Error(`direct reached ${floorReceipt?.count ?? 0} of ${clients}`);
          floor.push(floorReceipt.last - f0);
          context.progress(
            `${clients} clients, run ${i + 1}: @connections ${path.at(-1)?.toFixed(0)} ms (handler ${pathHandler.at(-1)?.toFixed(0)} ms), raw HTTP ${rawHttp.at(-1)?.toFixed(0)} ms (signed ${rawSignedHttp.at(-1)?.toFixed(0)} ms), direct ${floor.at(-1)?.toFixed(0)} ms`,
          );
        }
        return {
          pathMs: median(path),
          pathHandlerMs: median(pathHandler),
          rawHttpMs: median(rawHttp),
          rawSignedHttpMs: median(rawSignedHttp),
          floorMs: median(floor),
        };
      };

      let connectRate = 0;
      for (const requested of sizes) {
        let size = requested;
        // Connecting is setup, not the measurement: shrink the size if the rate seen so far cannot reach it in time.
        const remainingSeconds = (context.budgetMs - (Date.now() - started)) / 1000;
        if (connectRate > 0 && (size - connected) / connectRate > remainingSeconds * 0.6) {
          size = Math.max(
            connected,
            Math.floor((connected + connectRate * remainingSeconds * 0.6) / 500) * 500,
          );
          notes.push(
            `Measured ${size} clients instead of ${requested}: clients connected at ${connectRate.toFixed(0)}/s on this machine, too slow to reach ${requested} within the scenario's budget.`,
          );
          if (size <= connected) continue;
        }
        const connectStarted = Date.now();
        const before = connected;
        const result = await fleet.connect(
          runtime.endpoints.webSocket,
          token,
          CHANNEL,
          size - connected,
          100,
        );
        connected = result.connected;
        if (result.failed > 0)
          notes.push(`${result.failed} of ${size} clients failed to connect: ${result.errors.join('; ')}`);
        const connectSeconds = (Date.now() - connectStarted) / 1000;
        connectRate = (connected - before) / connectSeconds;
        context.progress(`${connected} clients connected and subscribed (${connectSeconds.toFixed(1)} s)`);
        figures[`connectRate.${size}`] = figure(
          connectRate,
          'connects/s (authorizer + $connect + subscribe)',
        );
        if (Date.now() - started > context.budgetMs * 0.8) {
          notes.push(
            `Stopped before measuring ${size} clients: the scenario's budget ran out while connecting.`,
          );
          break;
        }
        const m = await measure(connected);
        figures[`path.${connected}.ms`] = figure(m.pathMs, 'ms');
        figures[`path.${connected}.handlerMs`] = figure(m.pathHandlerMs, 'ms');
        figures[`rawHttp.${connected}.ms`] = figure(m.rawHttpMs, 'ms');
        figures[`rawSignedHttp.${connected}.ms`] = figure(m.rawSignedHttpMs, 'ms');
        figures[`pathOverRawHttp.${connected}`] = figure(m.pathMs / m.rawHttpMs, '× raw unsigned POSTs');
        figures[`pathOverRawSignedHttp.${connected}`] = figure(
          m.pathMs / m.rawSignedHttpMs,
          '× raw signed POSTs',
        );
        figures[`floor.${connected}.ms`] = figure(m.floorMs, 'ms');
        figures[`rawHttpRatio.${connected}`] = figure(m.rawHttpMs / m.floorMs, '× floor');
        figures[`ratio.${connected}`] = figure(m.pathMs / m.floorMs, '× floor');
        figures[`throughput.${connected}`] = figure(
          connected / (m.pathMs / 1000),
          'messages/s via @connections',
        );
      }
      const calls = context.quick ? 1_000 : 5_000;
      const cost = await callerCost(
        calls,
        serializeFrame({ type: 'event', event: stampedEnvelope(CHANNEL) }),
      );
      const labels = {
        sdk: 'SDK client',
        signed: 'signed keep-alive client (the fan-out)',
        rawSigned: 'raw keep-alive POST, signed',
        raw: 'raw keep-alive POST, unsigned',
      } as const;
      for (const [variant, label] of Object.entries(labels)) {
        const key = variant as keyof typeof labels;
        figures[`callerCost.${key}CpuPerCall`] = figure(
          cost.cpuUsPerCall[key],
          `µs of caller CPU per post (${label})`,
        );
        figures[`callerCost.${key}WallPerCall`] = figure(
          cost.wallUsPerCall[key],
          `µs wall per post at 50 in flight (${label})`,
        );
      }
      figures['callerCost.signedCpuRatio'] = figure(
        cost.cpuUsPerCall.signed / cost.cpuUsPerCall.rawSigned,
        '× raw signed POST (caller CPU)',
      );
      figures['callerCost.signedCpuRatioUnsigned'] = figure(
        cost.cpuUsPerCall.signed / cost.cpuUsPerCall.raw,
        '× raw unsigned POST (caller CPU)',
      );
      context.progress(
        `caller CPU per post (median of ${cost.rounds} rounds of ${calls}): SDK ${cost.cpuUsPerCall.sdk.toFixed(0)} µs, signed ${cost.cpuUsPerCall.signed.toFixed(0)} µs, raw signed ${cost.cpuUsPerCall.rawSigned.toFixed(0)} µs, raw ${cost.cpuUsPerCall.raw.toFixed(0)} µs`,
      );
      const stats = runtime.gateway.stats();
      figures.postCalls = figure(stats.postCalls, 'calls');
      figures.gone = figure(stats.gone, 'calls');
      figures.errors = figure(stats.errors, 'calls');
      notes.push(
        `Median of ${REPEATS} runs per size. path = fan-out handler invoked with one event (audit check, subscriber query, one signed keep-alive POST to @connections per client) until the last client's receipt; above FANOUT_CHUNK_THRESHOLD (2,000) subscribers the handler delivers one shard and enqueues a chunk per other shard, which the runtime's fan-out poller hands over (different shards in parallel) in this process (handlerMs covers the first invocation only); rawHttp / rawSignedHttp = the same POSTs to @connections over keep-alive HTTP from this process (50 in flight, no subscriber query, no audit), unsigned / SigV4-signed; floor = gateway.broadcastDirect of the same frame until the last receipt. Targets: path ≤ 1.5 × raw POSTs at 10,000 clients (pathOverRawHttp, pathOverRawSignedHttp).`,
        'Clients run in a child process (bench/lib/clientFleet.ts); runtime, gateway and handler share this process’s one event loop, as they do in `npm start`.',
        'callerCost = the caller’s CPU for one @connections post (bench/lib/callerCost.ts): the fan-out port with the SDK client, the same port with the lean SigV4-signed keep-alive client (the deployed hot path), a raw keep-alive POST signed with the same signer, and a raw unsigned one; a stub server in a child process answers 200 at once, 50 in flight, variants take turns over 5 rounds and the median round counts. Target: signed ≤ 2 × raw signed POST.',
      );
      return { figures, notes };
    } finally {
      await fleet.close();
      await runtime.stop();
      const peak = rss.stop();
      figures.peakRssRuntimeProcess = figure(peak.nodePeakBytes / 1024 / 1024, 'MiB');
      figures.peakRssDynamoDbLocalJvm = figure(peak.jvmPeakBytes / 1024 / 1024, 'MiB');
    }
  },
};
