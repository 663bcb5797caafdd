import { describe, expect, it } from 'vitest';
import { endpointWantsEvent, isValidFilter, matchesFilter } from '../../src/core/webhookFilter.js';

describe('webhook filters', () => {
  it('matches exact names, prefix patterns and *', () => {
    expect(matchesFilter('order.created', 'order.created')).toBe(true);
    expect(matchesFilter('order.created', 'order.updated')).toBe(false);
    expect(matchesFilter('order.*', 'order.created')).toBe(true);
    expect(matchesFilter('order.*', 'order.line.added')).toBe(true);
    expect(matchesFilter('order.*', 'order')).toBe(false);
    expect(matchesFilter('order.*', 'orders.created')).toBe(false);
    expect(matchesFilter('*', 'anything')).toBe(true);
  });

  it('accepts only *, names and name.*', () => {
    for (const ok of ['*', 'order.created', 'order.*', 'a']) expect(isValidFilter(ok)).toBe(true);
    for (const bad of ['', 'order*', '*.created', 'or*der', 'order.**', 'has space'])
      expect(isValidFilter(bad)).toBe(false);
  });

  it('requires both the type and the channel filter to match; empty lists match everything', () => {
    const endpoint = { eventTypes: ['order.*'], channels: ['orders'] };
    expect(endpointWantsEvent(endpoint, { type: 'order.created', channel: 'orders' })).toBe(true);
    expect(endpointWantsEvent(endpoint, { type: 'order.created', channel: 'billing' })).toBe(false);
    expect(endpointWantsEvent(endpoint, { type: 'invoice.paid', channel: 'orders' })).toBe(false);
    expect(endpointWantsEvent({ eventTypes: [], channels: [] }, { type: 'x', channel: 'y' })).toBe(true);
  });
});
