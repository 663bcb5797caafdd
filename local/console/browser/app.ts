/**
 * The console page's script (bundled for the browser by `../bundle.ts`): it drives the client SDK
 * exactly as an application would, and renders what arrives.
 */
import type * as z from 'zod';
import { type ConnectionState, connect, type Envelope, type RelayClient } from '../../../src/client/index.js';
import {
  type ConsoleConfig,
  consoleConfigSchema,
  consoleErrorSchema,
  dropConnectionsResponseSchema,
  type EventDetails,
  eventDetailsResponseSchema,
  tokenResponseSchema,
  writeEventsResponseSchema,
} from '../apiSchemas.js';

/** Rows kept on screen; older rows are removed (the counter keeps counting). */
const MAX_ROWS = 2000;

function element<TElement extends HTMLElement>(id: string, type: new () => TElement): TElement {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`The page has no #${id} element of the expected kind`);
  return found;
}

const ui = {
  state: element('state', HTMLSpanElement),
  wsUrl: element('ws-url', HTMLSpanElement),
  form: element('connect-form', HTMLFormElement),
  tenant: element('tenant', HTMLInputElement),
  subject: element('subject', HTMLInputElement),
  channels: element('channels', HTMLInputElement),
  connect: element('connect', HTMLButtonElement),
  disconnect: element('disconnect', HTMLButtonElement),
  demoChannel: element('demo-channel', HTMLInputElement),
  demoCount: element('demo-count', HTMLInputElement),
  write: element('write', HTMLButtonElement),
  drop: element('drop', HTMLButtonElement),
  log: element('log', HTMLUListElement),
  count: element('count', HTMLElement),
  reconnects: element('reconnects', HTMLElement),
  refreshes: element('refreshes', HTMLElement),
  gaps: element('gaps', HTMLElement),
  events: element('events', HTMLTableSectionElement),
  noEvents: element('no-events', HTMLDivElement),
  details: element('details-body', HTMLDivElement),
};

let client: RelayClient | undefined;
let received = 0;
let reconnects = 0;
let refreshes = 0;
let config: ConsoleConfig | undefined;

