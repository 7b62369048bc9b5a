// Browser test of money with the customer's yes against the real
// `frontdesk serve`, not in demo mode: WhatsApp points at a fake Graph API,
// the model at a scripted OpenAI-compatible server and the Shopify shop's
// Admin API at a fake of its GraphQL refunds (lib.mjs).
//
//   npm run test:e2e                            (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/money.e2e.mjs       (this one, with a built binary)
//
// Scenario: Shopify sends order #1002 (30.00 USD) of Ada Byron; the admin
// allows the agent refund_order with an auto-approval limit of 20.00 USD.
// The admin watches the inbox. Ada writes on WhatsApp from the order's
// phone; the model calls refund_order; the runtime asks her with Yes/No
// buttons. The open conversation shows a Confirmations card: Refund #1002,
// $30.00, "waiting for customer", and the question as a "Runtime" message,
// apart from the AI's. Ada taps Yes: without a reload the card turns "needs
// approval" with the reason, and the nav's Approvals count shows 1. An agent
// gets 403 for the queue and for approving. On the Approvals page the admin
// sees Ada, #1002, $30.00 and "above the 20.00 USD limit", clicks Approve,
// confirms "Refund 30.00 USD on #1002?" and the queue empties; the shop got
// one refundCreate, Ada is told "Done:", a second approval is 409. Back in
// the conversation the card reads "executed" with the shop's refund id, and
// its timeline names the admin who approved, with the note; Customer 360 lists the refund
// under "Refunds and payments". The test polls for effects, never sleeps a
// fixed time.

import os from 'node:os';
import path from 'node:path';
import { ADMIN, appBase, binary, fakeShopifyAdmin, makeLog, openPage, postShopifyWebhook, restClient, scenario, serveWithFakes, shownUser, signIn, T, waitFor } from './lib.mjs';

const log = makeLog('e2e money');

const PNID = '109876543213';
const SECRET = 'e2e-shopify-secret';
const SHOP = 'e2e-refunds.myshopify.com';
const ADMIN_TOKEN = 'shpat_e2e_refunds';
const WA = '15550004444';
const NAME = 'Ada Byron';
const ORDER_ID = 820982911;
const AGENT = { email: 'al.money@brand.example', name: 'Al Agent', password: 'al-e2e-password-123' };

