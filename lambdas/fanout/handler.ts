/**
 * WebSocket fan-out, fed by the fan-out queue (bus rule → SQS → this mapping, partial batch
 * responses). One invocation coalesces its batch's events per connection (src/core/fanoutPlan.ts),
 * retries per connection, prunes gone connections and writes one audit attempt per event; a wide
 * fan-out is split into subscription-shard chunks that other invocations deliver in parallel
 * (src/core/fanoutChunk.ts), each auditing its shard. The retry limit and back-off of a targeted
 * delivery are src/core/targetedRetry.ts; what each audit record says is src/core/fanoutAttempts.ts.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getConnectionsApi } from '../../src/aws/connectionsApi.js';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { recordFanoutMetrics } from '../../src/aws/deliveryMetrics.js';
import { getFanoutQueue } from '../../src/aws/fanoutQueue.js';
import { batchResponse, parseSqsRecords, sqsRecordSchema } from '../../src/aws/sqsBatch.js';
import { getTelemetry, instrumentHandler, MetricUnit } from '../../src/aws/telemetry.js';
import type { SubjectRecord } from '../../src/core/auditRecord.js';
import { mapWithConcurrency } from '../../src/core/concurrency.js';
import type { Envelope } from '../../src/core/envelope.js';
import { errorText, summaryAttempt, targetedAttempt } from '../../src/core/fanoutAttempts.js';
import type { FanoutChunk } from '../../src/core/fanoutChunk.js';
import { deliverTargeted, type FanoutResult, fanOut } from '../../src/core/fanoutDelivery.js';
import { parseFanoutMessage } from '../../src/core/fanoutMessages.js';
import { eventKeyOf } from '../../src/core/fanoutPlan.js';
import { fanoutSettingsFromEnv } from '../../src/core/fanoutSettings.js';
import {
  connectionsToName,
  DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS,
  fanoutSubjectRecords,
  subjectRecordsMode,
  targetedSubjectRecords,
} from '../../src/core/fanoutSubjects.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { summaryKeyOf, summarySubjectsByEvent } from '../../src/core/subjectItems.js';
import { SUBSCRIPTION_SHARDS } from '../../src/core/subscriptions.js';
import type { TargetedDelivery } from '../../src/core/targetedDelivery.js';
import { targetedRetryDecision } from '../../src/core/targetedRetry.js';
import { workDeadline } from '../../src/core/workDeadline.js';

// One `@connections` call per subscriber: tracing each as a subsegment would dwarf the trace.
const telemetry = getTelemetry(METRIC_SERVICE.fanout, { traceHttpCalls: false });

/** Chunk shards delivered at once by one invocation: each posts with FANOUT_CONCURRENCY in flight, as separate invocations would. */
const CHUNK_SHARDS_IN_PARALLEL = SUBSCRIPTION_SHARDS;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the fan-out needs of the Lambda context: how long the invocation has left. */
type RemainingTime = Pick<Context, 'getRemainingTimeInMillis'>;

