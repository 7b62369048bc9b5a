// Browser test of shop orders in Customer 360 and the Shops page against the
// real `frontdesk serve`, not in demo mode: WhatsApp points at a fake Graph
// API and the model at a scripted OpenAI-compatible server (lib.mjs), and
// one Shopify shop is connected by its webhook secret.
//
//   npm run test:e2e                              (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/commerce.e2e.mjs      (this one, with a built binary)
//
// Scenario: Shopify sends a signed orders/create webhook for order #1001 of
// Grace Hopper (+1 555-000-2222): 200. The same body with a forged
// signature, and a forged order #6666, get 401 and change nothing. Grace
// then writes on WhatsApp from 15550002222 and the AI answers; the backend
// links her WhatsApp identity to the shop customer by phone. The admin opens
// Customers, finds "Grace", opens her: the Orders section shows #1001,
// $49.98, a "paid" and an "unfulfilled" badge, the line item, the tracking
// link and "Open in Shopify admin" to the order's admin page. The Shops page
// lists e2e-shop.myshopify.com as connected, its last event orders/create,
// its webhook URL, the events and the two refused deliveries with the last
// one's reason, as the API reports them. An agent reads the orders
// (200) but gets 403 for the shops and has no Shops entry in the nav.
// Orders are applied by a consumer after the webhook's 200: the test polls
// for effects, never sleeps a fixed time.

import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, appBase, binary, makeLog, openPage, postShopifyWebhook, restClient, scenario, serveWithFakes, shownUser, signIn, T, waitFor } from './lib.mjs';

const log = makeLog('e2e commerce');

const PNID = '109876543212';
const SECRET = 'e2e-shopify-secret';
const SHOP = 'e2e-shop.myshopify.com';
const WA = '15550002222';
const NAME = 'Grace Hopper';
const ORDER_ID = 450789469;
const ADMIN_URL = `https://${SHOP}/admin/orders/${ORDER_ID}`;
const TRACKING_URL = 'https://www.ups.com/track?tracknum=1Z999';
const AGENT = { email: 'alan.commerce@brand.example', name: 'Alan Agent', password: 'alan-e2e-password-123' };

// offsetTime writes t as Shopify does: local time with an offset (-05:00).
function offsetTime(t) {
  return new Date(t.getTime() - 5 * 3600e3).toISOString().replace(/\.\d+Z$/, '-05:00');
}

// orderBody is a REST-shaped Shopify order (the orders/create payload).
function orderBody({ id = ORDER_ID, name = '#1001', total = '49.98', created = new Date(Date.now() - 60e3) } = {}) {
  const at = offsetTime(created);
  return JSON.stringify({
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name,
    order_number: Number(name.replace('#', '')),
    email: 'grace@example.com',
    phone: '+1 555-000-2222',
    created_at: at,
    updated_at: at,
    processed_at: at,
    cancelled_at: null,
    cancel_reason: null,
    financial_status: 'paid',
    fulfillment_status: null,
    currency: 'USD',
    presentment_currency: 'USD',
    subtotal_price: total,
    total_price: total,
    current_total_price: total,
    total_tax: '0.00',
    customer: {
      id: 207119551,
      email: 'grace@example.com',
      phone: '+15550002222',
      first_name: 'Grace',
      last_name: 'Hopper',
      created_at: at,
      updated_at: at,
    },
    line_items: [{ id: 1, admin_graphql_api_id: 'gid://shopify/LineItem/1', title: 'Blue mug', name: 'Blue mug', sku: 'MUG-BLUE', quantity: 2, price: '24.99', product_id: 632910392, variant_id: 808950810 }],
    fulfillments: [
      {
        id: 255858046,
        order_id: id,
        status: 'success',
        created_at: at,
        updated_at: at,
        tracking_company: 'UPS',
        tracking_number: '1Z999',
        tracking_numbers: ['1Z999'],
        tracking_url: TRACKING_URL,
        tracking_urls: [TRACKING_URL],
      },
    ],
    refunds: [],
  });
}

