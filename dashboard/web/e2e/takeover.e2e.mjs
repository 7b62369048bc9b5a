// Browser test of human takeover against the real `frontdesk serve`, not in
// demo mode: WhatsApp points at a fake Graph API and the model at a scripted
// OpenAI-compatible server, both started here (lib.mjs). The model answers
// "AI answer N" and both fakes record every request, so the test waits on
// what they received rather than on time.
//
//   npm run test:e2e                             (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/takeover.e2e.mjs     (this one, with a built binary)
//
// Scenario: log in; a signed webhook shows up live and the AI's answer follows
// (and reaches the Graph API); take over; a new customer message shows up but
// the AI stays silent; the agent replies from the composer (shown, and at the
// Graph API); a private note shows but never reaches the Graph API or the
// model; a second agent must confirm a steal, and both see who took it from
// whom; hand back; a third message gets an AI answer again. Then an
// analyst, in a second browser context, sees the conversation without the
// takeover/send controls, and the API refuses their takeover with 403.

import os from 'node:os';
import path from 'node:path';
import { ADMIN, appBase, binary, callAsPage, makeLog, openPage, restClient, scenario, serveWithFakes, shownUser, signIn, T, waitFor, writerIs } from './lib.mjs';

const log = makeLog('e2e takeover');
const SETTLE_MS = 1500; // the one negative wait: the AI must stay silent while a human writes

const PNID = '109876543210';
const ANALYST = { email: 'ada@brand.example', name: 'Ada Analyst', password: 'ada-e2e-password-123' };
const AGENT2 = { email: 'bob@brand.example', name: 'Bob Agent', password: 'bob-e2e-password-123' };
const WA = '4915550300';
const NAME = 'Grace';

