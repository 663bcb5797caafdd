import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** What the fake Powertools tracer was asked to do. */
const calls: string[] = [];

vi.mock('@aws-lambda-powertools/tracer', () => {
  class FakeSubsegment {
    constructor(readonly name: string) {}
    close(): void {
      calls.push(`close ${this.name}`);
    }
  }
  const lambdaSegment = {
    addNewSubsegment: (name: string) => {
      calls.push(`open ${name}`);
      return new FakeSubsegment(name);
    },
  };
  class Tracer {
    constructor(options: { serviceName: string; captureHTTPsRequests: boolean }) {
      calls.push(`new ${options.serviceName} http=${options.captureHTTPsRequests}`);
    }
    getSegment() {
      return lambdaSegment;
    }
    setSegment(segment: { name?: string }) {
      calls.push(`set ${segment.name ?? 'lambda'}`);
    }
    annotateColdStart() {
      calls.push('coldStart');
    }
    addServiceNameAnnotation() {
      calls.push('service');
    }
    addErrorAsMetadata(error: Error) {
      calls.push(`error ${error.message}`);
    }
  }
  return { Tracer };
});

const { getTelemetry, instrumentHandler, MetricUnit, tracingEnabled } = await import(
  '../../src/aws/telemetry.js'
);

describe('tracingEnabled', () => {
  it('is on in Lambda unless POWERTOOLS_TRACE_ENABLED=false, and off everywhere else', () => {
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(
      tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'FALSE' }),
    ).toBe(false);
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(false);
  });
});

/** Run a handler of `service` that adds `values` values of one metric; the EMF lines it printed. */
async function emfLinesOf(service: string, values: number): Promise<string[]> {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    const telemetry = getTelemetry(service);
    await instrumentHandler(telemetry, async () => {
      for (let i = 0; i < values; i++) telemetry.metrics.addMetric('Delivered', MetricUnit.Count, 1);
    })(undefined);
  } finally {
    spy.mockRestore();
  }
  return printed.filter((line) => line.includes('"Delivered"'));
}

describe('metrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('are never printed outside Lambda, not even when Powertools flushes at 100 values by itself', async () => {
    expect(await emfLinesOf('busy-offline-service', 250)).toEqual([]);
  });

  it('are printed as EMF in Lambda, including the automatic flush at 100 values', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    expect(await emfLinesOf('busy-lambda-service', 150)).toHaveLength(2);
  });
});

describe('instrumentHandler', () => {
  beforeEach(() => {
    calls.length = 0;
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('outside Lambda never creates a tracer (so the X-Ray SDK and its async hook are never loaded)', async () => {
    const telemetry = getTelemetry('offline-service');
    const handler = instrumentHandler(telemetry, async (n: number) => n + 1);
    await expect(handler(1)).resolves.toBe(2);
    expect(telemetry.tracer).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('in Lambda wraps each invocation in an annotated ## subsegment and restores the segment', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    const telemetry = getTelemetry('lambda-service', { traceHttpCalls: false });
    const handler = instrumentHandler(telemetry, async (n: number) => {
      calls.push('handler');
      return n * 2;
    });
    await expect(handler(21)).resolves.toBe(42);
    await handler(1);
    expect(calls).toEqual([
      'new lambda-service http=false',
      'open ## lambda-service',
      'set ## lambda-service',
      'coldStart',
      'service',
      'handler',
      'close ## lambda-service',
      'set lambda',
      // The tracer is created once; later invocations reuse it.
      'open ## lambda-service',
      'set ## lambda-service',
      'coldStart',
      'service',
      'handler',
      'close ## lambda-service',
      'set lambda',
    ]);
  });

  it('records a handler error as metadata, closes the subsegment and rethrows', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    const telemetry = getTelemetry('failing-service');
    const handler = instrumentHandler(telemetry, async () => {
      throw new Error('boom');
    });
    await expect(handler(undefined)).rejects.toThrow('boom');
    expect(calls).toContain('error boom');
    expect(calls.at(-2)).toBe('close ## failing-service');
  });

  it('does not load the tracer in Lambda when POWERTOOLS_TRACE_ENABLED=false', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    const telemetry = getTelemetry('untraced-service');
    await instrumentHandler(telemetry, async () => 'ok')(undefined);
    expect(telemetry.tracer).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
