/**
 * The last line of tenant isolation: whatever a key lookup returned, an item whose STORED tenant
 * (or channel) differs from the one asked for is dropped before anything is delivered or shown,
 * and reported (metric `ForeignItemsDropped`, one log line per check and process). With injective
 * keys (src/core/keyCodec.ts) this never fires; if it does, a key was forged or mis-built. Pure.
 */

/** Where the check ran. */
export type ForeignItemsCheck =
  | 'subscribers'
  | 'connections'
  | 'channelHistory'
  | 'resume'
  | 'webhookEndpoints'
  /** `asked.channel` holds the subject here (a subject's audit history). */
  | 'subjectHistory'
  | 'eventLookup';

export interface ForeignItemsReport {
  readonly check: ForeignItemsCheck;
  readonly asked: { readonly tenantId: string; readonly channel?: string };
  readonly dropped: number;
  /** What the first dropped item said it was (its stored tenant and channel). */
  readonly sample: { readonly tenantId: unknown; readonly channel?: unknown };
}

export type ForeignItemsSink = (report: ForeignItemsReport) => void;

/**
 * Keep the items whose stored tenant (and channel, when asked) equal the ones asked for; report
 * the rest to `sink` (once per call, only when something was dropped).
 */
export function keepOwnItems<T>(
  items: readonly T[],
  asked: { readonly tenantId: string; readonly channel?: string },
  storedOf: (item: T) => { readonly tenantId: unknown; readonly channel?: unknown },
  check: ForeignItemsCheck,
  sink: ForeignItemsSink | undefined,
): T[] {
  const kept: T[] = [];
  let dropped = 0;
  let sample: ForeignItemsReport['sample'] | undefined;
  for (const item of items) {
    const stored = storedOf(item);
    const own =
      stored.tenantId === asked.tenantId && (asked.channel === undefined || stored.channel === asked.channel);
    if (own) kept.push(item);
    else {
      dropped += 1;
      sample ??= stored;
    }
  }
  if (dropped > 0 && sample !== undefined) sink?.({ check, asked, dropped, sample });
  return kept;
}
