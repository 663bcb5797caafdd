/**
 * A PutEvents entry and its size as AWS counts it. Used by the publisher to size requests and by
 * the local bus to enforce the same limit, so the two agree byte for byte.
 */
import { type Envelope, EVENT_SOURCE } from './envelope.js';
import { PUT_EVENTS_TIME_BYTES } from './limits.js';

export interface BusEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly EventBusName?: string;
  readonly Resources?: readonly string[];
  readonly Time?: Date;
}

const utf8 = new TextEncoder();

/** Entry size per the AWS docs: 14 bytes for Time, plus the UTF-8 bytes of Source, DetailType, Detail and each Resource. */
export function entrySizeBytes(
  entry: Pick<BusEntry, 'Source' | 'DetailType' | 'Detail' | 'Resources'>,
): number {
  let size = PUT_EVENTS_TIME_BYTES;
  size += utf8.encode(entry.Source).byteLength;
  size += utf8.encode(entry.DetailType).byteLength;
  size += utf8.encode(entry.Detail).byteLength;
  for (const resource of entry.Resources ?? []) size += utf8.encode(resource).byteLength;
  return size;
}

export function envelopeToBusEntry(envelope: Envelope, eventBusName?: string): BusEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: envelope.type,
    Detail: JSON.stringify(envelope),
    ...(eventBusName ? { EventBusName: eventBusName } : {}),
  };
}
