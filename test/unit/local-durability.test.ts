import { describe, expect, it } from 'vitest';
import { restoredDelaySeconds } from '../../local/queueSnapshot.js';
import { createSupervisor } from '../../local/supervisor.js';

describe('supervisor', () => {
  it('logs an outage once when it starts and once when it ends, counting the errors between', () => {
    const lines: string[] = [];
    let now = 1_000_000;
    const supervisor = createSupervisor(
      (line) => lines.push(line),
      () => now,
    );
    supervisor.up('dynamodb');
    supervisor.down('dynamodb', 'the JVM exited', 'restarting');
    for (let i = 0; i < 500; i += 1) supervisor.report('stream:publisher', 'ECONNREFUSED');
    supervisor.down('dynamodb', 'the JVM exited', 'restarting');
    expect(supervisor.healthy()).toBe(false);
    expect(supervisor.parts().dynamodb?.state).toBe('restarting');
    now += 4_000;
    supervisor.up('dynamodb', 'restarted');
    expect(supervisor.healthy()).toBe(true);
    expect(lines).toEqual([
      '[supervisor] dynamodb restarting: the JVM exited',
      '[supervisor] dynamodb is back after 4.0 s: restarted (500 error line(s) during the outage not printed)',
    ]);
  });

  it('prints a line a source repeats once, then how many times it repeated', () => {
    const lines: string[] = [];
    const supervisor = createSupervisor(
      (line) => lines.push(line),
      () => 0,
    );
    for (let i = 0; i < 10; i += 1) supervisor.report('sqs:audit', 'throttled');
    supervisor.report('sqs:audit', 'something else');
    expect(lines).toEqual([
      '[sqs:audit] throttled',
      '[sqs:audit] (the previous line repeated 9 more time(s))',
      '[sqs:audit] something else',
    ]);
  });
});

describe('queue snapshot', () => {
  it('restores a message visible now without delay, a later one with its remaining delay, capped at 900 s', () => {
    expect(restoredDelaySeconds(0, 10_000)).toBe(0);
    expect(restoredDelaySeconds(12_500, 10_000)).toBe(3);
    expect(restoredDelaySeconds(10_000 + 5 * 3600_000, 10_000)).toBe(900);
  });
});