async function api<TSchema extends z.ZodType>(
  path: string,
  schema: TSchema,
  body?: Record<string, unknown>,
): Promise<z.output<TSchema>> {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const json: unknown = await response.json();
  if (!response.ok) {
    const refusal = consoleErrorSchema.safeParse(json);
    throw new Error(
      refusal.success
        ? `${refusal.data.error.code}: ${refusal.data.error.message}`
        : `HTTP ${response.status}`,
    );
  }
  return schema.parse(json);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function log(text: string, kind: 'info' | 'error' | 'refresh' = 'info'): void {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  ui.log.prepend(item);
  while (ui.log.children.length > 200) ui.log.lastElementChild?.remove();
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** Per tenant+channel+epoch: the numbers seen, the highest one, and the numbers still missing below it. */
interface ChannelSequence {
  readonly seen: Set<number>;
  highest: number;
  readonly missing: Set<number>;
}
const sequences = new Map<string, ChannelSequence>();

/**
 * Track an event's sequence number; returns what the seq cell shows: the number, flagged when it
 * skips numbers (a gap opens), arrives after a higher one (it fills a gap late) or again. The
 * SDK holds back, fetches and de-duplicates; the console shows what arrived.
 */
function trackSequence(event: Envelope): { text: string; className?: string } {
  if (event.seq === undefined || event.epoch === undefined) return { text: '–' };
  const key = JSON.stringify([event.tenantId, event.channel, event.epoch]);
  let state = sequences.get(key);
  // The first number seen on a channel is where this page started listening, not a gap; a jump
  // past more than the resume limit follows a refresh (the app reloaded): start over there too.
  if (!state || event.seq - state.highest > 1000) {
    state = { seen: new Set(), highest: event.seq - 1, missing: new Set() };
    sequences.set(key, state);
  }
  const seq = event.seq;
  let result: { text: string; className?: string };
  if (state.seen.has(seq)) result = { text: `${seq} (again)`, className: 'muted' };
  else if (seq > state.highest + 1) {
    const from = state.highest + 1;
    const to = seq - 1;
    for (let n = from; n <= to; n++) state.missing.add(n);
    result = {
      text: `${seq} ⚠ gap ${from === to ? from : `${from}–${to}`}`,
      className: 'gap',
    };
    log(
      `sequence gap on ${event.channel}: ${from === to ? from : `${from}–${to}`} not received yet`,
      'refresh',
    );
  } else if (seq <= state.highest) {
    state.missing.delete(seq);
    result = { text: `${seq} (late)`, className: 'late' };
  } else result = { text: String(seq) };
  state.seen.add(seq);
  state.highest = Math.max(state.highest, seq);
  let open = 0;
  for (const s of sequences.values()) open += s.missing.size;
  ui.gaps.textContent = String(open);
  return result;
}

function showEvent(event: Envelope): void {
  const sequence = trackSequence(event);
  received += 1;
  ui.count.textContent = String(received);
  ui.noEvents.hidden = true;
  const row = document.createElement('tr');
  row.dataset.eventId = event.id;
  row.dataset.channel = event.channel;
  const data = JSON.stringify(event.data);
  row.append(
    cell(String(received), 'muted'),
    cell(event.time.slice(11, 23), 'mono nowrap'),
    cell(event.channel),
    cell(sequence.text, `mono nowrap${sequence.className ? ` ${sequence.className}` : ''}`),
    cell(event.type),
    cell(event.id, 'mono nowrap'),
    cell(data.length > 80 ? `${data.slice(0, 79)}…` : data, 'mono'),
  );
  row.addEventListener('click', () => {
    ui.events.querySelector('tr.selected')?.classList.remove('selected');
    row.classList.add('selected');
    void showDetails(event);
  });
  ui.events.append(row);
  while (ui.events.rows.length > MAX_ROWS) ui.events.rows[0]?.remove();
  const wrap = ui.events.closest('.table-wrap');
  if (wrap) wrap.scrollTop = wrap.scrollHeight;
}

function renderDetails(event: Envelope, details: EventDetails): void {
  ui.details.replaceChildren();
  ui.details.classList.remove('muted');
  const title = document.createElement('div');
  title.className = 'mono';
  title.textContent = event.id;
  const recorded = document.createElement('div');
  recorded.textContent = details.event
    ? `Recorded in the audit log at ${details.event.recordedAt}`
    : 'Not (yet) in the audit log';
  const envelope = document.createElement('pre');
  envelope.textContent = JSON.stringify(event, null, 2);
  const heading = document.createElement('h2');
  heading.style.marginTop = '14px';
  heading.textContent = `Delivery attempts (${details.attempts.length})`;
  ui.details.append(title, recorded, envelope, heading);
  if (details.attempts.length === 0) {
    const none = document.createElement('div');
    none.className = 'muted';
    none.textContent = 'No attempts recorded yet.';
    ui.details.append(none);
  }
  for (const attempt of details.attempts) {
    const item = document.createElement('div');
    item.className = `attempt ${attempt.outcome}`;
    const summary = attempt.fanout
      ? ` · ${attempt.fanout.delivered}/${attempt.fanout.subscribers} subscribers, ${attempt.fanout.messages} messages`
      : '';
    const status = attempt.statusCode === undefined ? '' : ` · HTTP ${attempt.statusCode}`;
    const error = attempt.error ? ` · ${attempt.error}` : '';
    item.textContent = `${attempt.at} · ${attempt.path} → ${attempt.target} · #${attempt.attempt} ${attempt.outcome}${status}${summary}${error} (${attempt.durationMs} ms)`;
    ui.details.append(item);
  }
  // Per subject: delivered / replayed live, and `received` when the client sent a receipt.
  const receipts = details.subjects.filter((s) => s.outcome === 'received').length;
  const subjectsHeading = document.createElement('h2');
  subjectsHeading.style.marginTop = '14px';
  subjectsHeading.textContent = `Subjects (${new Set(details.subjects.map((s) => s.subject)).size}) · receipts (${receipts})`;
  ui.details.append(subjectsHeading);
  for (const record of [...details.subjects].sort(
    (a, b) => a.subject.localeCompare(b.subject) || a.at.localeCompare(b.at),
  )) {
    const item = document.createElement('div');
    item.className = `attempt ${record.outcome === 'received' || record.outcome === 'replayed' ? 'delivered' : record.outcome}`;
    item.textContent = `${record.at} · ${record.subject} · ${record.outcome} · ${record.connectionId}`;
    ui.details.append(item);
  }
}

async function showDetails(event: Envelope): Promise<void> {
  ui.details.textContent = 'Loading…';
  try {
    renderDetails(
      event,
      await api(
        `/console/api/events/${encodeURIComponent(event.tenantId)}/${encodeURIComponent(event.id)}`,
        eventDetailsResponseSchema,
      ),
    );
  } catch (error) {
    ui.details.textContent = `Could not load the audit trail: ${describe(error)}`;
  }
}

function showState(state: ConnectionState | 'idle'): void {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
  ui.connect.disabled = state !== 'idle' && state !== 'closed';
  ui.disconnect.disabled = state === 'idle' || state === 'closed';
}

function channelList(): string[] {
  return ui.channels.value
    .split(',')
    .map((channel) => channel.trim())
    .filter((channel) => channel.length > 0);
}

function connectConsole(): void {
  if (!config) return;
  client?.close();
  const tenantId = ui.tenant.value.trim();
  const subject = ui.subject.value.trim();
  const channels = channelList();
  const current = connect({
    url: config.webSocketUrl,
    // A fresh token on every (re)connect, as an application with short-lived tokens would do.
    getToken: async () =>
      (await api('/console/api/token', tokenResponseSchema, { tenantId, subject, channels })).token,
    backoff: { baseMs: 250, maxMs: 5000 },
    // The console acknowledges what it shows, so each event's details list its receipt.
    receipts: true,
  });
  client = current;
  current.on('state', (state) => {
    if (state === 'reconnecting') {
      reconnects += 1;
      ui.reconnects.textContent = String(reconnects);
    }
    showState(state);
    log(`connection ${state}`);
    // "live": subscribed and caught up (resumes done), not merely connected.
    ui.state.dataset.live = 'false';
    if (state === 'open') {
      current.ready().then(
        () => {
          if (client === current && current.state === 'open') ui.state.dataset.live = 'true';
        },
        () => {},
      );
    }
  });
  current.on('refresh', (notice) => {
    refreshes += 1;
    ui.refreshes.textContent = String(refreshes);
    log(`refresh ${notice.channel}: ${notice.reason} (reload this channel's state)`, 'refresh');
  });
  current.on('error', (error) => log(`${error.name}: ${error.message}`, 'error'));
  for (const channel of channels) current.subscribe(channel, showEvent);
  showState(current.state);
  log(`connecting as ${subject} to tenant ${tenantId}, channels ${channels.join(', ')}`);
}

async function writeDemoEvents(): Promise<void> {
  const count = Number.parseInt(ui.demoCount.value, 10) || 1;
  const channel = ui.demoChannel.value.trim() || channelList()[0] || 'orders';
  ui.write.disabled = true;
  try {
    const { eventIds } = await api('/console/api/events', writeEventsResponseSchema, {
      tenantId: ui.tenant.value.trim(),
      channel,
      count,
    });
    log(`wrote ${eventIds.length} demo event(s) to ${channel}`);
  } catch (error) {
    log(`could not write demo events: ${describe(error)}`, 'error');
  } finally {
    ui.write.disabled = false;
  }
}

async function dropConnections(): Promise<void> {
  try {
    const { dropped } = await api('/console/api/drop-connections', dropConnectionsResponseSchema, {});
    log(`dropped ${dropped} connection(s) from the server side`);
  } catch (error) {
    log(`could not drop connections: ${describe(error)}`, 'error');
  }
}

async function start(): Promise<void> {
  config = await api('/console/api/config', consoleConfigSchema);
  ui.wsUrl.textContent = config.webSocketUrl || '(no WebSocket endpoint)';
  ui.tenant.value = config.defaults.tenantId;
  ui.subject.value = config.defaults.subject;
  ui.channels.value = config.defaults.channels.join(', ');
  ui.demoChannel.value = config.defaults.channels[0] ?? 'orders';
  ui.drop.disabled = !config.canDropConnections;
  ui.drop.title = config.canDropConnections ? '' : 'This runtime does not expose dropConnections';
  showState('idle');
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    connectConsole();
  });
  ui.disconnect.addEventListener('click', () => client?.close());
  ui.write.addEventListener('click', () => void writeDemoEvents());
  ui.drop.addEventListener('click', () => void dropConnections());
  document.body.dataset.ready = 'true';
}

start().catch((error: unknown) => log(`the console could not start: ${describe(error)}`, 'error'));