scenario(log, async (s) => {
  const bin = binary(log);
  const { srv, graph, api, customerWrites } = await serveWithFakes(s, bin, {
    pnid: PNID,
    env: { FRONTDESK_SHOPIFY_WEBHOOK_SECRET: SECRET, FRONTDESK_SHOPIFY_SHOP: SHOP },
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

  // 1. Shopify: a signed orders/create is taken (200); forged ones are refused (401).
  const body = orderBody();
  const ok = await postShopifyWebhook(api, SECRET, { topic: 'orders/create', shop: SHOP, body });
  if (ok.status !== 200) throw new Error(`signed orders/create answered ${ok.status}: ${ok.text}`);
  const forged = await postShopifyWebhook(api, SECRET, {
    topic: 'orders/create',
    shop: SHOP,
    body: orderBody({ id: 450789470, name: '#6666', total: '0.01' }),
    hmac: crypto.createHmac('sha256', 'not-the-secret').update(body).digest('base64'),
  });
  if (forged.status !== 401) throw new Error(`forged signature answered ${forged.status}, want 401: ${forged.text}`);
  const unsigned = await postShopifyWebhook(api, SECRET, { topic: 'orders/create', shop: SHOP, body, hmac: '' });
  if (unsigned.status !== 401) throw new Error(`missing signature answered ${unsigned.status}, want 401: ${unsigned.text}`);
  log('Shopify orders/create: signed → 200, forged → 401, unsigned → 401');

  // 2. Grace writes on WhatsApp from the phone of her shop account, and the AI answers.
  await customerWrites(WA, NAME, `wamid.e2e.commerce.${Date.now()}`, 'Hi, where is my order #1001?');
  const ai = await waitFor('the AI answer at the Graph API', () => graph.sentTo(WA).find((m) => /^AI answer \d+$/.test(m.text)), T);
  log(`customer message in, AI answered ${JSON.stringify(ai.text)}`);

  // 3. Poll the API until one customer "Grace" has the WhatsApp identity and order #1001.
  let lastSeen = '';
  const { customer, order } = await waitFor(
    'Grace with her WhatsApp identity and order #1001 (REST)',
    async () => {
      const page = await get(`/api/v1/customers?${new URLSearchParams({ query: 'Grace', limit: '50' })}`);
      const graces = page.customers ?? [];
      const withWA = graces.filter((c) => (c.identities ?? []).some((i) => i.channel === 'whatsapp' && i.external_id === WA));
      const found = [];
      for (const c of graces) {
        const o = await get(`/api/v1/customers/${encodeURIComponent(c.id)}/orders?limit=20`);
        found.push({ id: c.id, name: c.name, phone: c.phone, ids: (c.identities ?? []).map((i) => `${i.channel}:${i.external_id}`), orders: (o.orders ?? []).map((x) => x.number) });
        const hit = (o.orders ?? []).find((x) => x.number === '1001');
        if (hit && withWA.some((w) => w.id === c.id)) return { customer: c, order: hit };
      }
      lastSeen = JSON.stringify(found);
      return null;
    },
    T,
  ).catch((e) => {
    throw new Error(`${e.message}; customers matching "Grace": ${lastSeen}`);
  });
  log(`customer ${customer.id} (${customer.name}, ${customer.phone}) has order ${order.id}: #${order.number} ${order.total_minor} ${order.currency} ${order.financial_status}/${order.fulfillment_status || '(none)'}`);
  const expect = (what, got, want) => {
    if (got !== want) throw new Error(`order ${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)} (order ${JSON.stringify(order)})`);
  };
  expect('source', order.source, 'shopify');
  expect('shop', order.shop, SHOP);
  expect('external_id', order.external_id, String(ORDER_ID));
  expect('total_minor', order.total_minor, 4998);
  expect('currency', order.currency, 'USD');
  expect('admin_url', order.admin_url, ADMIN_URL);
  const one = await get(`/api/v1/orders/${encodeURIComponent(order.id)}`);
  expect('GET /orders/{id} number', one.number, '1001');
  const missing = await call('GET', '/api/v1/orders/no-such-order', adminToken);
  if (missing.status !== 404) throw new Error(`GET /orders/no-such-order answered ${missing.status}, want 404`);
  const all = await get(`/api/v1/customers/${encodeURIComponent(customer.id)}/orders?limit=20`);
  if ((all.orders ?? []).some((x) => x.number === '6666' || x.total_minor === 1)) throw new Error(`the forged order was applied: ${JSON.stringify(all.orders)}`);

  // 4. The admin opens Customers, finds Grace and opens her.
  const viewport = { width: 1400, height: 900 };
  const pageErrors = [];
  const page = await openPage(s, { viewport, errors: pageErrors });
  await signIn(page, base + '/', ADMIN, null);
  await page.getByTestId('me').waitFor();
  await page.getByTestId('nav-customers').click();
  await page.waitForURL((u) => new URL(u).pathname === '/customers');
  await page.getByTestId('customer-search').fill('Grace');
  const grace = page.locator(`[data-testid="customer-result"][data-customer-id="${customer.id}"]`);
  await grace.waitFor();
  await grace.click();
  await page.waitForURL((u) => new URL(u).pathname === `/customers/${encodeURIComponent(customer.id)}`);
  await page.locator(`[data-testid="customer-profile"][data-customer-id="${customer.id}"]`).waitFor();
  await page.getByTestId('customer-identity').filter({ hasText: WA }).waitFor();
  // a shop account is no channel to open a conversation on
  if (await page.getByTestId('conversation-channel').count()) {
    const opts = await page.getByTestId('conversation-channel').locator('option').allTextContents();
    if (opts.some((o) => /shopify|magento/i.test(o))) throw new Error(`the channel choice offers a shop: ${opts.join(', ')}`);
  }

  // 5. The Orders section shows #1001 with its total, badges, line, tracking and admin link.
  const card = page.locator(`[data-testid="order"][data-order-id="${order.id}"]`);
  await card.waitFor();
  const text = async (id) => (await card.getByTestId(id).first().textContent()).replace(/\u00a0/g, ' ').trim();
  const shown = {
    number: await text('order-number'),
    total: await text('order-total'),
    financial: await text('order-financial'),
    fulfillment: await text('order-fulfillment'),
    line: await text('order-line'),
    shop: await text('order-shop'),
  };
  const locale = await page.evaluate(() => navigator.language);
  const want = await page.evaluate(() => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(49.98));
  if (shown.number !== '#1001') throw new Error(`order number shown ${JSON.stringify(shown.number)}, want "#1001"`);
  if (shown.total !== want.replace(/\u00a0/g, ' ')) throw new Error(`order total shown ${JSON.stringify(shown.total)}, want ${JSON.stringify(want)} (${locale})`);
  if (locale.startsWith('en') && shown.total !== '$49.98') throw new Error(`order total shown ${JSON.stringify(shown.total)} in ${locale}, want "$49.98"`);
  if (shown.financial !== 'paid') throw new Error(`financial badge ${JSON.stringify(shown.financial)}, want "paid"`);
  if (shown.fulfillment !== 'unfulfilled') throw new Error(`fulfilment badge ${JSON.stringify(shown.fulfillment)}, want "unfulfilled"`);
  if ((await card.getByTestId('order-financial').getAttribute('data-tone')) !== 'ok') throw new Error('the "paid" badge is not coloured as good');
  if (!/^2 × Blue mug/.test(shown.line)) throw new Error(`line item shown ${JSON.stringify(shown.line)}, want "2 × Blue mug …"`);
  if (!shown.shop.includes(SHOP)) throw new Error(`shop shown ${JSON.stringify(shown.shop)}, want ${SHOP}`);
  if (await card.getByTestId('order-refunded').count()) throw new Error('a refund is shown on an order with none');
  const track = card.getByTestId('order-tracking-link');
  if ((await track.textContent()) !== '1Z999' || (await track.getAttribute('href')) !== TRACKING_URL) {
    throw new Error(`tracking link ${JSON.stringify(await track.textContent())} → ${await track.getAttribute('href')}, want 1Z999 → ${TRACKING_URL}`);
  }
  const adminLink = card.getByTestId('order-admin-link');
  const [aText, aHref, aTarget, aRel] = [await adminLink.textContent(), await adminLink.getAttribute('href'), await adminLink.getAttribute('target'), await adminLink.getAttribute('rel')];
  if (aText !== 'Open in Shopify admin' || aHref !== ADMIN_URL || aTarget !== '_blank' || !/\bnoopener\b/.test(aRel ?? '')) {
    throw new Error(`admin link ${JSON.stringify({ aText, aHref, aTarget, aRel })}, want "Open in Shopify admin" → ${ADMIN_URL}, _blank, noopener`);
  }
  const numbers = await page.getByTestId('order-number').allTextContents();
  if (numbers.includes('#6666')) throw new Error(`the forged order is shown: ${numbers.join(', ')}`);
  // the timeline still works beside the orders
  await page.locator('[data-testid="timeline-item"][data-kind="conversation"]').first().waitFor();
  log(`Orders section: ${JSON.stringify(shown)} (locale ${locale}); tracking → ${TRACKING_URL}; admin → ${aHref}`);

  const shot = process.env.E2E_COMMERCE_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-commerce.png');
  await page.screenshot({ path: shot, fullPage: true });
  log('screenshot', shot);

  // 6. The Shops page lists the shop with its last event and webhook URL, as the API reports it.
  const shopsAPI = (await get('/api/v1/commerce/shops')).shops ?? [];
  const shopAPI = shopsAPI.find((x) => x.domain === SHOP);
  if (!shopAPI) throw new Error(`GET /commerce/shops lacks ${SHOP}: ${JSON.stringify(shopsAPI)}`);
  if (shopAPI.last_event_topic !== 'orders/create' || !shopAPI.last_event_at) throw new Error(`shop's last event: ${JSON.stringify(shopAPI)}`);
  await page.getByTestId('nav-shops').click();
  await page.waitForURL((u) => new URL(u).pathname === '/settings/shops');
  const row = page.locator(`[data-testid="shop-row"][data-domain="${SHOP}"]`);
  await row.waitFor();
  const cell = async (id) => (await row.getByTestId(id).first().textContent()).trim();
  const shopShown = {
    status: await cell('shop-status'),
    topic: await cell('shop-last-topic'),
    lastEvent: await cell('shop-last-event'),
    webhook: await cell('shop-webhook-url'),
    events: await cell('shop-events'),
    failures: await cell('shop-failures'),
  };
  if (shopShown.status !== 'connected') throw new Error(`shop status shown ${JSON.stringify(shopShown.status)}, want "connected"`);
  if (shopShown.topic !== 'orders/create') throw new Error(`last event topic shown ${JSON.stringify(shopShown.topic)}, want "orders/create"`);
  if (shopShown.webhook !== shopAPI.webhook_url || !shopShown.webhook.endsWith('/webhooks/shopify')) {
    throw new Error(`webhook URL shown ${JSON.stringify(shopShown.webhook)}, API ${JSON.stringify(shopAPI.webhook_url)}`);
  }
  // the counts may have moved since the API call above; the page shows at least what the API said then
  if (Number(shopShown.events) < shopAPI.events_total || shopAPI.events_total < 1) throw new Error(`events shown ${shopShown.events}, API ${shopAPI.events_total}`);
  // the forged and the unsigned delivery are refused deliveries of this shop
  if (shopAPI.failures_total < 2 || !shopAPI.last_failure || !shopAPI.last_failure_at) throw new Error(`the shop's failures after 2 refused deliveries: ${JSON.stringify(shopAPI)}`);
  if (Number.parseInt(shopShown.failures, 10) < shopAPI.failures_total) throw new Error(`failures shown ${shopShown.failures}, API ${shopAPI.failures_total}`);
  const lastFailure = (await cell('shop-last-failure')).replace(/\u00a0/g, ' ');
  if (!lastFailure.startsWith(`last: ${shopAPI.last_failure}`)) throw new Error(`last failure shown ${JSON.stringify(lastFailure)}, API ${JSON.stringify(shopAPI.last_failure)}`);
  await row.getByTestId('shop-webhook-copy').click();
  await page.waitForFunction(
    (d) => document.querySelector(`[data-testid="shop-row"][data-domain="${d}"] [data-testid="shop-webhook-copy"]`)?.getAttribute('data-state') !== 'idle',
    SHOP,
  );
  const copied = await row.getByTestId('shop-webhook-copy').getAttribute('data-state');
  log(`Shops page: ${JSON.stringify(shopShown)}; copy → ${copied}; API failures ${shopAPI.failures_total} (last ${JSON.stringify(shopAPI.last_failure)})`);

  // 7. An agent reads orders but not shops, and has no Shops entry.
  const created = await call('POST', '/api/v1/users', adminToken, { ...AGENT, role: 'agent' });
  if (created.status !== 201) throw new Error(`create agent: ${created.status} ${created.text}`);
  const agentToken = await loginAPI(AGENT);
  const agentOrders = await call('GET', `/api/v1/customers/${encodeURIComponent(customer.id)}/orders?limit=20`, agentToken);
  if (agentOrders.status !== 200 || !(agentOrders.body?.orders ?? []).some((x) => x.id === order.id)) throw new Error(`agent GET orders: ${agentOrders.status} ${agentOrders.text}`);
  const agentShops = await call('GET', '/api/v1/commerce/shops', agentToken);
  if (agentShops.status !== 403) throw new Error(`agent GET /commerce/shops answered ${agentShops.status}, want 403`);
  const ap = await openPage(s, { who: 'agent', viewport, errors: pageErrors });
  await signIn(ap, `${base}/customers/${encodeURIComponent(customer.id)}`, AGENT, null);
  if ((await shownUser(ap)).role !== 'agent') throw new Error('agent not shown as agent');
  await ap.locator(`[data-testid="order"][data-order-id="${order.id}"]`).waitFor();
  if ((await ap.getByTestId('nav-shops').count()) !== 0) throw new Error('the agent sees the Shops nav entry');
  log('agent: orders 200 and shown, /commerce/shops 403, no Shops in the nav');

  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join(' | ')}`);
});
