/**
 * Where the last-line isolation check (src/core/foreignItems.ts) reports: the metric
 * `ForeignItemsDropped` on the service that ran the check (flushed with its invocation), and one
 * error log line per check and process (a forged key would otherwise flood the log).
 */
import type { ForeignItemsCheck, ForeignItemsReport } from '../core/foreignItems.js';
import { METRIC, METRIC_SERVICE } from '../core/metricNames.js';
import { getTelemetry, MetricUnit } from './telemetry.js';

const SERVICE_OF_CHECK = {
  subscribers: METRIC_SERVICE.fanout,
  connections: METRIC_SERVICE.wsMessage,
  channelHistory: METRIC_SERVICE.wsMessage,
  resume: METRIC_SERVICE.wsMessage,
  webhookEndpoints: METRIC_SERVICE.webhookDispatcher,
  subjectHistory: METRIC_SERVICE.wsMessage,
  eventLookup: METRIC_SERVICE.wsMessage,
} as const satisfies Record<ForeignItemsCheck, string>;

const logged = new Set<ForeignItemsCheck>();
let droppedInProcess = 0;

export function reportForeignItems(report: ForeignItemsReport): void {
  droppedInProcess += report.dropped;
  const telemetry = getTelemetry(SERVICE_OF_CHECK[report.check]);
  telemetry.metrics.addMetric(METRIC.foreignItemsDropped, MetricUnit.Count, report.dropped);
  if (logged.has(report.check)) return;
  logged.add(report.check);
  telemetry.logger.error('Dropped items of another tenant or channel returned by a key lookup', {
    check: report.check,
    asked: report.asked,
    dropped: report.dropped,
    storedTenantId: report.sample.tenantId,
    storedChannel: report.sample.channel,
  });
}

/** How many foreign items this process dropped so far (tests and the offline runtime's console). */
export function foreignItemsDroppedInProcess(): number {
  return droppedInProcess;
}
