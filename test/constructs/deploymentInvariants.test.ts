/**
 * Over the configuration space: every retry schedule and retention the configuration accepts keeps
 * the deployment rules (the whole schedule, at its worst, fits in the delivery queue's retention;
 * the DLQ keeps messages at least as long; every delay fits SQS's visibility ceiling; every
 * consumed queue's visibility covers 6 x its function's timeout + window), and everything else is
 * refused with the option named. The oracle replays the delivery handler's own delay function.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError, parseConfig } from '../../lib/config.js';
import { consumedQueueVisibilitySeconds, deployedQueueMapping } from '../../lib/eventSourceMappings.js';
import { RETENTION_MARGIN_SECONDS, requiredVisibilitySeconds } from '../../lib/nag/invariants.js';
import { OutboxRelayChecks } from '../../lib/nag/OutboxRelayChecks.js';
import { topology } from '../../src/contract/topology.js';
import { SQS_MAX_VISIBILITY_TIMEOUT_SECONDS } from '../../src/core/limits.js';
import {
  MAX_ATTEMPTS_LIMIT,
  MAX_RETRY_DELAY_SECONDS,
  parseRetrySchedule,
  retryDelaySeconds,
} from '../../src/core/retrySchedule.js';
import { synthStack } from './fixture.js';

const DAY = 24 * 60 * 60;
const delivery = topology.queues.webhookDeliveryQueue;
const webhookDlq = topology.queues.webhookDlq;

/**
 * Independent oracle: the longest life of a delivery message whose every attempt fails, each retry
 * delayed by the handler's own function at maximum jitter and a hostile `Retry-After`, each
 * attempt holding the message for a visibility timeout.
 */
function worstLifeSeconds(schedule: readonly number[]): number {
  let total = schedule.length * delivery.visibilityTimeoutSeconds;
  for (let attempt = 2; attempt <= schedule.length; attempt++) {
    total += retryDelaySeconds({
      schedule,
      nextAttempt: attempt,
      retryAfterSeconds: 10 * DAY,
      random: () => 0.999_999,
    });
  }
  return total;
}

function scheduleIsValid(schedule: readonly number[]): boolean {
  // The handler reads an empty variable as "the default schedule"; the option needs the first attempt.
  if (schedule.length === 0) return false;
  try {
    parseRetrySchedule(schedule.join(','));
    return true;
  } catch {
    return false;
  }
}

const delay = fc.oneof(
  fc.integer({ min: 0, max: MAX_RETRY_DELAY_SECONDS }),
  fc.constantFrom(0, 5, 300, MAX_RETRY_DELAY_SECONDS, MAX_RETRY_DELAY_SECONDS + 1, -1),
);
const schedules = fc.oneof(
  fc.array(delay, { minLength: 0, maxLength: MAX_ATTEMPTS_LIMIT + 2 }).map((rest) => [0, ...rest]),
  fc.array(delay, { minLength: 0, maxLength: MAX_ATTEMPTS_LIMIT + 2 }),
);
const retentions = fc.oneof(fc.integer({ min: 1, max: 14 }), fc.integer({ min: -1, max: 20 }));

describe('retry schedule, visibility and retention over the configuration space', () => {
  it('holds for every schedule and retention the configuration accepts, and only those', () => {
    fc.assert(
      fc.property(schedules, retentions, (schedule, retentionDays) => {
        let config: ReturnType<typeof parseConfig> | undefined;
        let refusal: InvalidConfigurationError | undefined;
        try {
          config = parseConfig({
            webhookRetrySchedule: schedule,
            webhookDeliveryRetentionDays: retentionDays,
          });
        } catch (error) {
          if (!(error instanceof InvalidConfigurationError)) throw error;
          refusal = error;
        }
        const retentionInRange = Number.isInteger(retentionDays) && retentionDays >= 1 && retentionDays <= 14;
        const fits =
          scheduleIsValid(schedule) &&
          worstLifeSeconds(schedule) + RETENTION_MARGIN_SECONDS <= retentionDays * DAY;
        if (config) {
          expect(fits && retentionInRange).toBe(true);
          const retention = config.webhookDeliveryRetentionDays * DAY;
          expect(
            worstLifeSeconds(config.webhookRetrySchedule) + RETENTION_MARGIN_SECONDS,
          ).toBeLessThanOrEqual(retention);
          expect(webhookDlq.retentionDays * DAY).toBeGreaterThanOrEqual(retention);
          for (const d of config.webhookRetrySchedule)
            expect(d).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS);
        } else {
          expect(fits && retentionInRange).toBe(false);
          expect(refusal?.message).toMatch(/webhookRetrySchedule|webhookDeliveryRetentionDays/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every consumed queue visible long enough for any accepted batch size and window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.constantFrom(...topology.queueMappings),
        (batchSize, window, mapping) => {
          const overrides = {
            batchSize,
            ...(mapping.function === 'fanout' ? { batchingWindowSeconds: window } : {}),
          };
          const deployed = deployedQueueMapping(mapping, overrides);
          const timeout = topology.functions[mapping.function].timeoutSeconds;
          const visibility = consumedQueueVisibilitySeconds(mapping, overrides);
          expect(visibility).toBeGreaterThanOrEqual(
            requiredVisibilitySeconds(timeout, deployed.maxBatchingWindowSeconds),
          );
          expect(visibility).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS);
        },
      ),
    );
  });

  it('refuses a retention too short for the schedule, naming both options', () => {
    expect(() => parseConfig({ webhookDeliveryRetentionDays: 4 })).toThrow(
      /webhookDeliveryRetentionDays \(4\) is shorter than the worst case of webhookRetrySchedule/,
    );
  });

  it('agrees with the rule pack at the boundary: 15 attempts fit 9 days, not 8', () => {
    const longest = [0, ...Array.from({ length: MAX_ATTEMPTS_LIMIT - 1 }, () => MAX_RETRY_DELAY_SECONDS)];
    expect(() => parseConfig({ webhookRetrySchedule: longest, webhookDeliveryRetentionDays: 8 })).toThrow(
      InvalidConfigurationError,
    );
    const { stack } = synthStack({ webhookRetrySchedule: longest, webhookDeliveryRetentionDays: 9 });
    const report = new OutboxRelayChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
