/**
 * (h) Sustained fan-out: 200 events/s on one channel for 60 s through the offline runtime, with 1
 * and then 100 subscribers (same runtime, mappings' concurrency as deployed), each fed two ways:
 * outbox rows (the whole pipeline: stream, publisher, bus) and PutEvents straight onto the bus
 * (the audit and the fan-out alone, so a publisher that cannot keep up locally does not hide
 * whether the fan-out can). Figures per phase: events fanned out per second, the lag of each
 * event's last WebSocket receipt behind its audit (when the audit consumer got it), the lag's
 * maximum and whether it grows over the run (p95 of the first vs the last tenth of the writes),
 * and where the fan-out's time went per event (pre-recording audit writes, subscriber queries,
 * `@connections` posts, attempt records), from wrapping the handlers' ports in this process.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as z from 'zod';
import type { Runtime } from '../../local/runtime.js';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getConnectionsApi } from '../../src/aws/connectionsApi.js';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { getDocumentSender } from '../../src/aws/sdk/dynamo.js';
import { getEventBridgeSender } from '../../src/aws/sdk/eventBridge.js';
import { getSqsSender } from '../../src/aws/sdk/sqs.js';
import { topology } from '../../src/contract/topology.js';
import { BusInjector } from '../lib/busInjector.js';
import { FleetHandle } from '../lib/fleet.js';
import { documentClient, mintToken, nowMs, startBenchRuntime, writeStampedEvent } from '../lib/harness.js';
import { HopTimer } from '../lib/hopTimer.js';
import { paced } from '../lib/pacer.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { percentile } from '../lib/stats.js';

const CHANNEL = 'sustained';
/** Where a phase's events enter: outbox rows (whole pipeline) or PutEvents onto the bus. */
const INPUTS = ['outbox', 'bus'] as const;
type Input = (typeof INPUTS)[number];
const auditBodySchema = z.object({ detail: z.object({ id: z.string() }).loose() }).loose();
const sqsEventSchema = z.object({ Records: z.array(z.object({ body: z.string() })) });

/** Wall time during which at least one call of a kind was running (overlapping calls count once). */
class BusyClock {
  private readonly state = new Map<
    string,
    { inFlight: number; since: number; total: number; calls: number }
  >();

  async time<T>(kind: string, call: () => Promise<T>): Promise<T> {
    const s = this.state.get(kind) ?? { inFlight: 0, since: 0, total: 0, calls: 0 };
    this.state.set(kind, s);
    if (s.inFlight === 0) s.since = performance.now();
    s.inFlight += 1;
    s.calls += 1;
    try {
      return await call();
    } finally {
      s.inFlight -= 1;
      if (s.inFlight === 0) s.total += performance.now() - s.since;
    }
  }

  snapshot(): Map<string, { total: number; calls: number }> {
    return new Map([...this.state].map(([k, v]) => [k, { total: v.total, calls: v.calls }]));
  }

  reset(): void {
    this.state.clear();
  }
}

/**
 * Time the fan-out's port calls. The handlers run in this process and share the repositories'
 * module singletons, so wrapping their methods sees every call; an AsyncLocalStorage set around
 * each invocation tells the fan-out's audit writes from the audit consumer's.
 */
function instrumentFanout(runtime: Runtime, clock: BusyClock): void {
  const current = new AsyncLocalStorage<string>();
  const invoker = runtime.invoker;
  const invoke = invoker.invoke.bind(invoker);
  Object.assign(invoker, {
    invoke: (name: string, event: unknown) =>
      current.run(name, () => clock.time(`${name}.invocation`, () => invoke(name, event))),
  });
  const wrap = <T extends object>(target: T, method: keyof T & string, kind: string): void => {
    const original = Reflect.get(target, method);
    if (typeof original !== 'function') return;
    Reflect.set(target, method, (...args: unknown[]) => {
      const call = () => Promise.resolve(Reflect.apply(original, target, args));
      return current.getStore() === 'fanout' ? clock.time(kind, call) : call();
    });
  };
  // Every SDK call of every handler, by function and command (e.g. `publisher.TransactWriteCommand`).
  for (const sender of [getDocumentSender(), getEventBridgeSender(), getSqsSender()]) {
    const send = sender.send.bind(sender);
    Reflect.set(sender, 'send', (command: { commandName: string }) => {
      const fn = current.getStore();
      const call = () => Reflect.apply(send, sender, [command]) as Promise<unknown>;
      return fn === undefined ? call() : clock.time(`${fn}.sdk.${command.commandName}`, call);
    });
  }
  const audit = getAuditRepository();
  wrap(audit, 'recordEvent', 'fanout.preRecordEvent');
  wrap(audit, 'recordAttempt', 'fanout.recordAttempt');
  wrap(audit, 'recordAttempts', 'fanout.recordAttempts');
  wrap(getConnectionsRepository(), 'findSubscribers', 'fanout.findSubscribers');
  wrap(getConnectionsApi(), 'post', 'fanout.post');
}

