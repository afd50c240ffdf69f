// Events: search with every EventFilter field, page by page; one event's detail.
import { gql } from '../api.js';
import { alert, code, facts, field, fill, h, heading, json, link, list, time } from '../dom.js';
import { pagedList } from '../paged.js';

export const SOURCES = ['CANOPY', 'LOANPRO', 'EMBEDDED_FUNDING'];

const SEARCH = `query Events($filter: EventFilter, $first: Int, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    edges { node { id cursor source type accountId receivedAt occurredAt deliveries } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const DETAIL = `query Event($id: ID!) {
  event(id: $id) {
    id cursor source type accountId occurredAt receivedAt contentType deliveries payload followUp
    account { id status }
  }
}`;

/** The columns every list of events shows. */
export const eventColumns = [
  { label: 'Received', cell: (e) => time(e.receivedAt) },
  { label: 'Source', cell: (e) => e.source },
  { label: 'Type', cell: (e) => e.type },
  { label: 'Account', cell: (e) => (e.accountId ? link(`#/accounts/${encodeURIComponent(e.accountId)}`, e.accountId) : '—') },
  { label: 'Event', cell: (e) => link(`#/events/${encodeURIComponent(e.id)}`, e.id) },
];

export function render(main, id) {
  return id ? detail(main, id) : search(main);
}

function search(main) {
  heading(main, 'Events');
  const sources = SOURCES.map((s) => h('input', { type: 'checkbox', name: 'sources', value: s }));
  const input = (name, placeholder) => h('input', { type: 'text', name, placeholder, autocomplete: 'off' });
  const types = input('types', 'account_update, payment_due_date');
  const accountId = input('accountId', 'acct_…');
  const since = input('since', '2026-12-01T00:00:00Z');
  const until = input('until', '2026-12-02T00:00:00Z');
  const first = h('select', { name: 'first' }, [20, 50, 100].map((n) => h('option', { value: n }, n)));
  const problem = h('div');
  const results = h('div');
  const form = h('form', { class: 'filters', 'aria-label': 'Event filter' },
    h('fieldset', {}, h('legend', {}, 'Sources (none ticked: all)'),
      sources.map((box) => h('label', { class: 'check' }, box, ` ${box.value}`))),
    field('Types', types, 'comma list'),
    field('Account id', accountId),
    field('Received since', since, 'RFC 3339, inclusive'),
    field('Received until', until, 'RFC 3339, exclusive'),
    field('Per page', first),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search')));
  main.append(form, problem, results);

  let filter = {};
  const pages = pagedList(results, {
    caption: 'Events, newest first',
    columns: [...eventColumns, { label: 'Deliveries', cell: (e) => e.deliveries }],
    load: async (after) => (await gql(SEARCH, { filter, first: Number(first.value), after })).events,
    empty: 'No event matches.',
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = {};
    const ticked = sources.filter((box) => box.checked).map((box) => box.value);
    if (ticked.length) next.sources = ticked;
    if (list(types.value).length) next.types = list(types.value);
    if (accountId.value.trim()) next.accountId = accountId.value.trim();
    const bad = [];
    for (const [name, control] of [['since', since], ['until', until]]) {
      const value = control.value.trim();
      control.removeAttribute('aria-invalid');
      if (!value) continue;
      if (Number.isNaN(Date.parse(value))) {
        bad.push(`${name}: "${value}" is not an RFC 3339 date-time`);
        control.setAttribute('aria-invalid', 'true');
      } else {
        next[name] = value;
      }
    }
    fill(problem, bad.length ? alert(bad.join('; ')) : null);
    if (bad.length) return;
    filter = next;
    pages.reset();
  });
}

async function detail(main, id) {
  heading(main, `Event ${id}`);
  main.append(h('p', {}, link('#/events', '← All events')));
  let event;
  try {
    ({ event } = await gql(DETAIL, { id }));
  } catch (error) {
    main.append(alert(error.message));
    return;
  }
  if (!event) {
    main.append(h('p', {}, 'No event has this id.'));
    return;
  }
  main.append(
    facts([
      ['Source', event.source],
      ['Type', event.type],
      ['Account', event.accountId ? link(`#/accounts/${encodeURIComponent(event.accountId)}`, event.accountId) : null],
      ['Account status', event.account?.status],
      ['Occurred', time(event.occurredAt)],
      ['Received', time(event.receivedAt)],
      ['Deliveries', String(event.deliveries)],
      ['Content type', event.contentType],
      ['Cursor', code(event.cursor)],
    ]),
    h('h3', {}, 'Payload'),
    json(event.payload),
    h('h3', {}, 'Follow-up'),
    event.followUp == null ? h('p', {}, 'None fetched.') : json(event.followUp),
  );
}
