/**
 * The bus archive: every accepted event on our bus, in arrival order. In memory (the latest
 * events) and, with a data directory, appended to `<dataDir>/bus-archive.jsonl` so the ops
 * `replay` command can read older ones. Like AWS's archive, a replay gives no order guarantee
 * beyond arrival order.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BusEvent, busEventSchema } from './busEvent.js';

const MEMORY_CAPACITY = 50_000;

export interface BusArchive {
  append(events: readonly BusEvent[]): void;
  /** Archived events with `from <= time < to` (ISO strings; both optional), oldest first. */
  list(range?: { from?: string; to?: string }): BusEvent[];
  readonly size: number;
}

export function createBusArchive(filePath?: string): BusArchive {
  const memory: BusEvent[] = [];
  let size = 0;
  if (filePath) mkdirSync(dirname(filePath), { recursive: true });
  const inRange = (event: BusEvent, range: { from?: string; to?: string }) =>
    (range.from === undefined || event.time >= range.from) &&
    (range.to === undefined || event.time < range.to);
  return {
    append(events) {
      if (events.length === 0) return;
      memory.push(...events);
      if (memory.length > MEMORY_CAPACITY) memory.splice(0, memory.length - MEMORY_CAPACITY);
      size += events.length;
      if (filePath) appendFileSync(filePath, events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    },
    list(range = {}) {
      if (!filePath || !existsSync(filePath)) return memory.filter((event) => inRange(event, range));
      const events: BusEvent[] = [];
      for (const line of readFileSync(filePath, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const parsed = busEventSchema.safeParse(JSON.parse(line));
        if (parsed.success && inRange(parsed.data, range)) events.push(parsed.data);
      }
      return events;
    },
    get size() {
      return size;
    },
  };
}
