// e2e-target: offline-only — injects faults into the offline runtime and SIGKILLs it
/**
 * The no-loss checker's short form (`npm run test:faults -- --short`) as an end-to-end test: the
 * runtime as a child process with faults on, a fan-out lag phase, then a Ctrl-C, a SIGKILL, a
 * killed DynamoDB Local JVM and a stale checkpoint file mid-stream, then every event classified on
 * every path. The long form is the release check (docs/reliability.md).
 */
import { describe, expect, it } from 'vitest';
import { ALL_DISRUPTIONS, DEFAULT_LAG, runChecker, SHORT_FAULTS } from '../faults/run.js';

describe('no-loss checker (short form)', () => {
  it('loses no event on any path through faults, a lag phase, Ctrl-C, SIGKILL, a JVM kill and stale checkpoints', async () => {
    const report = await runChecker({
      events: 120,
      tenants: 3,
      clients: 6,
      disruptions: ALL_DISRUPTIONS,
      lag: DEFAULT_LAG,
      faults: SHORT_FAULTS,
      slowReceiverMs: 200,
      log: () => {},
      // Generous: on a loaded machine each restart and the JVM kill's recovery take minutes, and a
      // slow machine must not fail this test (the settle wait ends as soon as the runtime is idle).
      settleTimeoutMs: 360_000,
    });
    const byPath = new Map(report.verdict.rows.map((row) => [row.path, row]));

    expect(report.disrupted).toEqual(['sigint', 'sigkill', 'jvm-kill', 'stale-checkpoints']);
    expect(report.restarts).toBe(3);
    expect(report.verdict.missing).toEqual([]);
    expect(byPath.get('audit')?.delivered).toBe(120);
    // Every tenant's events reach the healthy and the slow endpoint, signature verified.
    expect(byPath.get('webhook healthy')?.delivered).toBe(120);
    expect(byPath.get('webhook slow')?.delivered).toBe(120);
    // The always-failing endpoint's events all end in the DLQ, with a reason.
    const failing = byPath.get('webhook failing');
    expect(failing?.deadLettered).toBe(120);
    expect(Object.keys(failing?.reasons ?? {})).not.toHaveLength(0);
    // The 410 endpoint is disabled: what was dispatched to it is dead-lettered, the rest never dispatched.
    const gone = byPath.get('webhook gone');
    expect((gone?.deadLettered ?? 0) + (gone?.notDispatched ?? 0)).toBe(120);
  }, 600_000);
});
