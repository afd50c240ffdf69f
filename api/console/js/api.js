// The public GraphQL API, and who the page is signed in as.

const KEY_STORE = 'gateway.console.key';

/** The key (null in open mode) and what it may see. */
export const session = { key: null, admin: false, open: false };

/** The gateway refused the key (or wants one). */
export class Unauthenticated extends Error {}

/** A GraphQL answer with errors; `errors` as the gateway sent them. */
export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('\n'));
    this.errors = errors;
  }
}

/** POST /graphql; the whole answer ({data, errors}). */
export async function post(query, variables = {}, key = session.key) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    credentials: 'omit',
  });
  if (response.status === 401) throw new Unauthenticated('The gateway did not accept this key.');
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`The gateway answered HTTP ${response.status} without a GraphQL response.`);
  }
  if (!body.data && !body.errors) throw new Error(`The gateway answered HTTP ${response.status}.`);
  return body;
}

/** `data`, or a GraphQLError when any error came back. */
export async function gql(query, variables) {
  const body = await post(query, variables);
  if (body.errors?.length) throw new GraphQLError(body.errors);
  return body.data;
}

// Asking for no rejected delivery costs nothing and tells whether the key is
// admin: below admin the field is FORBIDDEN.
const WHO = '{ rejectedDeliveries(first: 0) { pageInfo { hasNextPage } } }';

/** Checks `key` (null: open mode) with the gateway and keeps it for this tab. */
export async function signIn(key) {
  const body = await post(WHO, {}, key);
  const codes = (body.errors ?? []).map((e) => e.extensions?.code);
  if (codes.some((c) => c !== 'FORBIDDEN')) throw new GraphQLError(body.errors);
  Object.assign(session, { key, admin: codes.length === 0, open: key == null });
  if (key) sessionStorage.setItem(KEY_STORE, key);
}

/** Signs in with the key this tab kept, else in open mode; false when neither works. */
export async function restore() {
  const key = sessionStorage.getItem(KEY_STORE);
  try {
    await signIn(key);
    return true;
  } catch (error) {
    if (!(error instanceof Unauthenticated)) throw error;
    sessionStorage.removeItem(KEY_STORE);
    return false;
  }
}

export function signOut() {
  sessionStorage.clear();
  Object.assign(session, { key: null, admin: false, open: false });
}

/** The `connection_init` payload of the WebSocket. */
export function connectionInit() {
  return session.key ? { Authorization: `Bearer ${session.key}` } : {};
}
