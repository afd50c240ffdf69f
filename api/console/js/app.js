// The console: sign-in, the header and the views, each on its own #/route.
import { Unauthenticated, restore, session, signIn, signOut } from './api.js';
import { alert, field, fill, h, heading } from './dom.js';
import { watch } from './status.js';
import * as accounts from './views/accounts.js';
import * as audit from './views/audit.js';
import * as events from './views/events.js';
import * as live from './views/live.js';
import * as query from './views/query.js';
import * as refused from './views/refused.js';

const views = { live, events, accounts, refused, audit, query };
const ADMIN_ONLY = new Set(['refused', 'audit']);

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let leave = null;

/** GET /graphql serves this page too, opening on the query view. */
const home = location.pathname === '/graphql' ? 'query' : 'live';

function route() {
  const hash = location.hash || `#/${home}`;
  if (!hash.startsWith('#/')) return; // an in-page link, such as "skip to content"
  const [name, ...rest] = hash.slice(2).split('/');
  const view = views[name] ? name : home;
  leave?.();
  leave = null;
  main.replaceChildren();
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (ADMIN_ONLY.has(view) && !session.admin) {
    heading(main, 'Admin only');
    main.append(h('p', {}, 'This view needs an admin key.'));
    return;
  }
  const id = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const cleanup = views[view].render(main, id);
  if (typeof cleanup === 'function') leave = cleanup;
}

function showSignedIn() {
  const who = document.getElementById('who');
  fill(document.getElementById('who-role'), session.open
    ? 'Open mode (loopback, no key): admin'
    : `Signed in (${session.admin ? 'admin' : 'read or pii'} key)`);
  document.getElementById('sign-out').hidden = session.open;
  who.hidden = false;
  nav.hidden = false;
  for (const li of nav.querySelectorAll('[data-admin]')) li.hidden = !session.admin;
  window.addEventListener('hashchange', route);
  route();
}

function showSignIn(message) {
  heading(main, 'Sign in');
  const key = h('input', { type: 'password', name: 'key', autocomplete: 'off', required: true });
  const problem = h('div', {}, message ? alert(message) : null);
  const form = h('form', { class: 'sign-in', 'aria-label': 'Sign in' },
    field('API key', key, 'Kept in this browser tab only (sessionStorage); sent as a bearer token.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await signIn(key.value.trim());
    } catch (error) {
      fill(problem, alert(error instanceof Unauthenticated ? 'The gateway did not accept this key.' : error.message));
      key.focus();
      return;
    }
    main.replaceChildren();
    showSignedIn();
  });
  main.append(form);
  key.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  location.reload();
});

watch(document.getElementById('status'));
try {
  if (await restore()) showSignedIn();
  else showSignIn();
} catch (error) {
  showSignIn(`The gateway could not be asked: ${error.message}`);
}
