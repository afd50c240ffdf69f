// A Relay connection shown a page at a time, with Previous/Next buttons.
import { alert, fill, h, heading, table } from './dom.js';

/**
 * Renders into `container` the pages `load(after)` returns (a connection:
 * {edges, pageInfo}); `columns` as dom.table takes them, applied to nodes.
 */
export function pagedList(container, { caption, load, columns, more = null, empty = 'Nothing yet.' }) {
  const starts = [null]; // the `after` of every page up to the current one
  async function show() {
    let connection;
    try {
      connection = await load(starts.at(-1));
    } catch (error) {
      fill(container, alert(error.message));
      return;
    }
    const nodes = connection.edges.map((edge) => edge.node);
    const page = starts.length;
    const previous = h('button', { type: 'button', disabled: page === 1 }, '← Previous page');
    const next = h('button', { type: 'button', disabled: !connection.pageInfo.hasNextPage }, 'Next page →');
    previous.addEventListener('click', () => { starts.pop(); show(); });
    next.addEventListener('click', () => { starts.push(connection.pageInfo.endCursor); show(); });
    const { region } = table(`${caption}, page ${page}`, columns, nodes, { more });
    fill(container,
      nodes.length ? region : h('p', {}, empty),
      h('div', { class: 'pager' }, previous, next));
  }
  show();
  return {
    /** Back to the first page. */
    reset() {
      starts.length = 1;
      show();
    },
  };
}

/** A whole view that is one list: its heading, a line about it, the pages. */
export function listView(main, title, intro, options) {
  heading(main, title);
  if (intro) main.append(h('p', {}, intro));
  const results = h('div');
  main.append(results);
  return pagedList(results, options);
}
