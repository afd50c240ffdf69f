// Small DOM helpers: every text goes in as text (never as HTML), so nothing
// an event carries can run in the page.

/** An element: h('a', {href: '#/x'}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...nodes(children));
  return el;
}

function nodes(children) {
  return children
    .flat(Infinity)
    .filter((c) => c != null && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
  return el;
}

/** A view's heading, focused so keyboard and screen-reader users land on it. */
export function heading(main, text) {
  document.title = `${text} — Gateway console`;
  const h2 = h('h2', { tabindex: '-1' }, text);
  main.append(h2);
  h2.focus();
  return h2;
}

let tables = 0;

/**
 * A table in a scrollable region (wide tables scroll on a phone instead of
 * widening the page). `columns`: [{label, cell: (row) => node | text}].
 * With `more` ({label, value: (row) => JSON}), each row ends with a one-line
 * preview of that value and a button that opens it pretty-printed in a row
 * of its own, as wide as the table.
 */
export function table(caption, columns, rows, { rowAttrs = () => ({}), more = null } = {}) {
  const id = `table-${++tables}`;
  const labels = [...columns.map((c) => c.label), ...(more ? [more.label] : [])];
  const body = h('tbody', {}, rows.map((row) => tableRow(columns, row, { attrs: rowAttrs(row), more })));
  const el = h('table', {},
    h('caption', { id }, caption),
    h('thead', {}, h('tr', {}, labels.map((label) => h('th', { scope: 'col' }, label)))),
    body);
  const region = h('div', { class: 'scroll', role: 'region', 'aria-labelledby': id, tabindex: '0' }, el);
  return { region, body };
}

/** A row's <tr> elements: the row, and its hidden detail row with `more`. */
export function tableRow(columns, row, { attrs = {}, more = null } = {}) {
  const tr = h('tr', attrs, columns.map((c) => h('td', {}, c.cell(row))));
  if (!more) return [tr];
  const value = more.value(row);
  const detailId = `more-${++tables}`;
  const detail = h('tr', { class: 'more', id: detailId, hidden: true },
    h('td', { colspan: columns.length + 1 }, json(value)));
  const button = h('button', { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': detailId }, 'Show');
  button.addEventListener('click', () => {
    const opening = detail.hidden;
    detail.hidden = !opening;
    button.setAttribute('aria-expanded', String(opening));
    fill(button, opening ? 'Hide' : 'Show');
  });
  tr.append(h('td', { class: 'preview-cell' }, button, h('span', { class: 'preview' }, JSON.stringify(value))));
  return [tr, detail];
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]));
}

/** JSON, pretty-printed. */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

const RFC3339 = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * A time, shown to the millisecond; the exact value the gateway wrote (to
 * paste into a filter) is its `datetime` and its tooltip.
 */
export function time(iso) {
  if (!iso) return '—';
  const parts = RFC3339.exec(iso);
  const zone = parts && (parts[4] === 'Z' || parts[4] === '+00:00' ? 'UTC' : parts[4]);
  const shown = parts ? `${parts[1]} ${parts[2]}${(parts[3] ?? '').slice(0, 4)} ${zone}` : iso;
  return h('time', { datetime: iso, title: iso }, shown);
}

/** Minor units as a decimal amount (the currency is the lender's). */
export function cents(value) {
  if (value == null) return '—';
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  const whole = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

export function code(text) {
  return text == null ? '—' : h('code', {}, text);
}

export function link(href, text) {
  return h('a', { href }, text);
}

/** An error message read out by screen readers as it appears. */
export function alert(message) {
  return h('p', { class: 'error', role: 'alert' }, message);
}

/** A labelled form control. */
export function field(label, control, hint) {
  control.id ||= `f-${++tables}`;
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', { id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/** A comma list typed by a person: trimmed, empty entries dropped. */
export function list(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}
