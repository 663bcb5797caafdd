/**
 * The local EventBridge bus behind the PutEvents endpoint: validates a request as AWS does
 * (at most PUT_EVENTS_MAX_ENTRIES entries and PUT_EVENTS_MAX_REQUEST_BYTES, sized with the same
 * `entrySizeBytes` as the publisher → whole-request ValidationException; per-entry errors with
 * `ErrorCode`/`ErrorMessage`), builds the EventBridge event of each accepted entry, archives it,
 * and sends it to the target queue of every rule whose pattern matches.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { entrySizeBytes } from '../../src/core/busEntry.js';
import { matchesEventPattern } from '../../src/core/eventPattern.js';
import { PUT_EVENTS_MAX_ENTRIES, putEventsMaxRequestBytes } from '../../src/core/limits.js';
import type { BusArchive } from './archive.js';
import type { BusEvent } from './busEvent.js';
import { BusRequestError, type EntryErrorCode } from './errors.js';

const entrySchema = z.object({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  Resources: z.array(z.string()).optional(),
  EventBusName: z.string().optional(),
  /** awsJson timestamps are epoch seconds; accept an ISO string too. */
  Time: z.union([z.number(), z.string()]).optional(),
  TraceHeader: z.string().optional(),
});
export type PutEventsEntry = z.infer<typeof entrySchema>;

