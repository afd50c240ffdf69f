// Accounts: the list (by status), and one account's projection, events and
// notification configs; for admin, the configure-notification form (the
// contract's rules checked here first) and a refresh from Canopy.
import { GraphQLError, gql, session } from '../api.js';
import { alert, cents, code, facts, field, fill, h, heading, json, link, table, time } from '../dom.js';
import { pagedList } from '../paged.js';
import { check } from '../rules.js';
import { eventColumns } from './events.js';

const LIST = `query Accounts($status: String, $after: String) {
  accounts(status: $status, first: 20, after: $after) {
    edges { node { id customerId status statusSubtype totalBalanceCents daysPastDue updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const ACCOUNT = `query Account($id: ID!) {
  account(id: $id) {
    id customerId status statusSubtype creditLimitCents availableCreditCents totalBalanceCents
    minPayDueCents minPayDueAt daysPastDue delinquentAsOf updatedAt snapshot
  }
}`;

const EVENTS = `query AccountEvents($id: ID!, $after: String) {
  account(id: $id) {
    events(first: 20, after: $after) {
      edges { node { id source type accountId receivedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const CONFIG_FIELDS = 'id notificationType timeOffset time periodicInterval inForce updatedAt';
const CONFIGS = `query Configs($id: ID!) { notificationConfigs(accountId: $id) { ${CONFIG_FIELDS} } }`;
const CONFIGURE = `mutation Configure($input: ConfigureNotificationInput!) {
  configureNotification(input: $input) { ${CONFIG_FIELDS} }
}`;
const REFRESH = 'mutation Refresh($id: ID!) { refreshAccount(id: $id) { id updatedAt } }';

const TYPES = ['PAYMENT_DUE_DATE', 'MINIMUM_PAYMENT_DUE', 'MINIMUM_PAYMENT_MISSED', 'ACCOUNT_DELINQUENCY'];

const accountLink = (id) => link(`#/accounts/${encodeURIComponent(id)}`, id);

export function render(main, id) {
  return id ? detail(main, id) : accounts(main);
}

function accounts(main) {
  heading(main, 'Accounts');
  const status = h('input', { type: 'text', name: 'status', placeholder: 'active', autocomplete: 'off' });
  const form = h('form', { class: 'filters', 'aria-label': 'Account filter' },
    field('Status', status, 'exact match; empty: all'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show')));
  const results = h('div');
  main.append(form, results);
  const pages = pagedList(results, {
    caption: 'Accounts by id',
    columns: [
      { label: 'Account', cell: (a) => accountLink(a.id) },
      { label: 'Customer', cell: (a) => a.customerId ?? '—' },
      { label: 'Status', cell: (a) => [a.status ?? '—', a.statusSubtype ? ` / ${a.statusSubtype}` : ''] },
      { label: 'Total balance', cell: (a) => cents(a.totalBalanceCents) },
      { label: 'Days past due', cell: (a) => a.daysPastDue ?? '—' },
      { label: 'Updated', cell: (a) => time(a.updatedAt) },
    ],
    load: async (after) => (await gql(LIST, { status: status.value.trim() || null, after })).accounts,
    empty: 'No account matches.',
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    pages.reset();
  });
}

async function detail(main, id) {
  heading(main, `Account ${id}`);
  main.append(h('p', {}, link('#/accounts', '← All accounts')));
  const state = h('section', { 'aria-labelledby': 'account-state' });
  const grid = h('div', { class: 'columns' }, state);
  main.append(grid);
  if (!(await showState(state, id))) return;

  const configs = h('div');
  const notifications = h('section', { 'aria-labelledby': 'account-configs' },
    h('h3', { id: 'account-configs' }, 'Notification configs'), configs);
  grid.append(notifications);
  const reloadConfigs = () => showConfigs(configs, id);
  await reloadConfigs();
  if (session.admin) notifications.append(configureForm(id, reloadConfigs));

  const events = h('div');
  main.append(h('section', { 'aria-labelledby': 'account-events' },
    h('h3', { id: 'account-events' }, 'Events'), events));
  pagedList(events, {
    caption: `Events of ${id}, newest first`,
    columns: eventColumns,
    load: async (after) => (await gql(EVENTS, { id, after })).account.events,
    empty: 'No event names this account.',
  });
}

/** The projection; false when there is no such account. */
async function showState(section, id) {
  let account;
  try {
    ({ account } = await gql(ACCOUNT, { id }));
  } catch (error) {
    fill(section, alert(error.message));
    return false;
  }
  if (!account) {
    fill(section, h('p', {}, 'No account has this id.'));
    return false;
  }
  const refresh = session.admin ? refreshButton(section, id) : null;
  fill(section,
    h('h3', { id: 'account-state' }, 'State'),
    facts([
      ['Customer', account.customerId],
      ['Status', account.status],
      ['Status subtype', account.statusSubtype],
      ['Credit limit', cents(account.creditLimitCents)],
      ['Available credit', cents(account.availableCreditCents)],
      ['Total balance', cents(account.totalBalanceCents)],
      ['Minimum payment due', cents(account.minPayDueCents)],
      ['Minimum payment due at', time(account.minPayDueAt)],
      ['Days past due', account.daysPastDue == null ? null : String(account.daysPastDue)],
      ['Delinquent as of', time(account.delinquentAsOf)],
      ['Updated', time(account.updatedAt)],
    ]),
    refresh,
    h('details', { class: 'snapshot' }, h('summary', {}, 'Latest full account object (snapshot)'),
      account.snapshot == null ? h('p', {}, 'None received yet.') : json(account.snapshot)));
  return true;
}

function refreshButton(section, id) {
  const button = h('button', { type: 'button' }, 'Refresh from Canopy');
  const result = h('span', { role: 'status' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    fill(result, ' Asking Canopy…');
    try {
      await gql(REFRESH, { id });
      await showState(section, id);
    } catch (error) {
      button.disabled = false;
      fill(result, alert(error.message));
    }
  });
  return h('p', {}, button, result);
}

async function showConfigs(container, id) {
  try {
    const { notificationConfigs } = await gql(CONFIGS, { id });
    const { region } = table('Notification configs Canopy accepted', [
      { label: 'Type', cell: (c) => c.notificationType },
      { label: 'Offset', cell: (c) => c.timeOffset ?? '—' },
      { label: 'Time', cell: (c) => c.time ?? '—' },
      { label: 'Interval', cell: (c) => c.periodicInterval ?? '—' },
      // A time-offset delinquency config is not used while a periodic one is.
      { label: 'In force', cell: (c) => (c.inForce ? 'yes' : 'no (a periodic one is)') },
      { label: 'Updated', cell: (c) => time(c.updatedAt) },
    ], notificationConfigs);
    fill(container, notificationConfigs.length ? region : h('p', {}, 'None configured.'));
  } catch (error) {
    fill(container, alert(error.message));
  }
}

function configureForm(accountId, done) {
  const controls = {
    notificationType: h('select', { name: 'notificationType' }, TYPES.map((t) => h('option', { value: t }, t))),
    timeOffset: h('input', { type: 'text', name: 'timeOffset', placeholder: '-2 days', autocomplete: 'off' }),
    time: h('input', { type: 'text', name: 'time', placeholder: '7:30:00', autocomplete: 'off' }),
    periodicInterval: h('select', { name: 'periodicInterval' },
      h('option', { value: '' }, 'none'), ['DAILY', 'WEEKLY'].map((p) => h('option', { value: p }, p))),
  };
  const hints = {
    notificationType: null,
    timeOffset: '"<integer> days" or "<integer> hours"; required without a periodic interval',
    time: '24-hour H:MM:SS, optional',
    periodicInterval: 'ACCOUNT_DELINQUENCY only, without time offset or time',
  };
  const errors = Object.fromEntries(Object.keys(controls).map((name) => [name, h('span', { class: 'field-error', id: `configure-${name}-error` })]));
  const summary = h('div', { id: 'configure-result' });
  const form = h('form', { class: 'configure', 'aria-labelledby': 'configure-title', novalidate: true },
    h('h3', { id: 'configure-title' }, 'Configure a notification'),
    Object.entries(controls).map(([name, control]) => {
      control.id = `configure-${name}`;
      const wrapper = field(labelOf(name), control, hints[name]);
      wrapper.append(errors[name]);
      return wrapper;
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send to Canopy')),
    summary);

  const show = (violations) => {
    for (const [name, control] of Object.entries(controls)) {
      const mine = violations.filter((v) => v.field === name);
      fill(errors[name], mine.map((v) => `${labelOf(name)} ${v.message}`).join('; '));
      if (mine.length) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-errormessage', errors[name].id);
      } else {
        control.removeAttribute('aria-invalid');
      }
    }
    fill(summary, violations.length
      ? alert(['Not sent: ', violations.map((v) => `${v.field} ${v.message}`).join('; ')])
      : null);
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = { accountId, notificationType: controls.notificationType.value };
    for (const name of ['timeOffset', 'time', 'periodicInterval']) {
      const value = controls[name].value.trim();
      if (value) input[name] = value;
    }
    const violations = check(input);
    show(violations);
    if (violations.length) return;
    fill(summary, h('p', { role: 'status' }, 'Sending to Canopy…'));
    try {
      const { configureNotification: config } = await gql(CONFIGURE, { input });
      await done();
      fill(summary, h('p', { role: 'status', class: 'ok' }, `Canopy accepted: ${config.notificationType} `, code(config.id), '.'));
    } catch (error) {
      if (!(error instanceof GraphQLError)) return fill(summary, alert(error.message));
      const byField = error.errors.filter((e) => e.extensions?.field in controls)
        .map((e) => {
          const prefix = `${e.extensions.field}: `;
          const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
          return { field: e.extensions.field, message };
        });
      if (byField.length === error.errors.length) return show(byField);
      fill(summary, alert(error.errors.map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('\n')));
    }
  });
  return form;
}

function labelOf(name) {
  return { notificationType: 'Notification type', timeOffset: 'Time offset', time: 'Time', periodicInterval: 'Periodic interval' }[name];
}
