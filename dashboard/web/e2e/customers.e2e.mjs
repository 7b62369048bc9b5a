// Browser test of the Customer 360 page against the real `frontdesk serve`,
// not in demo mode: WhatsApp points at a fake Graph API and the model at a
// scripted OpenAI-compatible server (lib.mjs), as in takeover.e2e.mjs.
//
//   npm run test:e2e                              (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/customers.e2e.mjs     (this one, with a built binary)
//
// Scenario: a signed WhatsApp webhook from "Ada Lovelace" arrives and the AI
// answers, so a customer, an identity and a conversation exist. An agent
// opens Customers, searches by part of the phone number and by name (typing
// is debounced: one search per pause, not per key), opens the customer: the
// profile shows the WhatsApp identity and the timeline the conversation.
// They create a ticket with a double click on submit: exactly one ticket
// exists (REST; a replay with the form's Idempotency-Key answers the same
// ticket) and the page shows it, newest first. "Open conversation"
// first meets a (stubbed) 409 no_channel and says so, then for real lands on
// the inbox with the conversation open. An analyst, deep-linking to the
// customer, sees the same timeline but no quick actions, and the API refuses
// their ticket with 403.

import os from 'node:os';
import path from 'node:path';
import { ADMIN, appBase, binary, callAsPage, makeLog, openPage, restClient, scenario, serveWithFakes, shownUser, signIn, T, waitFor } from './lib.mjs';

const log = makeLog('e2e customers');

const PNID = '109876543211';
const AGENT = { email: 'alan@brand.example', name: 'Alan Agent', password: 'alan-e2e-password-123' };
const ANALYST = { email: 'ada.analyst@brand.example', name: 'Ana Analyst', password: 'ana-e2e-password-123' };
const WA = '15550001111';
const NAME = 'Ada Lovelace';
const SUBJECT = 'Refund request';

