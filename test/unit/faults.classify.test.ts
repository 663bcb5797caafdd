import { describe, expect, it } from 'vitest';
import { classify, type EndpointFacts, type Facts, renderVerdict } from '../faults/classify.js';

const written = [
  { id: 'e1', tenantId: 't1', channel: 'orders', writtenAt: 1_000 },
  { id: 'e2', tenantId: 't1', channel: 'orders', writtenAt: 2_000 },
];

function endpoint(overrides: Partial<EndpointFacts>): EndpointFacts {
  return {
    kind: 'healthy',
    tenantId: 't1',
    endpointId: 'ep',
    enabled: true,
    verified: new Map(),
    deadLettered: new Map(),
    attempted: new Set(),
    ...overrides,
  };
}

function facts(overrides: Partial<Facts>): Facts {
  return {
    written,
    audited: new Set(['e1', 'e2']),
    quarantined: new Map(),
    clients: [],
    endpoints: [],
    ...overrides,
  };
}

describe('no-loss classification', () => {
  it('passes when every event is audited, delivered or accounted for', () => {
    const verdict = classify(
      facts({
        clients: [
          {
            name: 'c1',
            tenantId: 't1',
            channels: ['orders'],
            delivered: new Set(['e1']),
            rawCounts: new Map([['e1', 2]]),
            refreshes: [{ channel: 'orders', reason: 'too_many_missed', at: 2_500 }],
          },
        ],
        endpoints: [
          endpoint({
            verified: new Map([
              ['e1', 1],
              ['e2', 2],
            ]),
          }),
          endpoint({
            kind: 'failing',
            deadLettered: new Map([
              ['e1', 'attempts_exhausted'],
              ['e2', 'attempts_exhausted'],
            ]),
          }),
          endpoint({
            kind: 'gone',
            enabled: false,
            deadLettered: new Map([['e1', 'endpoint_gone']]),
            attempted: new Set(['e1']),
          }),
        ],
      }),
    );
    expect(verdict.ok).toBe(true);
    const rows = new Map(verdict.rows.map((r) => [r.path, r]));
    expect(rows.get('websocket (1 clients)')).toMatchObject({ delivered: 1, refreshed: 1, duplicates: 1 });
    expect(rows.get('webhook healthy')).toMatchObject({ delivered: 2, duplicates: 1 });
    expect(rows.get('webhook failing')).toMatchObject({
      deadLettered: 2,
      reasons: { attempts_exhausted: 2 },
    });
    expect(rows.get('webhook gone')).toMatchObject({ deadLettered: 1, notDispatched: 1 });
  });

  it('fails on an event missing from the audit, a client or an endpoint, naming it', () => {
    const verdict = classify(
      facts({
        audited: new Set(['e1']),
        clients: [
          {
            name: 'c1',
            tenantId: 't1',
            channels: ['orders'],
            delivered: new Set(['e1']),
            rawCounts: new Map(),
            // A refresh before e2 was written does not cover it.
            refreshes: [{ channel: 'orders', reason: 'too_many_missed', at: 1_500 }],
          },
        ],
        endpoints: [endpoint({ verified: new Map([['e1', 1]]) })],
      }),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.missing).toEqual([
      { path: 'audit', eventId: 'e2' },
      { path: 'websocket c1', eventId: 'e2' },
      { path: 'webhook healthy ep', eventId: 'e2' },
    ]);
    expect(renderVerdict(verdict)).toContain('MISSING (3)');
  });

  it('does not excuse an enabled endpoint that never got an event', () => {
    const verdict = classify(facts({ endpoints: [endpoint({ enabled: true })] }));
    expect(verdict.missing).toHaveLength(2);
  });
});