// orderBody is a REST-shaped Shopify orders/create payload: #1002, one teapot, 30.00 USD, paid two days ago.
function orderBody() {
  const at = new Date(Date.now() - 48 * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({
    id: ORDER_ID,
    admin_graphql_api_id: `gid://shopify/Order/${ORDER_ID}`,
    name: '#1002',
    order_number: 1002,
    email: 'ada@example.com',
    phone: '+15550004444',
    created_at: at,
    updated_at: at,
    processed_at: at,
    cancelled_at: null,
    financial_status: 'paid',
    fulfillment_status: null,
    currency: 'USD',
    presentment_currency: 'USD',
    subtotal_price: '30.00',
    total_price: '30.00',
    current_total_price: '30.00',
    total_tax: '0.00',
    customer: { id: 115310627, email: 'ada@example.com', phone: '+15550004444', first_name: 'Ada', last_name: 'Byron', created_at: at, updated_at: at },
    line_items: [{ id: 11, admin_graphql_api_id: 'gid://shopify/LineItem/11', title: 'Teapot', name: 'Teapot', quantity: 1, price: '30.00', product_id: 1, variant_id: 2 }],
    fulfillments: [],
    refunds: [],
  });
}

scenario(log, async (s) => {
  const bin = binary(log);
  const shop = await fakeShopifyAdmin(ADMIN_TOKEN);
  s.cleanups.push(() => shop.close());
  shop.addOrder({ id: ORDER_ID, total: '30.00' });
  const { srv, graph, model, api, customerWrites, customerTaps } = await serveWithFakes(s, bin, {
    pnid: PNID,
    env: {
      FRONTDESK_SHOPIFY_WEBHOOK_SECRET: SECRET,
      FRONTDESK_SHOPIFY_SHOP: SHOP,
      FRONTDESK_SHOPIFY_ADMIN_TOKEN: ADMIN_TOKEN,
      FRONTDESK_SHOPIFY_API_URL: shop.url,
    },
  });
  const base = await appBase(srv.addr, srv.port, s.cleanups, log);
  const call = restClient(api);
  const loginAPI = async (u) => {
    const r = await call('POST', '/api/v1/auth/login', null, { email: u.email, password: u.password });
    if (r.status !== 200 || !r.body?.token) throw new Error(`API login of ${u.email}: ${r.status} ${r.text}`);
    return r.body.token;
  };
  const adminToken = await loginAPI(ADMIN);
  const get = async (p, token = adminToken) => {
    const r = await call('GET', p, token);
    if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.text}`);
    return r.body;
  };

  // 1. The shop's order arrives; the agent may refund up to 20.00 USD without approval.
  const placed = await postShopifyWebhook(api, SECRET, { topic: 'orders/create', shop: SHOP, body: orderBody() });
  if (placed.status !== 200) throw new Error(`orders/create answered ${placed.status}: ${placed.text}`);
  const agents = (await get('/api/v1/agents')).agents ?? [];
  if (!agents.length) throw new Error('no agent profile to allow refund_order');
  const a = agents[0];
  const patched = await call('PATCH', `/api/v1/agents/${encodeURIComponent(a.id)}`, adminToken, {
    version: a.version,
    tools: [...new Set([...(a.tools ?? []), 'refund_order'])],
    policy: { auto_limit_minor: { USD: 2000 } },
  });
  if (patched.status !== 200) throw new Error(`allow refund_order with a 20.00 USD limit: ${patched.status} ${patched.text}`);
  await waitFor('order #1002 applied to Ada', async () => {
    const found = (await get(`/api/v1/customers?${new URLSearchParams({ query: 'Byron', limit: '50' })}`)).customers ?? [];
    for (const c of found) if (((await get(`/api/v1/customers/${encodeURIComponent(c.id)}/orders?limit=20`)).orders ?? []).some((o) => o.number === '1002')) return c;
    return null;
  });
  model.script(
    { toolCalls: [{ name: 'refund_order', arguments: JSON.stringify({ order_number: '#1002', reason: 'teapot arrived cracked' }) }] },
    { text: 'I have asked you to confirm the refund with the buttons.' },
  );

  // 2. The admin watches the inbox; Ada writes and the runtime asks her.
  const pageErrors = [];
  const page = await openPage(s, { viewport: { width: 1400, height: 900 }, errors: pageErrors });
  await signIn(page, base + '/', ADMIN);
  const me = await shownUser(page);
  await customerWrites(WA, NAME, `wamid.e2e.money.${Date.now()}`, 'my teapot is cracked, refund please');
  const question = await waitFor('the runtime’s question with buttons at the Graph API', () => graph.sentTo(WA).find((m) => (m.buttons ?? []).length === 2), T);
  if (!question.text.includes('#1002') || !question.text.includes('30.00')) throw new Error(`question ${JSON.stringify(question)}`);
  log(`asked ${JSON.stringify(question.text)} with ${question.buttons.map((b) => b.title).join(' / ')}`);
  if (shop.refunds().length) throw new Error('refunded before the customer’s yes');

  const item = page.getByTestId('conversation-item').filter({ hasText: 'Ada' }).first();
  await item.waitFor();
  await item.click();
  const card = page.getByTestId('confirmation').first();
  await card.waitFor();
  const cardText = async (id) => ((await card.getByTestId(id).first().textContent()) ?? '').replace(/\u00a0/g, ' ').trim();
  const usd = (v) => page.evaluate((x) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(x), v).then((t) => t.replace(/\u00a0/g, ' '));
  const want30 = await usd(30);
  const pending = { action: await cardText('confirmation-action'), subject: await cardText('confirmation-subject'), amount: await cardText('confirmation-amount'), state: await cardText('confirmation-state') };
  if (pending.action !== 'Refund' || pending.subject !== '#1002' || pending.amount !== want30 || pending.state !== 'waiting for customer') {
    throw new Error(`the pending card shows ${JSON.stringify(pending)}, want Refund #1002 ${want30} "waiting for customer"`);
  }
  if (!/^expires in /.test(await cardText('confirmation-expiry'))) throw new Error(`expiry shown ${JSON.stringify(await cardText('confirmation-expiry'))}`);
  const runtime = page.locator('[data-testid="message"][data-sender="system"]').first();
  await runtime.waitFor();
  const runtimeWho = ((await runtime.getByTestId('message-who').textContent()) ?? '').trim();
  if (!/^Runtime\s+automated$/.test(runtimeWho)) throw new Error(`the runtime's message is labelled ${JSON.stringify(runtimeWho)}`);
  log(`inbox: card ${JSON.stringify(pending)}; the question shows as ${JSON.stringify(runtimeWho)}`);

  // 3. Ada taps Yes: above the limit, the card and the nav change live.
  await customerTaps(WA, NAME, `wamid.e2e.money.yes.${Date.now()}`, question, question.buttons[0]);
  await page.waitForFunction(() => document.querySelector('[data-testid="confirmation"]')?.getAttribute('data-state') === 'awaiting_approval');
  const reason = await cardText('confirmation-approval');
  if ((await cardText('confirmation-state')) !== 'needs approval' || !reason.includes('above the 20.00 USD limit')) {
    throw new Error(`after the yes the card shows ${JSON.stringify(await cardText('confirmation-state'))}: ${JSON.stringify(reason)}`);
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="nav-approvals-count"]')?.textContent === '1');
  log(`live: card "needs approval" (${reason}); nav count 1`);

  // 4. An agent may neither see the queue nor decide.
  const created = await call('POST', '/api/v1/users', adminToken, { ...AGENT, role: 'agent' });
  if (created.status !== 201) throw new Error(`create agent: ${created.status} ${created.text}`);
  const agentToken = await loginAPI(AGENT);
  const queue = (await get('/api/v1/approvals')).approvals ?? [];
  if (queue.length !== 1) throw new Error(`queue ${JSON.stringify(queue)}`);
  const id = queue[0].id;
  for (const [m, p] of [['GET', '/api/v1/approvals'], ['POST', `/api/v1/approvals/${id}/approve`]]) {
    const r = await call(m, p, agentToken, m === 'POST' ? { note: 'me too' } : undefined);
    if (r.status !== 403) throw new Error(`an agent's ${m} ${p}: ${r.status}, want 403`);
  }

  // 5. The admin approves on the Approvals page, after the confirmation step.
  await page.getByTestId('nav-approvals').click();
  await page.waitForURL((u) => new URL(u).pathname === '/approvals');
  const row = page.locator(`[data-testid="approval"][data-confirmation-id="${id}"]`);
  await row.waitFor();
  const rowText = async (tid) => ((await row.getByTestId(tid).first().textContent()) ?? '').replace(/\u00a0/g, ' ').trim();
  const shown = { customer: await rowText('approval-customer'), subject: await rowText('approval-subject'), amount: await rowText('approval-amount'), reason: await rowText('approval-reason') };
  if (shown.customer !== NAME || shown.subject !== '#1002' || shown.amount !== want30 || shown.reason !== 'Needs approval: above the 20.00 USD limit') {
    throw new Error(`the approval shows ${JSON.stringify(shown)}`);
  }
  await row.getByTestId('approval-note').fill('long-standing customer');
  await row.getByTestId('approval-approve').click();
  const q = await rowText('approval-question');
  if (q !== 'Refund 30.00 USD on #1002?') throw new Error(`the confirmation step asks ${JSON.stringify(q)}`);
  if (shop.refunds().length) throw new Error('refunded before the admin confirmed');
  await page.screenshot({ path: path.join(os.tmpdir(), 'frontdesk-approvals.png') });
  await row.getByTestId('approval-confirm-yes').click();
  const outcome = page.getByTestId('approvals-outcome');
  await outcome.waitFor();
  await page.getByTestId('approvals-empty').waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="nav-approvals-count"]'));
  log(`Approvals page: ${JSON.stringify(shown)}; asked ${JSON.stringify(q)}; ${JSON.stringify(await outcome.textContent())}`);
  await waitFor('Ada told the refund is done', () => graph.sentTo(WA).some((m) => m.text.includes('Done:')), T);
  if (shop.refunds().length !== 1 || shop.calls('RefundCreate') !== 1) throw new Error(`the shop made ${shop.refunds().length} refunds in ${shop.calls('RefundCreate')} refundCreate calls, want 1 and 1`);
  const again = await call('POST', `/api/v1/approvals/${id}/approve`, adminToken, { note: 'twice' });
  if (again.status !== 409) throw new Error(`a second approval: ${again.status}, want 409`);
  const refundId = shop.refunds()[0].id.split('/').pop();

  // 6. The conversation's card reads executed, with the refund and who approved it.
  await page.locator('nav a', { hasText: 'Inbox' }).click();
  await item.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="confirmation"]')?.getAttribute('data-state') === 'executed');
  if ((await cardText('confirmation-refund-id')) !== refundId) throw new Error(`refund id shown ${JSON.stringify(await cardText('confirmation-refund-id'))}, want ${refundId}`);
  await card.getByTestId('confirmation-timeline').locator('summary').click();
  const approvedBy = await waitFor('the approved step', async () => {
    const step = card.locator('[data-testid="confirmation-step"][data-action="confirmation.approved"]');
    return (await step.count()) ? ((await step.getByTestId('confirmation-step-actor').textContent()) ?? '').trim() : null;
  });
  if (approvedBy !== me.name) throw new Error(`the approved step names ${JSON.stringify(approvedBy)}, want ${JSON.stringify(me.name)}`);
  const note = (await card.locator('[data-testid="confirmation-step"][data-action="confirmation.approved"] [data-testid="confirmation-step-note"]').textContent())?.trim();
  if (note !== 'Note: “long-standing customer”') throw new Error(`the approved step's note reads ${JSON.stringify(note)}`);
  const steps = await card.getByTestId('confirmation-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
  // above the limit the customer's yes is the awaiting_approval step itself
  for (const want of ['confirmation.proposed', 'confirmation.awaiting_approval', 'confirmation.approved', 'confirmation.executed']) {
    if (!steps.includes(want)) throw new Error(`the timeline lacks ${want}: ${steps.join(', ')}`);
  }
  const shot = process.env.E2E_MONEY_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-money.png');
  await page.screenshot({ path: shot });
  log('screenshot', shot);
  log(`inbox: executed, refund ${refundId}; steps ${steps.join(' → ')}; approved by ${approvedBy}`);

  // 7. Customer 360 lists the refund.
  await page.getByTestId('customer-360').click();
  const refundRow = page.locator('[data-testid="money-row"][data-kind="refund"]').first();
  await refundRow.waitFor();
  const money = {
    state: await refundRow.getAttribute('data-state'),
    order: ((await refundRow.getByTestId('money-order').textContent()) ?? '').trim(),
    amount: ((await refundRow.getByTestId('money-amount').textContent()) ?? '').replace(/\u00a0/g, ' ').trim(),
    refund: ((await refundRow.getByTestId('money-refund-id').textContent()) ?? '').trim(),
  };
  if (money.state !== 'executed' || money.order !== '#1002' || money.amount !== want30 || money.refund !== refundId) throw new Error(`Customer 360 shows ${JSON.stringify(money)}`);
  log(`Customer 360: ${JSON.stringify(money)}`);

  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join(' | ')}`);
});
