/**
 * The checker's verdict: every written event's fate on every path, as counts per path and the
 * ids of anything missing. Pure: the runner collects the facts, this decides.
 */

export interface WrittenEvent {
  readonly id: string;
  readonly tenantId: string;
  readonly channel: string;
  readonly writtenAt: number;
}

export interface ClientFacts {
  readonly name: string;
  readonly tenantId: string;
  readonly channels: readonly string[];
  readonly delivered: ReadonlySet<string>;
  readonly rawCounts: ReadonlyMap<string, number>;
  readonly refreshes: readonly { channel: string; reason: string; eventId?: string; at: number }[];
}

export interface EndpointFacts {
  readonly kind: string;
  readonly tenantId: string;
  readonly endpointId: string;
  readonly enabled: boolean;
  /** Event id → times received with a valid signature. */
  readonly verified: ReadonlyMap<string, number>;
  /** Event id → dead-letter reason (DLQ message, or the audit's dead-lettered/refused attempt). */
  readonly deadLettered: ReadonlyMap<string, string>;
  /** Event ids with at least one recorded attempt on this endpoint. */
  readonly attempted: ReadonlySet<string>;
}

export interface Facts {
  readonly written: readonly WrittenEvent[];
  readonly audited: ReadonlySet<string>;
  readonly quarantined: ReadonlyMap<string, string>;
  readonly clients: readonly ClientFacts[];
  readonly endpoints: readonly EndpointFacts[];
}

export interface PathRow {
  readonly path: string;
  readonly expected: number;
  readonly delivered: number;
  readonly refreshed: number;
  readonly deadLettered: number;
  readonly notDispatched: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly reasons: Readonly<Record<string, number>>;
}

export interface Verdict {
  readonly rows: readonly PathRow[];
  readonly missing: readonly { path: string; eventId: string }[];
  readonly ok: boolean;
}

function row(
  path: string,
): { -readonly [K in keyof PathRow]: PathRow[K] } & { reasons: Record<string, number> } {
  return {
    path,
    expected: 0,
    delivered: 0,
    refreshed: 0,
    deadLettered: 0,
    notDispatched: 0,
    missing: 0,
    duplicates: 0,
    reasons: {},
  };
}

export function classify(facts: Facts): Verdict {
  const missing: { path: string; eventId: string }[] = [];
  const rows: PathRow[] = [];

  const audit = row('audit');
  for (const event of facts.written) {
    audit.expected += 1;
    if (facts.audited.has(event.id)) audit.delivered += 1;
    else if (facts.quarantined.has(event.id)) {
      audit.deadLettered += 1;
      const reason = facts.quarantined.get(event.id) ?? 'quarantined';
      audit.reasons[reason] = (audit.reasons[reason] ?? 0) + 1;
    } else {
      audit.missing += 1;
      missing.push({ path: 'audit', eventId: event.id });
    }
  }
  rows.push(audit);

  const ws = row(`websocket (${facts.clients.length} clients)`);
  for (const client of facts.clients) {
    for (const count of client.rawCounts.values()) ws.duplicates += Math.max(0, count - 1);
    for (const event of facts.written) {
      if (event.tenantId !== client.tenantId || !client.channels.includes(event.channel)) continue;
      ws.expected += 1;
      if (client.delivered.has(event.id)) {
        ws.delivered += 1;
        continue;
      }
      // A refresh covers the events of its channel written before it (the app reloads that state).
      const refresh = client.refreshes.find(
        (r) =>
          r.channel === event.channel &&
          (r.eventId === event.id || (r.eventId === undefined && r.at >= event.writtenAt)),
      );
      if (refresh) {
        ws.refreshed += 1;
        ws.reasons[refresh.reason] = (ws.reasons[refresh.reason] ?? 0) + 1;
      } else {
        ws.missing += 1;
        missing.push({ path: `websocket ${client.name}`, eventId: event.id });
      }
    }
  }
  rows.push(ws);

  const byKind = new Map<string, ReturnType<typeof row>>();
  for (const endpoint of facts.endpoints) {
    const r = byKind.get(endpoint.kind) ?? row(`webhook ${endpoint.kind}`);
    byKind.set(endpoint.kind, r);
    for (const count of endpoint.verified.values()) r.duplicates += Math.max(0, count - 1);
    for (const event of facts.written) {
      if (event.tenantId !== endpoint.tenantId) continue;
      r.expected += 1;
      const reason = endpoint.deadLettered.get(event.id);
      if (endpoint.verified.has(event.id)) r.delivered += 1;
      else if (reason !== undefined) {
        r.deadLettered += 1;
        r.reasons[reason] = (r.reasons[reason] ?? 0) + 1;
      } else if (!endpoint.enabled && !endpoint.attempted.has(event.id)) {
        // Dispatch skips a disabled endpoint (a 410 disables it): nothing was owed to it.
        r.notDispatched += 1;
      } else {
        r.missing += 1;
        missing.push({ path: `webhook ${endpoint.kind} ${endpoint.endpointId}`, eventId: event.id });
      }
    }
  }
  rows.push(...byKind.values());
  return { rows, missing, ok: missing.length === 0 };
}

/** The verdict as an aligned text table. */
export function renderVerdict(verdict: Verdict): string {
  const header = [
    'path',
    'expected',
    'delivered',
    'refreshed',
    'dead-lettered',
    'not dispatched',
    'MISSING',
    'duplicates',
    'reasons',
  ];
  const lines = verdict.rows.map((r) => [
    r.path,
    String(r.expected),
    String(r.delivered),
    String(r.refreshed),
    String(r.deadLettered),
    String(r.notDispatched),
    String(r.missing),
    String(r.duplicates),
    Object.entries(r.reasons)
      .map(([reason, n]) => `${reason}:${n}`)
      .join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)];
  if (verdict.missing.length > 0) {
    out.push('', `MISSING (${verdict.missing.length}):`);
    for (const m of verdict.missing.slice(0, 50)) out.push(`  ${m.path}: ${m.eventId}`);
    if (verdict.missing.length > 50) out.push(`  … and ${verdict.missing.length - 50} more`);
  }
  return out.join('\n');
}