scenario(log, async (s) => {
  const bin = binary(log);
  const { srv, graph, model, api, customerWrites } = await serveWithFakes(s, bin, { pnid: PNID });
  log('fake Graph API at', graph.baseURL, '· fake model at', model.baseURL);
  const base = await appBase(srv.addr, srv.port, s.cleanups, log);

  let wamidSeq = 0;
  const customerSays = (text) => customerWrites(WA, NAME, `wamid.e2e.${Date.now()}.${++wamidSeq}`, text);
  const call = restClient(api);

  const page = await openPage(s);
  const msg = (dir, text) => page.locator(`[data-testid="message"][data-direction="${dir}"]`, { hasText: text });
  const outbound = page.locator('[data-testid="message"][data-direction="outbound"]');
  const once = async (text) => {
    const n = await page.locator('[data-testid="message"]', { hasText: text }).count();
    if (n !== 1) throw new Error(`message ${JSON.stringify(text)} shown ${n} times`);
  };

  // 1. Log in as the admin; the inbox is open and live.
  await signIn(page, base + '/', ADMIN);
  const { name: meName } = await shownUser(page);
  log('logged in as', JSON.stringify(meName), 'live');

  // 2. A signed webhook: the conversation and the message appear without reload.
  const first = 'Hello, where is my order 4711?';
  await customerSays(first);
  const item = page.getByTestId('conversation-item').filter({ hasText: NAME });
  await item.waitFor();
  const convId = await item.getAttribute('data-conversation-id');
  await item.click();
  await msg('inbound', first).waitFor();
  log('inbound message shown live in conversation', convId);

  // 3. The AI's answer: the model was asked, the Graph API got it, the inbox shows it.
  const ai1 = await waitFor('the AI answer at the Graph API', () => graph.sentTo(WA).find((s) => /^AI answer \d+$/.test(s.text)), T);
  if (model.chats().length < 1) throw new Error('the Graph API got an AI answer but the model was never asked');
  const askedAbout = JSON.stringify(model.chats().at(-1).body?.messages ?? []);
  if (!askedAbout.includes(first)) throw new Error(`the model's request lacks the customer's message: ${askedAbout.slice(0, 300)}`);
  await msg('outbound', ai1.text).waitFor();
  await once(ai1.text);
  log(`AI reply ${JSON.stringify(ai1.text)} shown live and sent to the Graph API`);

  // 4. Take over: the writer shows the admin's name.
  const writer = page.getByTestId('writer');
  if ((await writer.textContent()) !== 'AI') throw new Error(`writer before takeover: ${await writer.textContent()}`);
  await page.getByTestId('takeover').click();
  await writerIs(page, meName);
  log('took over; writer =', meName);

  // 5. A new customer message shows up, and the AI stays silent.
  const chatsBefore = model.chats().length;
  const sentBefore = graph.sent().length;
  const outBefore = await outbound.count();
  const second = 'I would like a refund instead.';
  await customerSays(second);
  await msg('inbound', second).waitFor();
  await page.waitForTimeout(SETTLE_MS); // negative wait: nothing may follow
  if (model.chats().length !== chatsBefore) throw new Error(`the model was asked ${model.chats().length - chatsBefore} time(s) while a human writes`);
  if (graph.sent().length !== sentBefore) throw new Error(`the Graph API got ${graph.sent().length - sentBefore} message(s) while a human writes: ${JSON.stringify(graph.sent().slice(sentBefore))}`);
  if ((await outbound.count()) !== outBefore) throw new Error('an outbound message appeared while a human writes');
  log(`inbound shown; no model call, no outbound message within ${SETTLE_MS} ms`);

  // 6. The agent replies from the composer: shown once, and sent to the customer.
  const reply = 'Grace, I am on it. Your refund is being processed. — Ann';
  await page.getByTestId('composer').fill(reply);
  await page.getByTestId('send').click();
  await msg('outbound', reply).waitFor();
  await waitFor('the agent reply at the Graph API', () => graph.sentTo(WA).some((s) => s.text === reply), T);
  await once(reply);
  if (graph.sentTo(WA).filter((s) => s.text === reply).length !== 1) throw new Error('the agent reply was sent more than once');
  if (model.chats().length !== chatsBefore) throw new Error('the model was asked while the agent replied');
  log('agent reply shown once and sent to', WA);

  // 6b. A private note: shown to the team, never sent, never in the AI's context (checked at 8).
  const privateNote = 'PRIVATE: Grace asked twice before; VIP handling.';
  await page.getByTestId('mode-note').click();
  await page.getByTestId('note-composer').fill(privateNote);
  await page.getByTestId('note-send').click();
  await page.locator('[data-testid="note"]', { hasText: privateNote }).waitFor();
  await page.getByTestId('mode-reply').click();
  if ((await page.locator('[data-testid="message"]', { hasText: privateNote }).count()) !== 0) throw new Error('the note shows as a message');
  log('private note shown');

  // 6c. A second agent needs an explicit steal; both see who took it from whom. Ann steals it back.
  // The admin adds the second agent on the Team page.
  const adminToken = (await call('POST', '/api/v1/auth/login', null, { email: ADMIN.email, password: ADMIN.password })).body?.token;
  const tp = await openPage(s, { who: 'admin team page' });
  await signIn(tp, `${base}/team`, ADMIN, null);
  await tp.getByTestId('team-row').first().waitFor();
  const rowsBefore = await tp.getByTestId('team-row').count();
  await tp.getByTestId('user-name').fill(AGENT2.name);
  await tp.getByTestId('user-email').fill(AGENT2.email);
  await tp.getByTestId('user-role').selectOption('agent');
  await tp.getByTestId('user-password').fill(AGENT2.password);
  await tp.getByTestId('user-create').click();
  await tp.locator('[data-testid="team-row"]', { hasText: AGENT2.email }).waitFor();
  if ((await tp.getByTestId('team-row').count()) !== rowsBefore + 1) throw new Error('the team list did not grow by one');
  const team = await call('GET', '/api/v1/users?limit=500', adminToken);
  const bobUser = team.body?.users?.find((u) => u.email === AGENT2.email);
  if (!bobUser || bobUser.role !== 'agent' || bobUser.name !== AGENT2.name) throw new Error(`second agent over REST: ${team.text}`);
  log('admin added', AGENT2.email, 'as an agent on the Team page');
  const bp = await openPage(s, { who: 'second agent' });
  await signIn(bp, `${base}/inbox/${encodeURIComponent(convId)}`, AGENT2);
  await writerIs(bp, meName);
  await bp.getByTestId('takeover').click();
  await bp.getByTestId('steal-dialog').waitFor(); // no silent takeover from another agent
  if ((await call('GET', `/api/v1/conversations/${encodeURIComponent(convId)}`, adminToken)).body?.writer === 'ai') throw new Error('writer lost');
  await bp.getByTestId('steal-confirm').click();
  await writerIs(bp, AGENT2.name);
  await writerIs(page, AGENT2.name);
  const annSees = await page.getByTestId('writer-change').textContent();
  const bobSees = await bp.getByTestId('writer-change').textContent();
  if (annSees !== `${AGENT2.name} took this conversation over from you.`) throw new Error(`the agent robbed sees ${JSON.stringify(annSees)}`);
  if (!bobSees.startsWith('You took this conversation over from')) throw new Error(`the stealer sees ${JSON.stringify(bobSees)}`);
  log('second agent stole with an explicit confirm; Ann sees:', JSON.stringify(annSees), '· Bob sees:', JSON.stringify(bobSees));
  await page.getByTestId('takeover').click();
  await page.getByTestId('steal-confirm').click();
  await writerIs(page, meName);
  await bp.waitForFunction((n) => document.querySelector('[data-testid="writer-change"]')?.textContent === `${n} took this conversation over from you.`, meName);
  log('Ann stole it back; Bob is told');

  // 7. Hand back (with a note when the dialog asks for one): the writer shows AI.
  const note = 'Refund approved by Ann, confirm it to Grace.';
  await page.getByTestId('handback').click();
  const dialog = page.getByTestId('handback-dialog');
  const confirm = page.getByTestId('handback-confirm');
  await Promise.race([dialog.waitFor().catch(() => {}), writerIs(page, 'AI').catch(() => {})]);
  let noted = false;
  if (await dialog.isVisible()) {
    if ((await page.getByTestId('handback-note').count()) > 0) {
      await page.getByTestId('handback-note').fill(note);
      noted = true;
    }
    await confirm.click();
  }
  await writerIs(page, 'AI');
  if ((await page.getByTestId('writer').count()) !== 1) throw new Error('writer shown more than once');
  log('handed back; writer = AI');

  // 8. A third customer message: the AI answers again.
  const chatsAtHandback = model.chats().length;
  const third = 'So, is it done?';
  await customerSays(third);
  await msg('inbound', third).waitFor();
  const ask = await waitFor('a new model request', () => model.chats()[chatsAtHandback], T);
  const ai3 = await waitFor('the new AI answer at the Graph API', () => graph.sentTo(WA).find((s) => s.text === ask.answer), T);
  await msg('outbound', ai3.text).waitFor();
  await once(ai3.text);
  const ctxText = JSON.stringify(ask.body?.messages ?? []);
  if (!ctxText.includes(third)) throw new Error("the model's new request lacks the third message");
  if (noted && !ctxText.includes(note)) throw new Error("the model's new request lacks the hand-back note");
  if (model.requests().some((r) => JSON.stringify(r.body ?? '').includes(privateNote))) throw new Error('the private note reached the model');
  if (graph.requests().some((r) => JSON.stringify(r.body ?? '').includes(privateNote))) throw new Error('the private note reached the Graph API');
  log(`AI answered again: ${JSON.stringify(ai3.text)} shown and sent; ${noted ? 'the hand-back note is in the model\'s context' : 'no hand-back note asked'}`);

  const shot = process.env.E2E_TAKEOVER_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-takeover.png');
  await page.screenshot({ path: shot });
  log('screenshot', shot);

  // 9. Roles: an analyst sees the conversation but cannot take over or reply.
  const adminLogin = await call('POST', '/api/v1/auth/login', null, { email: ADMIN.email, password: ADMIN.password });
  if (adminLogin.status !== 200 || !adminLogin.body?.token) throw new Error(`admin API login: ${adminLogin.status} ${adminLogin.text}`);
  const created = await call('POST', '/api/v1/users', adminLogin.body.token, { ...ANALYST, role: 'analyst' });
  if (created.status !== 201) throw new Error(`create analyst: ${created.status} ${created.text}`);
  const ap = await openPage(s, { who: 'analyst' });
  await signIn(ap, base + '/', ANALYST);
  const { role } = await shownUser(ap);
  if (role !== 'analyst') throw new Error(`analyst shown as ${role}`);
  await ap.locator(`[data-testid="conversation-item"][data-conversation-id="${convId}"]`).click();
  await ap.locator('[data-testid="message"][data-direction="outbound"]', { hasText: reply }).waitFor();
  await writerIs(ap, 'AI');
  const controls = [];
  for (const id of ['takeover', 'handback', 'send', 'composer']) {
    const els = ap.getByTestId(id);
    const n = await els.count();
    for (let i = 0; i < n; i++) {
      if (await els.nth(i).isEnabled()) throw new Error(`analyst sees an enabled ${id} control`);
    }
    controls.push(`${id} ${n ? 'disabled' : 'absent'}`);
  }
  const denied = await callAsPage(ap, 'POST', `/api/v1/conversations/${encodeURIComponent(convId)}/takeover`, {});
  if (!denied.hadToken) throw new Error("no session token in the analyst's sessionStorage");
  if (denied.status !== 403) throw new Error(`analyst takeover answered ${denied.status}, want 403`);
  const conv = await call('GET', `/api/v1/conversations/${encodeURIComponent(convId)}`, adminLogin.body.token);
  if (conv.body?.writer !== 'ai') throw new Error(`writer after the analyst's attempt: ${conv.body?.writer}`);
  if ((await ap.getByTestId('nav-team').count()) !== 0) throw new Error('the analyst sees the Team page link');
  log(`analyst: ${controls.join(', ')}, no Team link; POST takeover with their token → 403; writer still AI`);
});
