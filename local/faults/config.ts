/**
 * The fault configuration of the offline runtime: which hop misbehaves, how often and how.
 * Everything is off by default; a fraction is a probability per request, entry or invocation.
 * Set at start with `OUTBOX_RELAY_FAULTS` (JSON) or `npm start -- --faults '<json>'`, and at run
 * time with `PUT /control/faults` (docs/reliability.md).
 */
import * as z from 'zod';
import { type FunctionName, topology } from '../../src/contract/topology.js';

const fraction = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0).max(60_000);

// Object.keys loses the literal types of a const object; the topology is our own data, not input.
export const FUNCTION_NAMES = Object.keys(topology.functions) as [FunctionName, ...FunctionName[]];

/** Hops that can be slowed down: the `@connections` API and each handler invocation (every consumer). */
export const LATENCY_HOPS = ['managementApi', ...FUNCTION_NAMES] as const;

export const faultConfigSchema = z
  .object({
    /** Seed of the pseudo-random choices, so a run with faults can be repeated. */
    seed: z.number().int().optional(),
    putEvents: z
      .object({
        /** Entries failed with `ErrorCode: ThrottlingException` in an otherwise successful response. */
        entryThrottleFraction: fraction.default(0),
        /** Entries failed with `ErrorCode: InternalFailure`. */
        entryInternalFailureFraction: fraction.default(0),
      })
      .strict()
      .optional(),
    /** Per function (topology name): the fraction of invocations that throw before the handler runs. */
    handlers: z
      .partialRecord(z.enum(FUNCTION_NAMES), z.object({ throwFraction: fraction }).strict())
      .optional(),
    connections: z
      .object({
        /** Connection ids whose `@connections` calls answer 410 Gone (and whose socket is closed). */
        gone: z.array(z.string().min(1)).default([]),
        /** Connection ids whose `@connections` calls answer 500. */
        error: z.array(z.string().min(1)).default([]),
        /** Fraction of `PostToConnection` calls (any connection) answered 410 Gone. */
        goneFraction: fraction.default(0),
        /** Fraction of `PostToConnection` calls (any connection) answered 500. */
        errorFraction: fraction.default(0),
      })
      .strict()
      .optional(),
    /** Added latency in milliseconds per hop (`managementApi` or a function name, e.g. `publisher`). */
    latencyMs: z.partialRecord(z.enum(LATENCY_HOPS), milliseconds).optional(),
  })
  .strict();

export type FaultConfig = z.infer<typeof faultConfigSchema>;
export type FaultConfigInput = z.input<typeof faultConfigSchema>;
export type LatencyHop = (typeof LATENCY_HOPS)[number];

/** The environment variable read by the runtime at start. */
export const FAULTS_ENV = 'OUTBOX_RELAY_FAULTS';

export class InvalidFaultConfigError extends Error {
  override readonly name = 'InvalidFaultConfigError';
}

/** Parse a fault configuration (JSON text or an object); errors name the offending field. */
export function parseFaultConfig(input: string | unknown): FaultConfig {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new InvalidFaultConfigError(
        `fault configuration is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const parsed = faultConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new InvalidFaultConfigError(`invalid fault configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * The start-time configuration: `--faults <json>` (or `--faults=<json>`) in argv wins over
 * `OUTBOX_RELAY_FAULTS`; neither means no faults.
 */
export function faultConfigAtStart(argv: readonly string[], env: NodeJS.ProcessEnv): FaultConfig | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--faults') return parseFaultConfig(argv[i + 1] ?? '');
    if (arg?.startsWith('--faults=')) return parseFaultConfig(arg.slice('--faults='.length));
  }
  const fromEnv = env[FAULTS_ENV];
  return fromEnv ? parseFaultConfig(fromEnv) : undefined;
}
