// Refused (admin): deliveries the gateway turned away, newest first, so a
// wrong secret or token shows at once.
import { gql } from '../api.js';
import { code, h, time } from '../dom.js';
import { listView } from '../paged.js';

const QUERY = `query Refused($after: String) {
  rejectedDeliveries(first: 20, after: $after) {
    edges { node { id source reason status remoteAddr bodyBytes bodySha256 receivedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** What an operator should look at for each refusal reason (contract section 2). */
const CHECK = {
  INVALID_SIGNATURE: 'signature matches no configured secret: CANOPY_WEBHOOK_SECRETS',
  SOURCE_NOT_CONFIGURED: 'no secret or token configured for this source',
  INVALID_TOKEN: 'token not accepted: LOANPRO_WEBHOOK_TOKENS / EMBEDDED_FUNDING_CALLBACK_TOKEN',
  IP_NOT_ALLOWED: 'sender not in EMBEDDED_FUNDING_ALLOWED_IPS (or TRUSTED_PROXIES)',
  INVALID_BODY: 'the body is not what the source sends',
  PAYLOAD_TOO_LARGE: 'body over MAX_BODY_BYTES',
  REQUEST_TIMEOUT: 'body not received within 30 s',
};

export function render(main) {
  const intro = 'Deliveries answered 4xx, newest first. The body is never kept, only its size and SHA-256.';
  listView(main, 'Refused deliveries', intro, {
    caption: 'Refused deliveries, newest first',
    columns: [
      { label: 'Received', cell: (r) => time(r.receivedAt) },
      { label: 'Source', cell: (r) => r.source },
      { label: 'Reason', cell: (r) => h('strong', {}, r.reason) },
      { label: 'Status', cell: (r) => r.status },
      { label: 'What to check', cell: (r) => CHECK[r.reason] ?? '—' },
      { label: 'From', cell: (r) => r.remoteAddr ?? '—' },
      { label: 'Bytes', cell: (r) => r.bodyBytes },
      { label: 'SHA-256', cell: (r) => (r.bodySha256 ? code(r.bodySha256.slice(0, 16) + '…') : '—') },
    ],
    load: async (after) => (await gql(QUERY, { after })).rejectedDeliveries,
    empty: 'No delivery has been refused.',
  });
}