const requestSchema = z.object({
  Entries: z.array(entrySchema).nullish(),
  EndpointId: z.string().optional(),
});

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
export interface PutEventsResponse {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface EntryRejection {
  readonly code: EntryErrorCode | (string & {});
  readonly message: string;
}

/**
 * Fault-injection hook: called for each entry that passed validation; returning a rejection fails
 * that entry (e.g. `ThrottlingException`, `InternalFailure`) as AWS would. Absent by default.
 */
export type EntryInterceptor = (entry: PutEventsEntry, index: number) => EntryRejection | undefined;

export interface BusRule {
  readonly name: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly targetQueueUrl: string;
}

export interface LocalBusOptions {
  readonly busName: string;
  readonly region: string;
  readonly account: string;
  readonly rules: readonly BusRule[];
  /** Sends events to a queue (one SQS message each, body = the event JSON). */
  readonly deliver: (queueUrl: string, events: readonly BusEvent[]) => Promise<void>;
  /** Where an event goes when its rule target cannot be reached (the rules' DLQ). */
  readonly deadLetterQueueUrl?: string;
  readonly archive?: BusArchive;
  readonly maxEntries?: number;
  readonly maxRequestBytes?: number;
  readonly interceptor?: EntryInterceptor;
  readonly onDeliveryError?: (rule: string, error: unknown) => void;
}

export interface LocalBus {
  putEvents(request: unknown): Promise<PutEventsResponse>;
  /** Re-sends archived events (`from <= time < to`) through the rules; returns how many. */
  replay(options: { from?: string; to?: string; replayName?: string }): Promise<number>;
  setInterceptor(interceptor: EntryInterceptor | undefined): void;
  /** PutEvents requests being handled (for waitForIdle). */
  readonly inFlight: number;
  readonly accepted: number;
}

export function createLocalBus(options: LocalBusOptions): LocalBus {
  const maxEntries = options.maxEntries ?? PUT_EVENTS_MAX_ENTRIES;
  const maxRequestBytes = options.maxRequestBytes ?? putEventsMaxRequestBytes(process.env);
  const busArn = `arn:aws:events:${options.region}:${options.account}:event-bus/${options.busName}`;
  let interceptor = options.interceptor;
  let inFlight = 0;
  let accepted = 0;

  const isOurBus = (name: string | undefined) => name === options.busName || name === busArn;
  const isDefaultBus = (name: string | undefined) =>
    name === undefined || name === '' || name === 'default' || name.endsWith(':event-bus/default');

  const route = async (events: readonly BusEvent[]) => {
    const byQueue = new Map<string, { rule: string; events: BusEvent[] }>();
    for (const rule of options.rules) {
      for (const event of events) {
        if (!matchesEventPattern(rule.pattern, event)) continue;
        let target = byQueue.get(rule.targetQueueUrl);
        if (!target) {
          target = { rule: rule.name, events: [] };
          byQueue.set(rule.targetQueueUrl, target);
        }
        target.events.push(event);
      }
    }
    await Promise.all(
      [...byQueue.entries()].map(async ([queueUrl, target]) => {
        try {
          await withRetries(() => options.deliver(queueUrl, target.events));
        } catch (error) {
          options.onDeliveryError?.(target.rule, error);
          // As EventBridge does after its retries: the event goes to the target's dead-letter queue.
          if (options.deadLetterQueueUrl) await options.deliver(options.deadLetterQueueUrl, target.events);
        }
      }),
    );
  };

  const putEvents = async (request: unknown): Promise<PutEventsResponse> => {
    inFlight += 1;
    try {
      const parsed = requestSchema.safeParse(request);
      if (!parsed.success) {
        throw new BusRequestError(
          'SerializationException',
          `Could not read the PutEvents request: ${parsed.error.message}`,
        );
      }
      const entries = parsed.data.Entries;
      if (!entries) {
        throw new BusRequestError(
          'ValidationException',
          "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
        );
      }
      if (entries.length < 1 || entries.length > maxEntries) {
        throw new BusRequestError(
          'ValidationException',
          `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${
            entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${maxEntries}`
          }`,
        );
      }
      const requestBytes = entries.reduce(
        (sum, entry) =>
          sum +
          entrySizeBytes({
            Source: entry.Source ?? '',
            DetailType: entry.DetailType ?? '',
            Detail: entry.Detail ?? '',
            ...(entry.Resources ? { Resources: entry.Resources } : {}),
          }),
        0,
      );
      if (requestBytes > maxRequestBytes) {
        throw new BusRequestError(
          'ValidationException',
          'Total size of the entries in the request is over the limit.',
        );
      }

      const results: PutEventsResultEntry[] = [];
      const routed: BusEvent[] = [];
      const archived: BusEvent[] = [];
      entries.forEach((entry, index) => {
        const built = buildEvent(entry);
        if ('code' in built) {
          results.push({ ErrorCode: built.code, ErrorMessage: built.message });
          return;
        }
        const injected = interceptor?.(entry, index);
        if (injected) {
          results.push({ ErrorCode: injected.code, ErrorMessage: injected.message });
          return;
        }
        results.push({ EventId: built.id });
        if (isOurBus(entry.EventBusName)) {
          routed.push(built);
          archived.push(built);
        }
      });
      options.archive?.append(archived);
      accepted += results.filter((result) => 'EventId' in result).length;
      await route(routed);
      return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
    } finally {
      inFlight -= 1;
    }
  };

  const buildEvent = (entry: PutEventsEntry): BusEvent | EntryRejection => {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (entry[field] === undefined || entry[field] === '') {
        return {
          code: 'InvalidArgument',
          message: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
        };
      }
    }
    if (!isOurBus(entry.EventBusName) && !isDefaultBus(entry.EventBusName)) {
      return { code: 'InvalidArgument', message: `Event bus ${entry.EventBusName} does not exist.` };
    }
    const source = entry.Source ?? '';
    if (source.startsWith('aws.')) {
      return { code: 'NotAuthorizedForSourceException', message: 'Not authorized for the source.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      return { code: 'MalformedDetail', message: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { code: 'MalformedDetail', message: 'Detail is malformed.' };
    }
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType ?? '',
      source,
      account: options.account,
      time: eventTime(entry.Time),
      region: options.region,
      resources: entry.Resources ?? [],
      detail,
    };
  };

  return {
    putEvents,
    async replay({ from, to, replayName = `local-replay-${Date.now()}` }) {
      const events = (options.archive?.list({ ...(from ? { from } : {}), ...(to ? { to } : {}) }) ?? []).map(
        (event) => ({ ...event, 'replay-name': replayName }),
      );
      for (let i = 0; i < events.length; i += maxEntries) await route(events.slice(i, i + maxEntries));
      return events.length;
    },
    setInterceptor(next) {
      interceptor = next;
    },
    get inFlight() {
      return inFlight;
    },
    get accepted() {
      return accepted;
    },
  };
}

/** EventBridge event times have second precision (`2026-01-01T12:00:00Z`). */
function eventTime(time: number | string | undefined): string {
  const date =
    time === undefined ? new Date() : typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  const valid = Number.isNaN(date.getTime()) ? new Date() : date;
  return valid.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function withRetries(action: () => Promise<void>, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await action();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
