/**
 * Event-type and channel filters of a webhook endpoint. A filter is `*` (everything), an exact
 * name (`order.created`), or a prefix pattern `order.*` that matches `order.created` and
 * `order.line.added` but not `order` itself. An empty filter list means "everything". Pure.
 */
import type { Envelope } from './envelope.js';

/** `*`, a name without `*`, or such a name followed by `.*`. */
export const FILTER_PATTERN = /^(\*|[^*\s]+(\.\*)?)$/;

export function isValidFilter(filter: string): boolean {
  return filter.length > 0 && filter.length <= 256 && FILTER_PATTERN.test(filter);
}

export function matchesFilter(filter: string, value: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*')) return value.startsWith(filter.slice(0, -1));
  return filter === value;
}

export function matchesAny(filters: readonly string[], value: string): boolean {
  return filters.length === 0 || filters.some((filter) => matchesFilter(filter, value));
}

export interface EndpointFilters {
  readonly eventTypes: readonly string[];
  readonly channels: readonly string[];
}

export function endpointWantsEvent(
  endpoint: EndpointFilters,
  envelope: Pick<Envelope, 'type' | 'channel'>,
): boolean {
  return matchesAny(endpoint.eventTypes, envelope.type) && matchesAny(endpoint.channels, envelope.channel);
}