async function fanoutHandler(event: unknown, context?: RemainingTime): Promise<SQSBatchResponse> {
  const records = parseSqsRecords(event, sqsRecordSchema);
  const settings = fanoutSettingsFromEnv(process.env);
  const queue = getFanoutQueue();
  const audit = getAuditRepository();
  const connections = getConnectionsRepository();
  const api = getConnectionsApi();
  const { metrics, logger } = telemetry;
  const failures = new Set<string>();
  // Work that can wait (per-subject records, events not yet pre-recorded) does not start after
  // this: an invocation killed at its timeout settles nothing, and its whole batch comes back.
  const stopAt = workDeadline(context?.getRemainingTimeInMillis(), Date.now());

  const envelopes: Envelope[] = [];
  const recordsByEvent = new Map<string, string[]>();
  const targeted: { messageId: string; delivery: TargetedDelivery }[] = [];
  const chunks: { messageId: string; chunk: FanoutChunk }[] = [];
  for (const record of records) {
    const message = parseFanoutMessage(record.body);
    if (message.kind === 'event') {
      envelopes.push(message.envelope);
      const key = eventKeyOf(message.envelope);
      recordsByEvent.set(key, [...(recordsByEvent.get(key) ?? []), record.messageId]);
    } else if (message.kind === 'targeted') {
      targeted.push({ messageId: record.messageId, delivery: message.delivery });
    } else if (message.kind === 'chunk') {
      chunks.push({ messageId: record.messageId, chunk: message.chunk });
    } else {
      logger.warn('poison message quarantined', { messageId: record.messageId, reason: message.reason });
      metrics.addMetric(METRIC.fanoutQuarantined, MetricUnit.Count, 1);
      await queue
        .quarantine(record.body, message.reason, message.detail)
        .catch(() => failures.add(record.messageId));
    }
  }

  const goneSubjects = new Map<string, { tenantId: string; subject: string }>();
  const ports = {
    findSubscribers: (tenantId: string, channel: string, shard?: number) =>
      connections.findSubscribers(tenantId, channel, shard),
    post: (connectionId: string, body: string) => api.post(connectionId, body),
    deleteConnection: async (connectionId: string) => {
      // Keep the subject of a gone connection for its per-subject `gone` record.
      const record = await connections.getConnection(connectionId).catch(() => undefined);
      if (record) goneSubjects.set(connectionId, { tenantId: record.tenantId, subject: record.subject });
      await connections.deleteConnection(connectionId);
    },
    enqueueRetry: (delivery: TargetedDelivery) => queue.enqueueTargeted(delivery, 1),
    enqueueChunk: (chunk: FanoutChunk) => queue.enqueueChunk(chunk),
    sleep,
  };

  type Owners = Map<string, { tenantId: string; subject: string }>;

  /**
   * Who each delivered-to connection belongs to, read right after the posts: a client that got
   * the message may `$disconnect` at once, and its connection record (the subject) goes with it.
   */
  const lookUpSubjects = async (result: FanoutResult, maxSubjects: number): Promise<Owners | undefined> => {
    const named = connectionsToName(result, maxSubjects);
    if (named.length === 0) return undefined;
    const subjects = await connections.subjectsOf(named.filter((id) => !goneSubjects.has(id)));
    for (const [id, owner] of goneSubjects) subjects.set(id, owner);
    return subjects;
  };

  /** Per-subject records of one fan-out (empty if its subjects could not be read: logged, never redelivers). */
  const subjectRecordsOf = async (
    result: FanoutResult,
    events: readonly Envelope[],
    maxSubjects: number,
    at: Date,
  ): Promise<SubjectRecord[]> => {
    try {
      const subjects = await lookUpSubjects(result, maxSubjects);
      return subjects ? fanoutSubjectRecords(result, events, subjects, maxSubjects, at) : [];
    } catch (error) {
      logger.error('could not record fan-out per subject', { error });
      return [];
    }
  };

  /** Write per-subject records; a failure is logged, never redelivers (the summary still says what happened). */
  const recordSubjects = async (
    records: readonly SubjectRecord[],
    events: readonly Envelope[],
    digests: boolean,
  ): Promise<void> => {
    if (records.length === 0) return;
    try {
      const { skipped } = await audit.recordSubjects(records, { until: stopAt, digests });
      if (skipped > 0) {
        logger.warn('per-subject records cut short: the invocation is near its timeout', {
          skipped,
          of: records.length,
          eventIds: events.map((event) => event.id),
        });
        metrics.addMetric(METRIC.fanoutSubjectRecordsSkipped, MetricUnit.Count, skipped);
      }
    } catch (error) {
      logger.error('could not record fan-out per subject', { error });
    }
  };

  /** Fan out (all shards, or a chunk's one) and audit the summaries; returns the events to redeliver (`eventKeyOf`). */
  const deliver = async (
    events: readonly Envelope[],
    scope: { shard?: number },
  ): Promise<Iterable<string>> => {
    const startedAt = new Date();
    try {
      const result = await fanOut(events, ports, settings, scope);
      metrics.addMetric(METRIC.fanoutMessages, MetricUnit.Count, result.messagesDelivered);
      metrics.addMetric(METRIC.fanoutPosts, MetricUnit.Count, result.posts);
      metrics.addMetric(METRIC.fanoutGone, MetricUnit.Count, result.prunedConnections.length);
      if (result.chunksEnqueued > 0)
        metrics.addMetric(METRIC.fanoutChunks, MetricUnit.Count, result.chunksEnqueued);
      recordFanoutMetrics(metrics, result.summaries, [...events]);
      const durationMs = Date.now() - startedAt.getTime();
      const maxSubjects = settings.subjectRecordsMaxSubscribers ?? DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS;
      // Whose connections these were, read right after the posts (before a $disconnect drops it).
      const records = await subjectRecordsOf(result, events, maxSubjects, startedAt);
      // Each summary carries its event's subjects (at most 100), in place of a digest: one write per event fewer.
      const carried = summarySubjectsByEvent(records);
      // One BatchWrite per 25 summaries: per-event puts were a third of a fan-out's time per event.
      const summariesWritten = await audit
        .recordAttempts(
          result.summaries.map((summary) => ({
            tenantId: summary.tenantId,
            eventId: summary.eventId,
            attempt: summaryAttempt(
              summary,
              startedAt,
              durationMs,
              subjectRecordsMode(summary, maxSubjects),
              carried?.get(summaryKeyOf(summary.tenantId, summary.eventId)),
            ),
          })),
        )
        .then(
          () => true,
          (error: unknown) => {
            logger.error('could not record fan-out attempts', {
              eventIds: result.summaries.map((summary) => summary.eventId),
              error,
            });
            return false;
          },
        );
      // Written after the summaries: when time runs short, the per-event record matters more. If
      // the summaries were not written, the digests carry the events' subjects after all.
      await recordSubjects(records, events, !(summariesWritten && carried));
      return result.unqueuedEventKeys;
    } catch (error) {
      // Subscribers could not be read or chunks not enqueued: nothing was posted, so every event is retried.
      logger.error('fan-out failed', { error });
      return events.map(eventKeyOf);
    }
  };

  if (envelopes.length > 0) {
    // Record the event before delivering it: a client resuming after this point finds it in the
    // audit table even if the audit consumer lags, so subscribe-then-replay has no gap. An event
    // that could not be recorded is not delivered now (its message is retried): delivering it
    // unrecorded could reach a client that then resumes past it while the audit lacks it.
    // Most events are recorded by the audit consumer first: one consistent BatchGet per 100 finds
    // those, and only the rest cost a conditional put (idempotent per event, not batchable; 25 at
    // a time keeps 100 at four round trips).
    const alreadyRecorded = new Set(
      await audit.recordedAmong(envelopes).catch((error: unknown) => {
        logger.warn('could not look up which events are audited; recording each', { error });
        return [];
      }),
    );
    let leftForLater = 0;
    const recorded = await mapWithConcurrency(envelopes, 25, (envelope) => {
      if (alreadyRecorded.has(envelope)) return Promise.resolve(true);
      if (Date.now() >= stopAt) {
        leftForLater += 1;
        return Promise.resolve(false);
      }
      return audit.recordEvent(envelope).then(
        () => true,
        (error: unknown) => {
          logger.warn('could not pre-record event; its delivery is retried', {
            eventId: envelope.id,
            error,
          });
          return false;
        },
      );
    });
    if (leftForLater > 0)
      logger.warn('invocation near its timeout: events left for redelivery', { events: leftForLater });
    const deliverable = envelopes.filter((envelope, i) => {
      if (recorded[i]) return true;
      for (const messageId of recordsByEvent.get(eventKeyOf(envelope)) ?? []) failures.add(messageId);
      return false;
    });
    if (deliverable.length > 0)
      for (const id of await deliver(deliverable, {}))
        for (const messageId of recordsByEvent.get(id) ?? []) failures.add(messageId);
  }

  // Chunks of wide fan-outs (already pre-recorded by the invocation that split them), one shard
  // each. A split enqueues its chunks at the same moment, so they tend to arrive in one batch:
  // delivered one after another they would take as long as the unsplit fan-out. Different shards
  // reach different connections, so they go in parallel; one shard's chunks stay in order.
  const chunksByShard = new Map<number, { messageId: string; chunk: FanoutChunk }[]>();
  for (const entry of chunks) {
    const queued = chunksByShard.get(entry.chunk.shard) ?? [];
    queued.push(entry);
    chunksByShard.set(entry.chunk.shard, queued);
  }
  await mapWithConcurrency([...chunksByShard.values()], CHUNK_SHARDS_IN_PARALLEL, async (shardChunks) => {
    for (const { messageId, chunk } of shardChunks) {
      const redeliver = [...(await deliver(chunk.events, { shard: chunk.shard }))];
      if (redeliver.length > 0) failures.add(messageId);
    }
  });

  await mapWithConcurrency(targeted, settings.concurrency, async ({ messageId, delivery }) => {
    const startedAt = new Date();
    const outcome = await deliverTargeted(delivery, ports, settings);
    const durationMs = Date.now() - startedAt.getTime();
    let disposition: 'retried' | 'dead-lettered' | undefined;
    if (outcome.kind === 'failed') {
      const decision = targetedRetryDecision(outcome.remaining.attempt);
      try {
        if (decision.kind === 'dead-letter') {
          const detail = errorText(outcome.error);
          await queue.quarantine(JSON.stringify(outcome.remaining), 'delivery_exhausted', detail);
          disposition = 'dead-lettered';
        } else {
          await queue.enqueueTargeted(outcome.remaining, decision.delaySeconds);
          disposition = 'retried';
        }
      } catch {
        failures.add(messageId); // SQS redelivers the targeted delivery as it was
        return;
      }
    }
    const attempt = targetedAttempt(delivery, outcome, disposition, startedAt, durationMs);
    await mapWithConcurrency(delivery.events, 10, (e) =>
      audit.recordAttempt(e.tenantId, e.id, { ...attempt, tenantId: e.tenantId }).catch(() => undefined),
    );
    try {
      const owner = (await connections.subjectsOf([delivery.connectionId])).get(delivery.connectionId);
      if (owner) await audit.recordSubjects(targetedSubjectRecords(delivery, owner, outcome.kind, startedAt));
    } catch (error) {
      logger.error('could not record a targeted delivery per subject', { error });
    }
  });

  return batchResponse(failures);
}

export const handler = instrumentHandler(telemetry, fanoutHandler);