export const sustainedScenario: Scenario = {
  name: 'sustained',
  title: '(h) Sustained fan-out: 200 events/s on one channel, 1 and 100 subscribers, lag behind the audit',
  budgetMs: 900_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const rate = Number(process.env.BENCH_SUSTAINED_RATE ?? 200);
    const seconds = Number(process.env.BENCH_SUSTAINED_SECONDS ?? (context.quick ? 10 : 60));
    const subscriberCounts = (process.env.BENCH_SUSTAINED_SUBSCRIBERS ?? '1,100').split(',').map(Number);
    const inputs = (process.env.BENCH_SUSTAINED_INPUTS ?? INPUTS.join(','))
      .split(',')
      .filter((input): input is Input => (INPUTS as readonly string[]).includes(input));
    // Ascending subscriber counts: each phase connects only the clients it adds.
    const phases = subscriberCounts.flatMap((subscribers) => inputs.map((input) => ({ subscribers, input })));
    const events = rate * seconds;
    // When the audit consumer received each event (by envelope id).
    const auditedAt = new Map<string, number>();
    const fanoutRecords: number[] = [];
    const publisherRecords: number[] = [];
    const hops = new HopTimer();
    const runtime = await startBenchRuntime({
      disabledMappings: ['webhookDispatcher', 'webhookDelivery'],
      invocationInterceptor: (fn, event) => {
        hops.interceptor(fn, event);
        if (fn === 'publisher') {
          const records =
            typeof event === 'object' && event !== null ? Reflect.get(event, 'Records') : undefined;
          publisherRecords.push(Array.isArray(records) ? records.length : 0);
        }
        if (fn !== 'audit' && fn !== 'fanout') return;
        const parsed = sqsEventSchema.safeParse(event);
        if (!parsed.success) return;
        if (fn === 'fanout') {
          fanoutRecords.push(parsed.data.Records.length);
          return;
        }
        const at = nowMs();
        for (const record of parsed.data.Records) {
          try {
            const body = auditBodySchema.safeParse(JSON.parse(record.body));
            if (body.success && !auditedAt.has(body.data.detail.id)) auditedAt.set(body.data.detail.id, at);
          } catch {
            // not a bus event
          }
        }
      },
    });
    const clock = new BusyClock();
    instrumentFanout(runtime, clock);
    const fleet = await FleetHandle.start(context.progress);
    const client = documentClient(runtime);
    const bus = new BusInjector(runtime);
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [];
    // A percentile of no samples is NaN, which does not survive the trip to the runner: leave it out.
    const put = (name: string, value: number, unit: string): void => {
      if (Number.isFinite(value)) figures[name] = figure(value, unit);
    };
    try {
      const token = await mintToken(runtime, 'sustained-bench');
      let connected = 0;
      // Warm-up: module loads, shard discovery, first connections.
      await fleet.connect(runtime.endpoints.webSocket, token, CHANNEL, 1, 1);
      connected = 1;
      for (let i = 0; i < 10; i++) await writeStampedEvent(client, runtime, CHANNEL);
      await fleet.waitForEvents(10, 60_000);

      for (const { subscribers, input } of phases) {
        if (subscribers > connected) {
          const more = await fleet.connect(
            runtime.endpoints.webSocket,
            token,
            CHANNEL,
            subscribers - connected,
            50,
          );
          connected = more.connected;
          if (more.failed > 0)
            notes.push(`${more.failed} subscribers failed to connect: ${more.errors.join('; ')}`);
        }
        await runtime.waitForIdle({ timeoutMs: 60_000 }).catch(() => undefined);
        await fleet.reset();
        runtime.gateway.resetStats();
        auditedAt.clear();
        fanoutRecords.length = 0;
        publisherRecords.length = 0;
        clock.reset();
        hops.reset();
        // The whole pipeline's figures keep their old names; the bus-fed ones are prefixed.
        const p = input === 'outbox' ? `s${subscribers}` : `bus.s${subscribers}`;
        const label = `${subscribers} subscriber(s), ${input === 'outbox' ? 'outbox rows' : 'PutEvents onto the bus'}`;
        // Onto the bus 10 events per PutEvents call, as the publisher sends them (one call per
        // event made the bench's own writer, sharing the runtime's event loop, the bottleneck).
        const perWrite = input === 'outbox' ? 1 : 10;
        const writeSome = async (): Promise<string[]> =>
          input === 'outbox'
            ? [await writeStampedEvent(client, runtime, CHANNEL)]
            : bus.put(CHANNEL, perWrite);
        context.progress(`${label}: writing ${events} events at ${rate}/s`);
        const ids: { id: string; sentAt: number }[] = [];
        const t0 = nowMs();
        const written = await paced(
          Math.ceil(events / perWrite),
          rate / perWrite,
          async () => {
            const sentAt = nowMs();
            for (const id of await writeSome()) ids.push({ id, sentAt });
          },
          {
            onProgress: (n) => context.progress(`${n * perWrite} written; ${auditedAt.size} audited`),
          },
        );
        const writeEnd = nowMs();
        const complete = await fleet.waitForEvents(ids.length, 120_000);
        const report = await fleet.report();
        const usage = clock.snapshot();
        ids.sort((a, b) => a.sentAt - b.sentAt);
        const lags: number[] = [];
        const lagBySend: number[] = [];
        let lastReceipt = t0;
        let fanned = 0;
        for (const { id } of ids) {
          const received = report.byEvent[id];
          const audited = auditedAt.get(id);
          if (received && received.count >= connected) fanned += 1;
          if (received) lastReceipt = Math.max(lastReceipt, received.last);
          const lag = received && audited !== undefined ? received.last - audited : Number.NaN;
          lagBySend.push(lag);
          if (Number.isFinite(lag)) lags.push(lag);
        }
        const tenth = Math.max(1, Math.floor(ids.length / 10));
        const early = lagBySend.slice(0, tenth).filter(Number.isFinite);
        const late = lagBySend.slice(-tenth).filter(Number.isFinite);
        put(`${p}.eventsWritten`, ids.length, 'events');
        put(`${p}.writeRate`, written.achievedRate * perWrite, 'events/s');
        put(`${p}.eventsFannedOut`, fanned, 'events');
        put(`${p}.fannedOutPerSecond`, fanned / ((lastReceipt - t0) / 1000), 'events/s');
        put(`${p}.lastReceiptAfterLastWrite`, lastReceipt - writeEnd, 'ms');
        put(`${p}.lagBehindAudit.p50`, percentile(lags, 50), 'ms');
        put(`${p}.lagBehindAudit.p99`, percentile(lags, 99), 'ms');
        put(`${p}.lagBehindAudit.max`, percentile(lags, 100), 'ms');
        put(`${p}.lagBehindAudit.firstTenthP95`, percentile(early, 95), 'ms');
        put(`${p}.lagBehindAudit.lastTenthP95`, percentile(late, 95), 'ms');
        put(`${p}.latency.p50`, percentile(report.latencies, 50), 'ms');
        put(`${p}.latency.p99`, percentile(report.latencies, 99), 'ms');
        put(
          `${p}.messagesPerEventPerSubscriber`,
          report.eventMessages / Math.max(1, report.eventsReceived),
          'messages',
        );
        put(`${p}.duplicates`, report.duplicates, 'events');
        put(`${p}.fanoutInvocations`, fanoutRecords.length, 'invocations');
        put(
          `${p}.fanoutRecordsPerInvocation`,
          fanoutRecords.reduce((s, n) => s + n, 0) / Math.max(1, fanoutRecords.length),
          'records',
        );
        put(`${p}.publisherInvocations`, publisherRecords.length, 'invocations');
        put(
          `${p}.publisherRecordsPerInvocation`,
          publisherRecords.reduce((s, n) => s + n, 0) / Math.max(1, publisherRecords.length),
          'records',
        );
        // Where the time goes upstream: how long after the write each record reached each handler.
        for (const [fn, samples] of hops.samples) {
          put(`${p}.hop.${fn}.p50`, percentile(samples, 50), 'ms after write');
          put(`${p}.hop.${fn}.p99`, percentile(samples, 99), 'ms after write');
        }
        // Busy wall time per event fanned out (overlapping calls of one kind count once).
        for (const [kind, { total, calls }] of usage) {
          put(`${p}.${kind}.busyMsPerEvent`, total / Math.max(1, ids.length), 'ms/event');
          put(`${p}.${kind}.calls`, calls, 'calls');
        }
        if (!complete)
          notes.push(`${label}: not every event reached every client within 120 s of the last write.`);
        if (written.failed > 0) notes.push(`${written.failed} writes failed: ${written.errors.join('; ')}`);
        context.progress(
          `${label}: ${fanned}/${ids.length} fanned out, ${(fanned / ((lastReceipt - t0) / 1000)).toFixed(0)}/s, lag max ${percentile(lags, 100).toFixed(0)} ms (first tenth p95 ${percentile(early, 95).toFixed(0)}, last tenth ${percentile(late, 95).toFixed(0)})`,
        );
      }
      const fanoutMapping = topology.queueMappings.find((m) => m.function === 'fanout');
      notes.push(
        `${rate} events/s for ${seconds} s to one channel per phase (subscribers: ${subscriberCounts.join(', ')}; inputs: ${inputs.join(', ')}). sN.*: outbox rows written with appendToOutbox, the full pipeline (stream → publisher → bus → audit and fan-out queues); bus.sN.*: PutEvents of 10 events onto the bus (audit and fan-out queues only); fan-out mapping batch ${fanoutMapping?.batchSize}, window ${fanoutMapping?.maxBatchingWindowSeconds} s, ${fanoutMapping?.maxConcurrency} batches at a time (as deployed).`,
        'lagBehindAudit = last WebSocket receipt of an event − when the audit consumer received it. firstTenth/lastTenth: p95 of that lag over the first and last tenth of the writes (growth = falling behind). busyMsPerEvent: wall time during which at least one call of that kind was running, divided by events written.',
      );
      return { figures, notes };
    } finally {
      client.destroy();
      bus.destroy();
      await fleet.close();
      await runtime.stop();
    }
  },
};
