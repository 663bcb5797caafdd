/**
 * Logging, metrics and tracing for every handler: Powertools for AWS Lambda (logger, metrics with
 * EMF in namespace `OutboxRelay`, tracer), one set per service (= function) name.
 *
 * Usage (module level, outside the handler):
 *
 * ```ts
 * import { getTelemetry, instrumentHandler, setCorrelationId, MetricUnit } from '../../src/aws/telemetry.js';
 * const telemetry = getTelemetry('publisher');
 * export const handler = instrumentHandler(telemetry, async (event) => {
 *   setCorrelationId(telemetry, envelope.id); // every following log line carries correlation_id
 *   telemetry.metrics.addMetric('EventsPublished', MetricUnit.Count, 3);
 *   telemetry.logger.info('published', { count: 3 });
 *   return result;
 * });
 * ```
 *
 * `instrumentHandler` adds the Lambda context to log lines, captures the cold-start metric and
 * flushes metrics once per invocation (even when the handler throws).
 *
 * Cheap outside Lambda (the offline runtime and tests invoke handlers in-process): the tracer is
 * disabled (Powertools turns it off without `AWS_EXECUTION_ENV`), metrics are discarded instead of
 * printed unless `POWERTOOLS_METRICS_DISABLED=false`, and the log level defaults to WARN unless
 * `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL` say otherwise.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE } from '../core/metricNames.js';

export { METRICS_NAMESPACE, MetricUnit };

export interface Telemetry {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

const byService = new Map<string, Telemetry>();

function inLambda(): boolean {
  return (process.env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
}

function emitsMetrics(): boolean {
  const flag = process.env.POWERTOOLS_METRICS_DISABLED;
  if (flag !== undefined && flag !== '') return flag.toLowerCase() === 'false';
  return inLambda();
}

function defaultLogLevel(): 'WARN' | undefined {
  // Undefined lets Powertools apply POWERTOOLS_LOG_LEVEL / LOG_LEVEL, or INFO in Lambda.
  if (process.env.POWERTOOLS_LOG_LEVEL || process.env.LOG_LEVEL || inLambda()) return undefined;
  return 'WARN';
}

/** The logger, metrics and tracer of one service (function) name; created once per process. */
export function getTelemetry(service: string): Telemetry {
  let telemetry = byService.get(service);
  if (!telemetry) {
    const logLevel = defaultLogLevel();
    const logger = new Logger({ serviceName: service, ...(logLevel ? { logLevel } : {}) });
    telemetry = {
      service,
      logger,
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, logger }),
      tracer: new Tracer({ serviceName: service, enabled: inLambda() }),
    };
    byService.set(service, telemetry);
  }
  return telemetry;
}

/** Tag every following log line of this service with the event id (`correlation_id`). */
export function setCorrelationId(telemetry: Telemetry, eventId: string): void {
  telemetry.logger.setCorrelationId(eventId);
}

/** Write the metrics stored so far (EMF on stdout in Lambda), or discard them when running locally. */
export function flushMetrics(telemetry: Telemetry): void {
  if (emitsMetrics() && telemetry.metrics.hasStoredMetrics()) telemetry.metrics.publishStoredMetrics();
  else telemetry.metrics.clearMetrics();
}

function isLambdaContext(context: unknown): context is Context {
  return (
    typeof context === 'object' &&
    context !== null &&
    'functionName' in context &&
    typeof context.functionName === 'string' &&
    'awsRequestId' in context
  );
}

/** Services that have been invoked in this process (the first invocation of each is its cold start). */
const invoked = new Set<string>();

/**
 * Wrap a handler: Lambda context on log lines, cold-start metric, correlation id reset and one
 * metrics flush per invocation. The context is optional so in-process callers may omit it.
 */
export function instrumentHandler<TEvent, TResult>(
  telemetry: Telemetry,
  handler: (event: TEvent, context?: Context) => Promise<TResult>,
): (event: TEvent, context?: Context) => Promise<TResult> {
  return async (event, context) => {
    if (isLambdaContext(context)) telemetry.logger.addContext(context);
    if (!invoked.has(telemetry.service) && emitsMetrics()) telemetry.metrics.captureColdStartMetric();
    invoked.add(telemetry.service);
    try {
      return await handler(event, context);
    } finally {
      telemetry.logger.removeKeys(['correlation_id']);
      flushMetrics(telemetry);
    }
  };
}
