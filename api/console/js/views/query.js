// Query: a plain GraphQL editor (query, variables, result) that POSTs to
// /graphql as the signed-in key. It is what GET /graphql serves, so the
// API can be explored with no network beyond the gateway.
import { post } from '../api.js';
import { alert, field, fill, h, heading } from '../dom.js';

const EXAMPLE = `query Latest($first: Int) {
  events(first: $first) {
    edges { node { id source type accountId receivedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const STORE = 'gateway.console.query';

export function render(main) {
  heading(main, 'Query');
  const saved = JSON.parse(sessionStorage.getItem(STORE) ?? 'null') ?? { query: EXAMPLE, variables: '{"first": 5}' };
  const query = h('textarea', { name: 'query', rows: 14, spellcheck: 'false', class: 'code' });
  const variables = h('textarea', { name: 'variables', rows: 4, spellcheck: 'false', class: 'code' });
  query.value = saved.query;
  variables.value = saved.variables;
  const result = h('pre', { id: 'query-result', class: 'json', 'aria-live': 'polite', tabindex: '0' });
  const problem = h('div');
  const form = h('form', { class: 'query', 'aria-label': 'GraphQL query' },
    field('Query', query, 'Ctrl+Enter runs it'),
    field('Variables (JSON)', variables),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Run')));
  main.append(form, problem, h('h3', {}, 'Result'), result);

  async function run() {
    fill(problem);
    let vars;
    try {
      vars = variables.value.trim() ? JSON.parse(variables.value) : {};
    } catch (error) {
      fill(problem, alert(`Variables are not JSON: ${error.message}`));
      return;
    }
    sessionStorage.setItem(STORE, JSON.stringify({ query: query.value, variables: variables.value }));
    fill(result, 'Running…');
    try {
      fill(result, JSON.stringify(await post(query.value, vars), null, 2));
    } catch (error) {
      fill(result);
      fill(problem, alert(error.message));
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
}
