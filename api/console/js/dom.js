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
 */
export function table(caption, columns, rows, rowAttrs = () => ({})) {
  const id = `table-${++tables}`;
  const body = h('tbody', {}, rows.map((row) => tableRow(columns, row, rowAttrs(row))));
  const el = h('table', {},
    h('caption', { id }, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    body);
  const region = h('div', { class: 'scroll', role: 'region', 'aria-labelledby': id, tabindex: '0' }, el);
  return { region, body };
}

export function tableRow(columns, row, attrs = {}) {
  return h('tr', attrs, columns.map((c) => h('td', {}, c.cell(row))));
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]));
}

/** JSON, pretty-printed. */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

/** A payload, one line when closed, pretty when opened. */
export function payload(value) {
  const text = JSON.stringify(value);
  const short = text.length > 72 ? `${text.slice(0, 71)}…` : text;
  return h('details', { class: 'payload' }, h('summary', {}, short), json(value));
}

/** A time as the gateway wrote it (exact, so it can be pasted into a filter). */
export function time(iso) {
  return iso ? h('time', { datetime: iso }, iso.replace('T', ' ')) : '—';
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
