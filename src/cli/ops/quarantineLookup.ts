/** Finding an event in the quarantine by its id (the table is keyed by day, so we read recent days). */
import { getQuarantineRepository } from '../../aws/quarantineRepository.js';
import type { QuarantineItem } from '../../core/quarantine.js';

/** How far back `audit event` looks for a quarantined event, and how many entries it reads. */
const LOOKBACK_DAYS = 14;
const MAX_ENTRIES = 1000;

export async function findQuarantined(eventId: string, now = new Date()): Promise<QuarantineItem[]> {
  const { items } = await getQuarantineRepository().list({
    since: new Date(now.getTime() - LOOKBACK_DAYS * 24 * 60 * 60 * 1000),
    until: now,
    limit: MAX_ENTRIES,
  });
  return items.filter((item) => item.eventId === eventId);
}
