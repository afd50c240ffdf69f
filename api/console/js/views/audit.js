// Audit (admin): every mutation, who made it (the key's id) and its outcome.
import { gql } from '../api.js';
import { code, h, time } from '../dom.js';
import { listView } from '../paged.js';

const QUERY = `query Audit($after: String) {
  auditLog(first: 20, after: $after) {
    edges { node { id keyId action input outcome at } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export function render(main) {
  listView(main, 'Audit log', null, {
    caption: 'Mutations, newest first',
    columns: [
      { label: 'At', cell: (a) => time(a.at) },
      { label: 'Key', cell: (a) => code(a.keyId) },
      { label: 'Action', cell: (a) => a.action },
      { label: 'Outcome', cell: (a) => h('strong', {}, a.outcome) },
    ],
    more: { label: 'Input', value: (a) => a.input },
    load: async (after) => (await gql(QUERY, { after })).auditLog,
    empty: 'No mutation yet.',
  });
}
