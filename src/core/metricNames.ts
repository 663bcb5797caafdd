/**
 * Names of the custom metrics the handlers emit (EMF, via `src/aws/telemetry.ts`) and the
 * dashboard and alarms in `lib/Monitoring.ts` read. One module so the two cannot drift: a handler
 * emits `telemetry.metrics.addMetric(METRIC.webhookDelivered, MetricUnit.Count, 1)`, the stack
 * graphs and alarms on the same name. Pure constants: no AWS imports.
 *
 * Dimensions: Powertools adds one dimension, `service`, whose value is the service name given to
 * `getTelemetry(service)`. Use the function's topology name (`METRIC_SERVICE.publisher` =
 * `'publisher'`, ...) so the stack can address each function's metrics; add no other dimensions
 * to these metrics (CloudWatch treats every dimension combination as a separate metric).
 */

/** CloudWatch namespace of every custom metric. */
export const METRICS_NAMESPACE = 'OutboxRelay';

/** The dimension Powertools sets from the service name. */
export const METRIC_SERVICE_DIMENSION = 'service';

/** Service names (= topology function names) that the handlers pass to `getTelemetry`. */
export const METRIC_SERVICE = {
  publisher: 'publisher',
  audit: 'audit',
  wsAuthorizer: 'wsAuthorizer',
  wsConnect: 'wsConnect',
  wsDisconnect: 'wsDisconnect',
  wsMessage: 'wsMessage',
  fanout: 'fanout',
  webhookDispatcher: 'webhookDispatcher',
  webhookDelivery: 'webhookDelivery',
  webhookApi: 'webhookApi',
} as const;

/** Metric names, grouped by the service that emits them. Units in the comment. */
export const METRIC = {
  // publisher
  /** Count: envelopes accepted by PutEvents. */
  eventsPublished: 'EventsPublished',
  /** Count: records sent to quarantine (invalid row, permanent PutEvents error, oversize). */
  eventsQuarantined: 'EventsQuarantined',
  /** Count: entries re-sent after a retryable PutEvents failure. */
  putEventsRetries: 'PutEventsRetries',
  // audit
  /** Count: event records written (duplicates excluded). */
  auditRecorded: 'AuditRecorded',
  // fan-out
  /** Count: subscribers found for an event (one data point per event). */
  fanoutSubscribers: 'FanoutSubscribers',
  /** Count: messages delivered through `@connections`. */
  fanoutDelivered: 'FanoutDelivered',
  /** Count: connections found gone (410) and removed. */
  fanoutGone: 'FanoutGone',
  /** Count: messages that failed after the in-process retries. */
  fanoutFailed: 'FanoutFailed',
  /** Count: events replaced by a `refresh` frame (too large). */
  fanoutRefreshed: 'FanoutRefreshed',
  /** Count: WebSocket messages posted (a coalesced message carries several events). */
  fanoutMessages: 'FanoutMessages',
  /** Count: `@connections` calls made, in-process retries included. */
  fanoutPosts: 'FanoutPosts',
  /** Count: shard chunks of a wide fan-out put on the fan-out queue for other invocations. */
  fanoutChunks: 'FanoutChunks',
  /** Count: fan-out queue messages that are not a fan-out message, parked in the fan-out DLQ. */
  fanoutQuarantined: 'FanoutQuarantined',
  /** Count: per-subject records left unwritten because the invocation was near its timeout. */
  fanoutSubjectRecordsSkipped: 'FanoutSubjectRecordsSkipped',
  // resume (wsMessage)
  /** Count: resume requests. */
  resumeRequests: 'ResumeRequests',
  /** Count: events replayed by resume. */
  resumeReplayed: 'ResumeReplayed',
  // webhooks
  /** Count: delivery messages created by the dispatcher (one per event and matching endpoint). */
  webhookDispatched: 'WebhookDispatched',
  /** Count: attempts answered 2xx. */
  webhookDelivered: 'WebhookDelivered',
  /** Count: failed attempts that were scheduled for a retry. */
  webhookRetried: 'WebhookRetried',
  /** Count: failed attempts (any non-2xx, timeout, connection error or refusal), retried or not. */
  webhookFailed: 'WebhookFailed',
  /** Count: deliveries given up and moved to the webhook DLQ. */
  webhookDeadLettered: 'WebhookDeadLettered',
  /** Count: deliveries deferred, unsent, because their endpoint's circuit is open (src/core/webhookCircuit.ts). */
  webhookDeferred: 'WebhookDeferred',
  /** Count: endpoints disabled (410 Gone or a long failure streak). */
  webhookEndpointDisabled: 'WebhookEndpointDisabled',
  // every delivery path
  /** Milliseconds: event time → delivered (WebSocket message posted or webhook 2xx). */
  endToEndLag: 'EndToEndLag',
  // tenant isolation (last line: src/core/foreignItems.ts)
  /** Count: items a key lookup returned whose stored tenant/channel differ from the ones asked for; dropped, never delivered. */
  foreignItemsDropped: 'ForeignItemsDropped',
  // producer (the application's process; service `producer`)
  /** Count: synthetic events (`emitSyntheticEvent`) that could not be appended, refused or failed. */
  syntheticEventFailures: 'SyntheticEventFailures',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
