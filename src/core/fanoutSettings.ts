/**
 * The fan-out's knobs (docs/websocket.md), read from the environment by the handler:
 * - `FANOUT_COALESCE` (default `true`): one `events` message per connection per batch, or one
 *   `event` message per event (`false`).
 * - `FANOUT_MAX_EVENTS_PER_FRAME` (default `DEFAULT_MAX_EVENTS_PER_FRAME`, 50): cap on events in one `events` message.
 * - `FANOUT_CONCURRENCY` (default 50): `@connections` calls in flight per invocation.
 * - `FANOUT_RETRY_DELAYS_MS` (default `50,250`): in-process retries of a failed call.
 * - `FANOUT_CHUNK_THRESHOLD` (default 2,000): above this many subscribers in one batch, the
 *   fan-out is split into subscription-shard chunks handled by parallel invocations.
 * The message size cap is API Gateway's 128 KB (`WEBSOCKET_MAX_MESSAGE_BYTES`).
 */
import type { FanoutSettings } from './fanoutDelivery.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME } from './fanoutPlan.js';
import { WEBSOCKET_MAX_MESSAGE_BYTES } from './limits.js';

export const FANOUT_ENV = {
  coalesce: 'FANOUT_COALESCE',
  maxEventsPerFrame: 'FANOUT_MAX_EVENTS_PER_FRAME',
  concurrency: 'FANOUT_CONCURRENCY',
  retryDelaysMs: 'FANOUT_RETRY_DELAYS_MS',
  chunkThreshold: 'FANOUT_CHUNK_THRESHOLD',
} as const;

export const DEFAULT_FANOUT_CHUNK_THRESHOLD = 2_000;

export class InvalidFanoutSettingError extends Error {
  override readonly name = 'InvalidFanoutSettingError';
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}="${value}" is not valid: expected ${expected}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function positiveInt(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidFanoutSettingError(name, raw, `an integer from 1 to ${max}`);
  }
  return value;
}

export function fanoutSettingsFromEnv(env: Env): FanoutSettings {
  const coalesceRaw = (env[FANOUT_ENV.coalesce] ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0', 'on', 'off'].includes(coalesceRaw)) {
    throw new InvalidFanoutSettingError(FANOUT_ENV.coalesce, coalesceRaw, 'true or false');
  }
  const delaysRaw = env[FANOUT_ENV.retryDelaysMs];
  const retryDelaysMs =
    delaysRaw === undefined || delaysRaw.trim() === ''
      ? [50, 250]
      : delaysRaw.split(',').map((part) => {
          const ms = Number(part.trim());
          if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) {
            throw new InvalidFanoutSettingError(
              FANOUT_ENV.retryDelaysMs,
              delaysRaw,
              'comma-separated milliseconds (0–10000)',
            );
          }
          return ms;
        });
  return {
    coalesce: !['false', '0', 'off'].includes(coalesceRaw),
    maxEventsPerFrame: positiveInt(env, FANOUT_ENV.maxEventsPerFrame, DEFAULT_MAX_EVENTS_PER_FRAME, 10_000),
    maxMessageBytes: WEBSOCKET_MAX_MESSAGE_BYTES,
    concurrency: positiveInt(env, FANOUT_ENV.concurrency, 50, 1000),
    retryDelaysMs,
    chunkThreshold: positiveInt(env, FANOUT_ENV.chunkThreshold, DEFAULT_FANOUT_CHUNK_THRESHOLD, 10_000_000),
  };
}
