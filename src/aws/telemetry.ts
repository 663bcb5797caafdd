/**
 * Logging, metrics and tracing for every handler: Powertools for AWS Lambda (logger, metrics with
 * EMF in namespace `OutboxRelay`, tracer), one set per service (= function) name.
 *
 * Usage (module level, outside the handler):
 *
 * ```ts
 * import { getTelemetry, instrumentHandler, setCorrelationId, MetricUnit } from '../../src/aws/telemetry.js';
 * import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
 * const telemetry = getTelemetry(METRIC_SERVICE.publisher);
 * export const handler = instrumentHandler(telemetry, async (event) => {
 *   setCorrelationId(telemetry, envelope.id); // every following log line carries correlation_id
 *   telemetry.metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, 3);
 *   telemetry.logger.info('published', { count: 3 });
 *   return result;
 * });
 * ```
 *
 * `instrumentHandler` adds the Lambda context to log lines, captures the cold-start metric,
 * flushes metrics once per invocation (even when the handler throws) and, where tracing is on,
 * wraps the invocation in a `## <service>` X-Ray subsegment with the `ColdStart` and `Service`
 * annotations and any error as metadata (what Powertools' `captureLambdaHandler` does).
 *
 * Cheap outside Lambda (the offline runtime and tests invoke handlers in-process): metrics are
 * discarded instead of printed unless `POWERTOOLS_METRICS_DISABLED=false`, the log level defaults
 * to WARN unless `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL` say otherwise, and the tracer is not even
 * loaded. Loading it loads the X-Ray SDK, whose `cls-hooked` context installs an async hook that
 * tracks every promise in the process: measured on the fan-out bench, about a fifth of the CPU of
 * 10,000 `@connections` calls. In Lambda it loads on the first invocation unless
 * `POWERTOOLS_TRACE_ENABLED=false` (set by the stack when `tracing` is off), and only in bundles
 * built with the tracer (`xraySdk`, lib/bundling.ts): the deployed default leaves it out (~107 KB).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE } from '../core/metricNames.js';

export { METRICS_NAMESPACE, MetricUnit };

export interface Telemetry {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Trace outbound HTTP(S) calls as subsegments (off for the fan-out: one per `@connections` call). */
  readonly traceHttpCalls: boolean;
  /** Loaded on the first invocation where tracing is on (`tracingEnabled`); undefined elsewhere. */
  tracer: Tracer | undefined;
}

export interface TelemetryOptions {
  /** @default true */
  readonly traceHttpCalls?: boolean;
}

const byService = new Map<string, Telemetry>();

function inLambda(): boolean {
  return (process.env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
}

/**
 * Whether this bundle carries the tracer. The stack's bundler replaces the expression by a
 * constant (lib/bundling.ts, `xraySdk`); `"false"` makes every branch that imports the tracer dead
 * code, which esbuild drops with the X-Ray SDK. Unbundled (tests, offline) the variable is unset.
 */
function tracerBundled(): boolean {
  return process.env.OUTBOX_RELAY_XRAY_SDK !== 'false';
}

/**
 * X-Ray subsegments through Powertools: only in Lambda, only where the bundle carries the tracer,
 * and not when `POWERTOOLS_TRACE_ENABLED=false`.
 */
export function tracingEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const inLambdaEnv = (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
  return tracerBundled() && inLambdaEnv && (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false';
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
export function getTelemetry(service: string, options: TelemetryOptions = {}): Telemetry {
  let telemetry = byService.get(service);
  if (!telemetry) {
    const logLevel = defaultLogLevel();
    const logger = new Logger({ serviceName: service, ...(logLevel ? { logLevel } : {}) });
    telemetry = {
      service,
      logger,
      metrics: createMetrics(service, logger),
      traceHttpCalls: options.traceHttpCalls ?? true,
      tracer: undefined,
    };
    byService.set(service, telemetry);
  }
  return telemetry;
}

/**
 * Powertools flushes on its own once a metric holds 100 values (a fan-out of 100 events does), so
 * discarding in `flushMetrics` is not enough locally: build the instance disabled where metrics are
 * not emitted. Powertools reads the switch from the environment, only at construction.
 */
function createMetrics(service: string, logger: Logger): Metrics {
  const options = { namespace: METRICS_NAMESPACE, serviceName: service, logger };
  if (emitsMetrics() || process.env.POWERTOOLS_METRICS_DISABLED !== undefined) return new Metrics(options);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return new Metrics(options);
  } finally {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  }
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
    const trace = tracingEnabled()
      ? openHandlerSubsegment(await loadTracer(telemetry), telemetry.service)
      : undefined;
    try {
      return await handler(event, context);
    } catch (error) {
      trace?.tracer.addErrorAsMetadata(error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      trace?.close();
      telemetry.logger.removeKeys(['correlation_id']);
      flushMetrics(telemetry);
    }
  };
}

async function loadTracer(telemetry: Telemetry): Promise<Tracer | undefined> {
  // A constant in a bundle without the tracer: esbuild then drops this branch and the import in it.
  if (process.env.OUTBOX_RELAY_XRAY_SDK !== 'false' && !telemetry.tracer) {
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    telemetry.tracer = new Tracer({
      serviceName: telemetry.service,
      captureHTTPsRequests: telemetry.traceHttpCalls,
    });
  }
  return telemetry.tracer;
}

/** The `## <service>` subsegment under Lambda's own segment, annotated like Powertools' middleware does. */
function openHandlerSubsegment(
  tracer: Tracer | undefined,
  service: string,
): { tracer: Tracer; close(): void } | undefined {
  if (!tracer) return undefined;
  const segment = tracer.getSegment();
  if (!segment) return undefined;
  const subsegment = segment.addNewSubsegment(`## ${service}`);
  tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  return {
    tracer,
    close() {
      subsegment.close();
      tracer.setSegment(segment);
    },
  };
}