scenario(log, async (s) => {
  const bin = binary(log);
  const { srv, graph, api, customerWrites } = await serveWithFakes(s, bin, { pnid: PNID });
  const base = await appBase(srv.addr, srv.port, s.cleanups, log);

  const call = restClient(api);
  const loginAPI = async (u) => {
    const r = await call('POST', '/api/v1/auth/login', null, { email: u.email, password: u.password });
    if (r.status !== 200 || !r.body?.token) throw new Error(`API login of ${u.email}: ${r.status} ${r.text}`);
    return r.body.token;
  };

  // 0. Users: an agent and an analyst, made by the admin.
  const adminToken = await loginAPI(ADMIN);
  for (const [u, role] of [
    [AGENT, 'agent'],
    [ANALYST, 'analyst'],
  ]) {
    const r = await call('POST', '/api/v1/users', adminToken, { ...u, role });
    if (r.status !== 201) throw new Error(`create ${role}: ${r.status} ${r.text}`);
  }
  const agentToken = await loginAPI(AGENT);

  // 1. Ada writes on WhatsApp (signed webhook) and the AI answers.
  const first = 'Hello, my order 4711 arrived broken.';
  await customerWrites(WA, NAME, `wamid.e2e.customers.${Date.now()}`, first);
  const ai = await waitFor('the AI answer at the Graph API', () => graph.sentTo(WA).find((s) => /^AI answer \d+$/.test(s.text)), T);
  log(`customer message in, AI answered ${JSON.stringify(ai.text)}`);

  const timelineAPI = async (id, token = agentToken) => {
    const r = await call('GET', `/api/v1/customers/${encodeURIComponent(id)}/timeline`, token);
    if (r.status !== 200) throw new Error(`GET timeline: ${r.status} ${r.text}`);
    return r.body;
  };

  // 2. The agent logs in and opens Customers.
  const viewport = { width: 1400, height: 900 };
  const pageErrors = [];
  const page = await openPage(s, { viewport, errors: pageErrors });
  const searches = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'GET' && u.pathname === '/api/v1/customers') searches.push(u.searchParams.get('query') ?? '');
  });
  const ticketPosts = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/api\/v1\/customers\/[^/]+\/tickets$/.test(new URL(r.url()).pathname)) ticketPosts.push(r.headers()['idempotency-key'] ?? '');
  });

  await signIn(page, base + '/', AGENT, null);
  await page.getByTestId('me').waitFor();
  await page.getByTestId('nav-customers').click();
  await page.waitForURL((u) => new URL(u).pathname === '/customers');
  const search = page.getByTestId('customer-search');
  await search.waitFor();
  const results = page.getByTestId('customer-result');
  const ada = results.filter({ hasText: NAME });

  // 3. Search by part of the phone number, then (after a miss) by name.
  await search.fill(WA.slice(-7));
  await ada.waitFor();
  const customerId = await ada.getAttribute('data-customer-id');
  if (!customerId) throw new Error('customer result without data-customer-id');
  const row = await ada.textContent();
  if (!row.includes(WA)) throw new Error(`result row lacks the WhatsApp id: ${row}`);
  log(`search ${JSON.stringify(WA.slice(-7))} → ${NAME} (${customerId})`);

  await search.fill('zz-no-such-customer-zz');
  await page.getByTestId('customer-none').waitFor();
  if ((await results.count()) !== 0) throw new Error('a search that matches nothing still lists customers');

  await search.fill('');
  const before = searches.length;
  const byName = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === '/api/v1/customers' && u.searchParams.get('query') === 'Lovelace';
  });
  await search.pressSequentially('Lovelace', { delay: 40 });
  if ((await byName).status() !== 200) throw new Error(`search by name answered ${(await byName).status()}`);
  await ada.waitFor();
  await page.waitForTimeout(400); // let a (wrong) late search show itself
  const typed = searches.slice(before);
  if (!typed.includes('Lovelace')) throw new Error(`no search for the typed name: ${JSON.stringify(typed)}`);
  if (typed.length > 2) throw new Error(`typing 8 keys sent ${typed.length} searches (not debounced): ${JSON.stringify(typed)}`);
  if ((await ada.count()) !== 1) throw new Error(`${NAME} listed ${await ada.count()} times`);
  log(`search by name: ${JSON.stringify(typed)} sent while typing "Lovelace" → ${NAME}`);

  // 4. Open the customer: profile, identity, timeline with the conversation.
  await ada.click();
  await page.waitForURL((u) => new URL(u).pathname === `/customers/${encodeURIComponent(customerId)}`);
  await page.locator(`[data-testid="customer-profile"][data-customer-id="${customerId}"]`).waitFor();
  await page.getByTestId('customer-identity').filter({ hasText: WA }).waitFor();
  const convItem = page.locator('[data-testid="timeline-item"][data-kind="conversation"]');
  await convItem.first().waitFor();
  const tl0 = await timelineAPI(customerId);
  const convs = tl0.items.filter((i) => i.kind === 'conversation');
  if (convs.length !== 1) throw new Error(`REST timeline has ${convs.length} conversations: ${JSON.stringify(tl0.items)}`);
  const convId = convs[0].conversation_id || convs[0].id;
  const href = await convItem.first().getByTestId('timeline-conversation-link').getAttribute('href');
  if (href !== `/inbox/${encodeURIComponent(convId)}`) throw new Error(`conversation item links to ${href}, want /inbox/${convId}`);
  log(`profile shows ${WA}; timeline shows conversation ${convId} linking to ${href}`);

  // 5. Create a ticket, double-clicking submit: one ticket, shown on the page.
  await page.getByTestId('ticket-create').click();
  await page.getByTestId('ticket-subject').fill(SUBJECT);
  await page.getByTestId('ticket-description').fill('The teapot from order 4711 arrived broken.');
  await page.getByTestId('ticket-priority').selectOption('high');
  await page.getByTestId('ticket-submit').dblclick();
  const ticketItem = page.locator('[data-testid="timeline-item"][data-kind="ticket"]', { hasText: SUBJECT });
  await ticketItem.waitFor();
  await page.getByTestId('action-notice').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="ticket-form"]'));
  const keys = new Set(ticketPosts);
  if (ticketPosts.length < 1 || keys.size !== 1 || keys.has('')) throw new Error(`ticket POSTs: ${JSON.stringify(ticketPosts)} (want one Idempotency-Key for the form)`);
  const tl1 = await timelineAPI(customerId);
  const tickets = tl1.items.filter((i) => i.kind === 'ticket');
  if (tickets.length !== 1 || tickets[0].title !== SUBJECT) throw new Error(`REST timeline tickets: ${JSON.stringify(tickets)}`);
  if (tickets[0].priority !== 'high') throw new Error(`ticket priority ${tickets[0].priority}, want high`);
  // a retry of the form's request (same Idempotency-Key) answers the same ticket and creates none
  const replay = await call(
    'POST',
    `/api/v1/customers/${encodeURIComponent(customerId)}/tickets`,
    agentToken,
    { subject: SUBJECT, description: 'The teapot from order 4711 arrived broken.', priority: 'high' },
    { 'Idempotency-Key': ticketPosts[0] },
  );
  if (replay.status !== 200 || replay.body?.id !== tickets[0].id) throw new Error(`replay with the form's key: ${replay.status} ${replay.text}`);
  if ((await timelineAPI(customerId)).items.filter((i) => i.kind === 'ticket').length !== 1) throw new Error('the replay created a second ticket');
  // after the reload too, the page shows it exactly once, and newest first
  await page.locator(`[data-testid="timeline-item"][data-kind="ticket"][data-id="${tickets[0].id}"]`).waitFor();
  if ((await ticketItem.count()) !== 1) throw new Error(`ticket shown ${await ticketItem.count()} times`);
  const times = await page.$$eval('[data-testid="timeline-item"] time', (els) => els.map((e) => e.getAttribute('datetime')));
  for (let i = 1; i < times.length; i++) {
    if (Date.parse(times[i]) > Date.parse(times[i - 1])) throw new Error(`timeline not newest first: ${JSON.stringify(times)}`);
  }
  const kinds = await page.$$eval('[data-testid="timeline-item"]', (els) => els.map((e) => e.getAttribute('data-kind')));
  log(`ticket ${tickets[0].id} created once (${ticketPosts.length} POST(s), one key); page timeline: ${kinds.join(', ')}`);

  // 6. "Open conversation": a 409 no_channel is explained (stubbed answer) …
  const convRoute = `**/api/v1/customers/${encodeURIComponent(customerId)}/conversations`;
  await page.route(convRoute, (r) =>
    r.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: { code: 'no_channel', message: 'the customer has no channel' } }) }),
  );
  await page.getByTestId('conversation-open').click();
  const err = page.getByTestId('action-error');
  await err.waitFor();
  const errText = await err.textContent();
  if (!/never written/.test(errText) || !errText.includes(NAME)) throw new Error(`no_channel message: ${errText}`);
  if (new URL(page.url()).pathname.startsWith('/inbox')) throw new Error('navigated to the inbox on a 409');
  await page.unroute(convRoute);
  log(`409 no_channel shown: ${JSON.stringify(errText)}`);

  // … and for real it lands on the inbox with the conversation open.
  await page.getByTestId('conversation-open').click();
  await page.waitForURL((u) => new URL(u).pathname === `/inbox/${encodeURIComponent(convId)}`);
  await page.getByTestId('writer').waitFor();
  await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: first }).waitFor();
  log(`open conversation → /inbox/${convId}, writer ${JSON.stringify(await page.getByTestId('writer').textContent())}`);

  const shot = process.env.E2E_CUSTOMERS_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-customers.png');
  await page.goBack();
  await page.locator(`[data-testid="customer-profile"][data-customer-id="${customerId}"]`).waitFor();
  await ticketItem.waitFor();
  await page.screenshot({ path: shot, fullPage: true });
  log('screenshot', shot);

  // 7. The analyst deep-links to the customer: same timeline, no quick actions, 403 on POST.
  const ap = await openPage(s, { who: 'analyst', viewport, errors: pageErrors });
  await signIn(ap, `${base}/customers/${encodeURIComponent(customerId)}`, ANALYST, null);
  const { role } = await shownUser(ap);
  if (role !== 'analyst') throw new Error(`analyst shown as ${role}`);
  await ap.locator(`[data-testid="customer-profile"][data-customer-id="${customerId}"]`).waitFor();
  await ap.locator('[data-testid="timeline-item"][data-kind="ticket"]', { hasText: SUBJECT }).waitFor();
  await ap.locator('[data-testid="timeline-item"][data-kind="conversation"]').first().waitFor();
  await ap.getByTestId('read-only').waitFor();
  for (const id of ['ticket-create', 'conversation-open', 'ticket-form']) {
    const n = await ap.getByTestId(id).count();
    if (n !== 0) throw new Error(`analyst sees ${n} ${id}`);
  }
  const denied = await callAsPage(ap, 'POST', `/api/v1/customers/${encodeURIComponent(customerId)}/tickets`, {
    subject: 'Sneaky ticket',
    description: 'analysts may not write',
  });
  if (!denied.hadToken) throw new Error("no session token in the analyst's sessionStorage");
  if (denied.status !== 403) throw new Error(`analyst POST tickets answered ${denied.status}, want 403`);
  const tl2 = await timelineAPI(customerId, adminToken);
  const after = tl2.items.filter((i) => i.kind === 'ticket');
  if (after.length !== 1) throw new Error(`after the analyst's POST there are ${after.length} tickets`);
  log('analyst: no ticket-create, no conversation-open; POST tickets with their token → 403; still one ticket');

  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join(' | ')}`);
});
