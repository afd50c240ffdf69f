// Live: events as they are committed, over the subscription. The last
// cursor is kept for this tab, so a reload, a reconnect or a pause resumes
// right after it: nothing missed, nothing shown twice.
import { gql } from '../api.js';
import { alert, code, field, fill, h, heading, list, tableRow, table } from '../dom.js';
import { subscribe } from '../ws.js';
import { SOURCES, eventColumns } from './events.js';

const FIELDS = 'fragment Live on Event { id cursor source type accountId receivedAt payload }';
const SUBSCRIPTION = `subscription Live($filter: EventFilter, $after: String) {
  events(filter: $filter, after: $after) { ...Live }
} ${FIELDS}`;
// `newest` (any event) is where to start when none matches the filter yet.
const LATEST = `query Latest($filter: EventFilter) {
  events(filter: $filter, first: 20) { edges { node { ...Live } } }
  newest: events(first: 1) { edges { node { cursor } } }
} ${FIELDS}`;

const CURSOR = 'gateway.console.live.cursor';
const FILTER = 'gateway.console.live.filter';
const MAX_ROWS = 500;

const columns = [...eventColumns, { label: 'Cursor', cell: (e) => code(e.cursor) }];
const more = { label: 'Payload', value: (e) => e.payload };

export function render(main) {
  heading(main, 'Live');
  const saved = JSON.parse(sessionStorage.getItem(FILTER) ?? '{}');
  const source = h('select', { name: 'source' },
    h('option', { value: '' }, 'All sources'),
    SOURCES.map((s) => h('option', { value: s, selected: saved.source === s }, s)));
  const types = h('input', { type: 'text', name: 'types', value: saved.types ?? '', autocomplete: 'off' });
  const account = h('input', { type: 'text', name: 'accountId', value: saved.accountId ?? '', autocomplete: 'off' });
  const pause = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
  const form = h('form', { class: 'filters', 'aria-label': 'Live filter' },
    field('Source', source),
    field('Types', types, 'comma list'),
    field('Account id', account),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply'), pause));
  const state = h('span', { id: 'live-state' }, 'starting');
  const cursorEl = h('code', { id: 'live-cursor' }, '—');
  const note = h('p', { id: 'live-note' });
  const problem = h('div');
  const { region, body } = table('Events as they arrive, newest first', columns, [], { more });
  main.append(form,
    h('p', { class: 'live-status' }, 'Connection: ', state, ' · Resume cursor: ', cursorEl),
    note, problem, region);

  let feed = null;
  let left = false;
  const setCursor = (cursor) => {
    if (cursor) sessionStorage.setItem(CURSOR, cursor);
    fill(cursorEl, cursor ?? '—');
  };
  const filter = () => {
    const f = {};
    if (source.value) f.sources = [source.value];
    if (list(types.value).length) f.types = list(types.value);
    if (account.value.trim()) f.accountId = account.value.trim();
    return f;
  };
  const addRow = (event) => {
    body.prepend(...tableRow(columns, event, { attrs: { dataset: { eventId: event.id, cursor: event.cursor } }, more }));
    // Two rows an event: its own and its payload's.
    while (body.rows.length > 2 * MAX_ROWS) body.lastElementChild.remove();
  };

  function follow(after) {
    if (left) return;
    fill(problem);
    feed = subscribe({
      query: SUBSCRIPTION,
      variables: { filter: filter() },
      after,
      cursorOf: (data) => data.events.cursor,
      onEvent: (data) => {
        addRow(data.events);
        setCursor(data.events.cursor);
      },
      onState: (text) => fill(state, text),
      onFatal: (message) => {
        fill(state, 'stopped');
        fill(problem, alert(message));
      },
    });
  }

  // The latest page gives the table its history; the subscription then
  // starts after the kept cursor (replaying what came since) or, on a first
  // visit, after the newest event of that page, else the newest of all (so
  // nothing committed meanwhile is missed; null only for an empty store).
  async function start() {
    fill(state, 'starting');
    const kept = sessionStorage.getItem(CURSOR);
    let answer;
    try {
      answer = await gql(LATEST, { filter: filter() });
    } catch (error) {
      fill(problem, alert(error.message));
      return;
    }
    const latest = answer.events.edges.map((edge) => edge.node);
    const from = kept ? latest.findIndex((e) => e.cursor === kept) : 0;
    const history = from < 0 ? [] : latest.slice(from);
    history.reverse().forEach(addRow);
    const after = kept ?? history.at(-1)?.cursor ?? answer.newest.edges[0]?.node.cursor ?? null;
    setCursor(after);
    fill(note, kept ? ['Resumed after cursor ', code(kept), '.'] : null);
    follow(after);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    feed?.stop();
    sessionStorage.setItem(FILTER, JSON.stringify({ source: source.value, types: types.value, accountId: account.value }));
    sessionStorage.removeItem(CURSOR);
    body.replaceChildren();
    setPaused(false);
    start();
  });

  function setPaused(paused) {
    pause.setAttribute('aria-pressed', String(paused));
    fill(pause, paused ? 'Resume' : 'Pause');
  }
  pause.addEventListener('click', () => {
    if (pause.getAttribute('aria-pressed') === 'true') {
      setPaused(false);
      follow(sessionStorage.getItem(CURSOR));
    } else {
      setPaused(true);
      feed?.stop();
      fill(state, 'paused');
    }
  });

  start();
  return () => {
    left = true;
    feed?.stop();
  };
}
