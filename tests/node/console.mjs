// Drives the operator console in headless Chromium for the Rust tests
// (tests/tests/api/console.rs). Reads a JSON job as the first line of stdin:
//   {scenario, url, keys: {read, pii, admin}, webhooks: {name: [body, …]}, …}
// and writes one JSON result as the last line of stdout; progress goes to
// stderr. Midway it may ask the test to act on the gateway (`{"ask": …}` on
// stdout, answered by a line on stdin). Every request to a host other than
// the gateway is blocked and reported.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TIMEOUT_MS = 10_000;

const lines = readline.createInterface({ input: process.stdin });
const input = lines[Symbol.asyncIterator]();
const job = JSON.parse((await input.next()).value);
/** Asks the test to do something to the gateway (e.g. crash its feed); resolves once done. */
async function ask(what) {
  process.stdout.write(`${JSON.stringify({ ask: what })}\n`);
  const answer = (await input.next()).value;
  assert.equal(answer, 'done', `the test did ${what}`);
}
const gateway = new URL(job.url);
const log = (...parts) => console.error('[console.mjs]', ...parts);

/** A fresh browser that can reach the gateway and nothing else. */
async function browser(viewport = { width: 1280, height: 800 }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${gateway.hostname}`,
    ],
  });
  const report = { blocked: [], sockets: [], pageErrors: [] };
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === gateway.host && url.protocol === gateway.protocol) return route.continue();
    report.blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('websocket', (ws) => report.sockets.push(ws.url()));
  page.on('pageerror', (error) => report.pageErrors.push(error.message));
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, report, close };
}

/** POSTs a webhook body as the provider would; the gateway's JSON answer. */
async function deliver(body, where = '/webhooks/canopy') {
  const response = await fetch(new URL(where, gateway), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: await response.json() };
}

async function open(page, where) {
  await page.goto(new URL(where, gateway).href);
}

/** Signs in with `key` the way a person does: type it, press Enter. */
async function signIn(page, key) {
  const input = page.getByLabel('API key');
  await input.waitFor();
  assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the key field has focus');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.locator('#who').waitFor();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
}

/** Records, in the page, when each Live row appears (Date.now()). */
async function watchRows(page) {
  await page.evaluate(() => {
    window.shownAt = {};
    const note = (row) => {
      if (row.dataset?.eventId && !(row.dataset.eventId in window.shownAt)) window.shownAt[row.dataset.eventId] = Date.now();
    };
    new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach(note)))
      .observe(document.getElementById('main'), { childList: true, subtree: true });
  });
}

async function liveState(page, text = 'live') {
  await page.locator('#live-state', { hasText: text }).waitFor();
}

/** The Live table's events, top to bottom: [{id, cursor}]. */
async function liveRows(page) {
  return page.locator('tr[data-event-id]').evaluateAll((rows) => rows.map((row) => ({
    id: row.dataset.eventId,
    cursor: row.dataset.cursor,
  })));
}

/** All the Live table holds, payloads (opened or not) included. */
async function liveText(page) {
  return page.locator('main tbody').textContent();
}

/** Delivers each body and waits for its row; ms from sending to the row. */
async function deliverAndSee(page, bodies) {
  const seen = [];
  for (const body of bodies) {
    const sentAt = Date.now();
    const answer = await deliver(body);
    assert.equal(answer.status, 202, JSON.stringify(answer));
    const { id } = answer.body;
    await page.locator(`tr[data-event-id="${id}"]`).waitFor();
    const shownAt = await page.evaluate((eventId) => window.shownAt[eventId], id);
    seen.push({ id, ms: shownAt - sentAt });
  }
  return seen;
}

function textHasAll(text, values, what) {
  for (const value of values) assert.ok(text.includes(value), `${what} shows ${JSON.stringify(value)}`);
}

function textHasNone(text, values, what) {
  for (const value of values) assert.ok(!text.includes(value), `${what} must not show ${JSON.stringify(value)}`);
}

const scenarios = {
  // The header's deliveries figure: once the page has a first interval,
  // known traffic shows as exactly its count (and its refused part), read
  // from /metrics.
  async header({ page }) {
    await open(page, '/console');
    const status = page.locator('#status');
    await page.locator('#status', { hasText: / deliveries in the last / }).waitFor();
    const before = await status.innerText();
    const answers = [];
    for (const body of job.bodies) answers.push((await deliver(body)).status);
    const figure = `${job.bodies.length} deliveries in the last (\\d+ s|minute) \\(${job.refused} refused\\)$`;
    await page.locator('#status', { hasText: new RegExp(figure) }).waitFor();
    return { before, answers, after: await status.innerText() };
  },

  // Live with a read key: rows within a second, PII masked; leaving the tab
  // and a reload resume from the kept cursor, as does a dropped socket;
  // then a pii key sees the values.
  async live({ page, context }) {
    const { pii } = job;
    await open(page, '/console');
    await signIn(page, job.keys.read);
    assert.match(await page.locator('#who-role').innerText(), /read or pii/);
    await liveState(page);
    await watchRows(page);
    const first = await deliverAndSee(page, job.webhooks.first);
    const firstRows = await liveRows(page);
    textHasAll(await liveText(page), pii.masks, 'Live (read)');
    textHasNone(await liveText(page), pii.values, 'Live (read)');
    const cursorBeforeLeaving = await page.locator('#live-cursor').innerText();
    assert.equal(cursorBeforeLeaving, firstRows[0].cursor, 'the resume cursor is the newest row');

    // The event's own page, masked for read too.
    await open(page, `/console#/events/${first[0].id}`);
    const detail = await page.locator('main pre.json').first().innerText();
    textHasAll(detail, pii.masks, 'event detail (read)');
    textHasNone(detail, pii.values, 'event detail (read)');

    // Away from the console while events arrive (the tab keeps only its
    // sessionStorage, as across a reload); back on Live, they are replayed.
    // Its WebSockets now go through a route the test can cut.
    const sockets = [];
    // Every `subscribe` the page sends is noted on its way through.
    const subscribes = [];
    await page.routeWebSocket(/\/graphql\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = JSON.parse(message);
        if (parsed.type === 'subscribe') subscribes.push({ id: parsed.id, after: parsed.payload.variables.after });
        server.send(message);
      });
      sockets.push({ ws, server });
    });
    await open(page, 'about:blank');
    const whileAway = [];
    for (const body of job.webhooks.whileAway) whileAway.push((await deliver(body)).body.id);
    await open(page, '/console#/live');
    for (const id of whileAway) await page.locator(`tr[data-event-id="${id}"]`).waitFor();
    const resumedNote = await page.locator('#live-note').innerText();
    await liveState(page);
    const afterReturn = await liveRows(page);

    // The socket drops (the page sees code 4000); the page reconnects and
    // resubscribes after its cursor, so events sent meanwhile still come.
    assert.ok(sockets.length >= 1, 'the Live socket went through the route');
    await sockets.at(-1).ws.close({ code: 4000, reason: 'cut by the test' });
    const whileCut = [];
    for (const body of job.webhooks.whileCut) whileCut.push((await deliver(body)).body.id);
    for (const id of whileCut) await page.locator(`tr[data-event-id="${id}"]`).waitFor();
    await liveState(page);
    const socketsUsed = sockets.length;

    // The gateway's live feed crashes and restarts: the subscription it
    // ended is taken up again after the last cursor.
    await ask('crash-feed');
    const whileFeedDown = [];
    for (const body of job.webhooks.whileFeedDown) whileFeedDown.push((await deliver(body)).body.id);
    for (const id of whileFeedDown) await page.locator(`tr[data-event-id="${id}"]`).waitFor();
    await liveState(page);

    // The gateway ends the subscription with an `error` carrying
    // FEED_UNAVAILABLE and `resumeAfter`, as the contract says it may (played
    // here by the route: the page is told, the gateway's side completed).
    const { ws, server } = sockets.at(-1);
    const ended = subscribes.at(-1).id;
    const resumeAfter = await page.locator('#live-cursor').innerText();
    server.send(JSON.stringify({ id: ended, type: 'complete' }));
    ws.send(JSON.stringify({
      id: ended,
      type: 'error',
      payload: [{ message: 'the live feed is restarting', extensions: { code: 'FEED_UNAVAILABLE', resumeAfter } }],
    }));
    await page.waitForFunction((id) => document.getElementById('live-state').textContent === 'live', ended);
    const afterEnded = (await deliver(job.webhooks.afterEnded[0])).body.id;
    await page.locator(`tr[data-event-id="${afterEnded}"]`).waitFor();

    // A plain reload: the same table again, nothing repeated, then live.
    await page.reload();
    await liveState(page);
    await watchRows(page);
    const afterReload = await deliverAndSee(page, job.webhooks.afterReload);
    const resumed = subscribes.map(({ after }) => after);
    const rows = await liveRows(page);
    textHasNone(await liveText(page), pii.values, 'Live after reload (read)');

    // A pii key sees the values.
    await signOut(page);
    await signIn(page, job.keys.pii);
    await liveState(page);
    await page.locator('tr[data-event-id]').first().waitFor();
    textHasAll(await liveText(page), pii.values, 'Live (pii)');

    // Paused, nothing new shows; resumed, what came meanwhile does.
    await page.getByRole('button', { name: 'Pause' }).click();
    await liveState(page, 'paused');
    const paused = (await deliver(job.webhooks.whilePaused[0])).body.id;
    await page.waitForTimeout(1500);
    const shownWhilePaused = await page.locator(`tr[data-event-id="${paused}"]`).count();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`tr[data-event-id="${paused}"]`).waitFor();

    // Filtered by type and account: only the event matching both shows.
    await page.getByLabel('Types').fill(job.filter.types);
    await page.getByLabel('Account id').fill(job.filter.accountId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await liveState(page);
    const filtered = [];
    for (const body of job.webhooks.filtered) filtered.push((await deliver(body)).body.id);
    await page.locator(`tr[data-event-id="${filtered.at(-1)}"]`).waitFor();
    const shownFiltered = (await liveRows(page)).map((row) => row.id);
    return {
      latencies: [...first, ...afterReload],
      cursorBeforeLeaving,
      resumedNote,
      whileAway,
      whileCut,
      whileFeedDown,
      afterReturn,
      rows,
      socketsUsed,
      resumed,
      resumeAfter,
      shownWhilePaused,
      filtered,
      shownFiltered,
    };
  },

  // Refused deliveries for admin, newest first; hidden for read.
  async refused({ page }) {
    await open(page, '/console');
    await signIn(page, job.keys.admin);
    await page.getByRole('link', { name: 'Refused' }).click();
    await page.getByRole('heading', { name: 'Refused deliveries' }).waitFor();
    const table = page.getByRole('table', { name: /Refused deliveries/ });
    await table.waitFor();
    // Each cell's text; a time as its exact `datetime`.
    const admin = await table.locator('tbody tr').evaluateAll((rows) => rows.map((row) =>
      [...row.cells].map((cell) => cell.querySelector('time')?.dateTime ?? cell.textContent)));
    await signOut(page);
    await signIn(page, job.keys.read);
    const nav = page.getByRole('navigation', { name: 'Views' });
    // Under load the links were once read before the page showed them.
    await nav.getByRole('link', { name: 'Live' }).waitFor();
    const links = await nav.getByRole('link').allInnerTexts();
    await open(page, '/console#/refused');
    await page.getByRole('heading', { name: 'Admin only' }).waitFor();
    const readMain = await page.locator('main').innerText();
    return { admin, readLinks: links, readMain };
  },

  // The configure-notification form: a periodic interval with a time
  // offset is refused in the page (nothing sent); a valid config is sent
  // and listed; the account is refreshed from Canopy.
  async notifications({ page }) {
    const mutations = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /mutation/.test(request.postData() ?? '')) mutations.push(JSON.parse(request.postData()));
    });
    await open(page, `/console#/accounts/${encodeURIComponent(job.account)}`);
    await signIn(page, job.keys.admin);
    const form = page.getByRole('form', { name: 'Configure a notification' });
    await form.waitFor();
    await form.getByLabel('Notification type').selectOption('ACCOUNT_DELINQUENCY');
    await form.getByLabel('Time offset').fill('1 days');
    await form.getByLabel('Periodic interval').selectOption('DAILY');
    await form.getByRole('button', { name: 'Send to Canopy' }).click();
    const refusal = await page.locator('#configure-result [role="alert"]').innerText();
    const offsetError = await page.locator('#configure-timeOffset-error').innerText();
    const offsetInvalid = await form.getByLabel('Time offset').getAttribute('aria-invalid');
    const sentAfterRefusal = mutations.length;

    await form.getByLabel('Notification type').selectOption('PAYMENT_DUE_DATE');
    await form.getByLabel('Time offset').fill('-2 days');
    await form.getByLabel('Time', { exact: true }).fill('7:30:00');
    await form.getByLabel('Periodic interval').selectOption('');
    await form.getByRole('button', { name: 'Send to Canopy' }).click();
    await page.locator('#configure-result .ok').waitFor();
    const configRows = page.getByRole('table', { name: /Notification configs/ }).locator('tbody tr');
    await configRows.first().waitFor();
    const configs = await configRows.evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent)));

    await page.getByRole('button', { name: 'Refresh from Canopy' }).click();
    await page.locator('dl.facts', { hasText: job.refreshedStatus }).waitFor();
    await page.getByRole('link', { name: 'Audit' }).click();
    const entries = page.getByRole('table', { name: /Mutations/ }).locator('tbody tr:not(.more)');
    await entries.first().waitFor();
    const audit = await entries.evaluateAll((rows) => rows.map((row) => [...row.cells].map((cell) => cell.textContent)));
    return { refusal, offsetError, offsetInvalid, sentAfterRefusal, mutations, configs, audit };
  },

  // The page's notification rules, run in the page on every input given.
  async rules({ page }) {
    await open(page, '/console');
    return page.evaluate(async (inputs) => {
      const { check } = await import('/console/js/rules.js');
      return inputs.map((input) => check(input).map((v) => `${v.field}: ${v.message}`));
    }, job.inputs);
  },

  // GET /graphql in open mode: the query page, no key, a query run from
  // the keyboard; then Live, also without a key.
  async query({ page }) {
    await open(page, '/graphql');
    await page.getByRole('heading', { name: 'Query' }).waitFor();
    const who = await page.locator('#who-role').innerText();
    const editor = page.getByLabel('Query', { exact: true });
    await editor.fill(job.query);
    await page.getByLabel('Variables (JSON)').fill(JSON.stringify(job.variables));
    await editor.focus();
    await page.keyboard.press('Control+Enter');
    await page.locator('#query-result', { hasText: '"data"' }).waitFor();
    const result = JSON.parse(await page.locator('#query-result').innerText());
    // Live needs no key either (an empty connection_init).
    await page.getByRole('link', { name: 'Live' }).click();
    await liveState(page);
    return { who, result, live: await liveRows(page) };
  },

  // Every view at 1280×800 (screenshots) and at a phone's width (nothing
  // wider than the screen but the tables' own scrolling), reached with the
  // keyboard.
  async views({ page }) {
    const shots = job.screenshots;
    fs.mkdirSync(shots, { recursive: true });
    const views = [];
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const shoot = async (name) => {
      await page.screenshot({ path: path.join(shots, `console-${name}.png`) });
      views.push({ name, overflow: await overflow() });
    };
    // Live as a read key sees it, a payload with PII opened so the masking
    // shows.
    await open(page, '/console');
    await signIn(page, job.keys.read);
    await liveState(page);
    const row = page.locator(`tr[data-event-id="${job.masked}"]`);
    await row.getByRole('button', { name: 'Show' }).click();
    await row.getByRole('button', { name: 'Hide' }).waitFor();
    await shoot('live');
    await signOut(page);
    await signIn(page, job.keys.admin);
    await liveState(page);

    // To Events with the keyboard: from the view's heading back up to the
    // link with Shift+Tab, then Enter.
    await page.locator('main h2').focus();
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Events'; i += 1) {
      await page.keyboard.press('Shift+Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    }
    assert.equal(focused, 'Events', 'Shift+Tab reaches the Events link');
    await page.keyboard.press('Enter');
    const heading = page.getByRole('heading', { name: 'Events' });
    await heading.waitFor();
    const headingFocused = await heading.evaluate((el) => el === document.activeElement);
    await page.getByRole('checkbox', { name: 'CANOPY' }).check();
    await page.getByLabel('Types').fill(job.eventTypes.join(', '));
    await page.getByLabel('Types').press('Enter');
    await page.getByRole('table', { name: /Events, newest first/ }).waitFor();
    await shoot('events');
    const eventIds = () => page.getByRole('table', { name: /Events, newest first/ })
      .locator('tr').evaluateAll((rows) => rows.map((row) => row.querySelector('a[href^="#/events/"]')?.textContent).filter(Boolean));
    const searched = await eventIds();
    // Paging through one type: 20 a page, forward and back.
    await page.getByRole('checkbox', { name: 'CANOPY' }).uncheck();
    await page.getByLabel('Types').fill(job.pagedType);
    const pageOne = page.getByRole('table', { name: 'Events, newest first, page 1' });
    // The first search's table has the same name: wait for it to be replaced.
    const firstSearch = await pageOne.elementHandle();
    await page.getByRole('button', { name: 'Search' }).click();
    await firstSearch.waitForElementState('hidden');
    await pageOne.waitFor();
    const pages = [await eventIds()];
    await page.getByRole('button', { name: 'Next page →' }).click();
    await page.getByRole('table', { name: 'Events, newest first, page 2' }).waitFor();
    pages.push(await eventIds());
    const lastHasNext = await page.getByRole('button', { name: 'Next page →' }).isEnabled();
    await page.getByRole('button', { name: '← Previous page' }).click();
    await pageOne.waitFor();
    pages.push(await eventIds());

    await open(page, `/console#/events/${job.event}`);
    await page.getByRole('heading', { name: 'Payload' }).waitFor();
    await shoot('event');

    await open(page, '/console#/accounts');
    await page.getByRole('table', { name: /Accounts/ }).waitFor();
    await shoot('accounts');

    await open(page, `/console#/accounts/${encodeURIComponent(job.account)}`);
    await page.getByRole('heading', { name: 'Notification configs' }).waitFor();
    await page.getByRole('table', { name: /Events of/ }).waitFor();
    await shoot('account');

    await open(page, '/console#/refused');
    await page.getByRole('table', { name: /Refused/ }).waitFor();
    await shoot('refused');

    await open(page, '/console#/audit');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.locator('main .pager').waitFor();
    await shoot('audit');

    await open(page, '/console#/query');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('#query-result', { hasText: '"data"' }).waitFor();
    await shoot('query');

    // A phone: every view again, none wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const phone = [];
    for (const where of ['#/live', '#/events', `#/events/${job.event}`, '#/accounts',
      `#/accounts/${encodeURIComponent(job.account)}`, '#/refused', '#/audit', '#/query']) {
      await open(page, `/console${where}`);
      await page.locator('main h2').waitFor();
      await page.waitForLoadState('networkidle');
      phone.push({ where, overflow: await overflow() });
      if (where === '#/live') {
        await page.locator('tr[data-event-id]').first().waitFor();
        await page.screenshot({ path: path.join(shots, 'console-phone.png') });
      }
    }
    const status = await page.locator('#status').innerText();
    return { views, phone, headingFocused, searched, pages, lastHasNext, status };
  },
};

const { page, context, report, close } = await browser();
let outcome;
try {
  outcome = { ok: true, result: await scenarios[job.scenario]({ page, context }) };
} catch (error) {
  const failure = path.join(os.tmpdir(), `console-${job.scenario}-failure.png`);
  await page.screenshot({ path: failure }).catch(() => {});
  log(`failed; the page at that moment: ${failure}`);
  outcome = { ok: false, error: error.stack ?? String(error) };
} finally {
  await close();
}
process.stdout.write(`${JSON.stringify({ ...outcome, ...report })}\n`);
lines.close(); // stdin no longer holds the process: it ends once stdout is written
