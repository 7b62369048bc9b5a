// Helpers shared by the browser tests in this folder: ports, readiness,
// the binary, the fallback static server, chromium, the fakes a real
// (non-demo) `frontdesk serve` talks to, and the steps every scenario takes
// (run and report, start the server, sign in, call the REST API).

import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const webDir = path.resolve(here, '..');
export const repo = path.resolve(webDir, '../..');

/** T is how long one step may wait (ms): the pages' default timeout, and the scenarios' waitFor limit. */
export const T = 15000;

/** DEMO_ADMIN is the admin that `frontdesk serve` creates in demo mode. */
export const DEMO_ADMIN = { email: 'admin@demo.local', password: 'frontdesk-demo-password' };

export function makeLog(name) {
  return (...a) => console.log(`[${name} ${new Date().toISOString().slice(11, 23)}]`, ...a);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function waitHTTP(url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    if (Date.now() > end) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** waitFor polls cond (sync or async) every 25 ms until it returns a truthy value, which it returns. */
export async function waitFor(what, cond, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** binary returns FD_BIN, or builds ./cmd/frontdesk into the temp dir. */
export function binary(log) {
  if (process.env.FD_BIN) return process.env.FD_BIN;
  const bin = path.join(os.tmpdir(), 'frontdesk-e2e');
  log('building', bin);
  execFileSync('go', ['build', '-o', bin, './cmd/frontdesk'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

/**
 * startServer runs `bin serve` with env on a free port and a fresh data dir;
 * the process is killed on exit even when the caller forgets.
 */
export async function startServer(bin, env, log) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-'));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const logFile = path.join(dataDir, 'serve.log');
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(bin, ['serve'], {
    env: { ...process.env, ...env, FRONTDESK_DATA_DIR: dataDir, FRONTDESK_HTTP_ADDR: addr },
    stdio: ['ignore', out, out],
  });
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  };
  process.on('exit', kill);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = sig ?? code));
  try {
    await waitFor('frontdesk /readyz', async () => {
      if (exited !== null) throw new Error(`frontdesk serve exited (${exited}); see ${logFile}`);
      try {
        return (await fetch(`http://${addr}/readyz`)).ok;
      } catch {
        return false;
      }
    }, 30000);
  } catch (e) {
    kill();
    throw e;
  }
  log('frontdesk ready on', addr);
  return { proc, port, addr, dataDir, logFile, kill };
}

/**
 * appBase returns the URL serving the app: the binary itself when it serves
 * the embedded app at /, else a static server of dist/ proxying to it (or an
 * error when E2E_REQUIRE_EMBEDDED=1). close is pushed on cleanups.
 */
export async function appBase(addr, port, cleanups, log) {
  const base = `http://${addr}`;
  const root = await fetch(base + '/').then((r) => (r.ok ? r.text() : ''), () => '');
  if (root.includes('id="root"')) {
    log('the binary serves the embedded app at /');
    return base;
  }
  if (process.env.E2E_REQUIRE_EMBEDDED === '1') throw new Error('frontdesk serve does not serve the app at / (mount dashboard.WebApp())');
  const pport = await freePort();
  const proxy = await staticProxy(pport, port);
  cleanups.push(() => proxy.close());
  log('WARNING: the binary does not serve the app at / yet; serving dist/ from', `http://127.0.0.1:${pport}`);
  return `http://127.0.0.1:${pport}`;
}

// staticProxy serves dist/ and forwards /api, /ws, /webhooks… to target.
export function staticProxy(port, target) {
  const dist = path.join(webDir, 'dist');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const forwarded = (u) => u.startsWith('/api/') || u.startsWith('/ws') || u.startsWith('/webhooks/');
  const srv = http.createServer((req, res) => {
    if (forwarded(req.url)) {
      const p = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      p.on('error', () => res.destroy());
      req.pipe(p);
      return;
    }
    let f = path.join(dist, path.normalize(req.url.split('?')[0]));
    if (!f.startsWith(dist) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) f = path.join(dist, 'index.html');
    res.writeHead(200, { 'Content-Type': types[path.extname(f)] ?? 'application/octet-stream' });
    fs.createReadStream(f).pipe(res);
  });
  srv.on('upgrade', (req, sock, head) => {
    const up = net.connect(target, '127.0.0.1', () => {
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n` + Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n');
      up.write(head);
      sock.pipe(up).pipe(sock);
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  return new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv)));
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(srv) {
  return new Promise((resolve, reject) => {
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv.address().port));
  });
}

function json(res, status, v) {
  const b = JSON.stringify(v);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
  res.end(b);
}

/**
 * fakeGraph serves POST /v21.0/{phone_number_id}/messages like the Cloud API
 * and records every request ({method, path, phoneNumberId, token, body}).
 * sent() lists the accepted text messages ({to, text, wamid}) and
 * interactive ones with reply buttons ({to, text: the body, wamid, buttons:
 * [{id, title}]}).
 */
export async function fakeGraph(acceptToken) {
  const requests = [];
  const sentList = [];
  let seq = 0;
  const srv = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {}
    const m = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(req.url.split('?')[0]);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const r = { method: req.method, path: req.url, phoneNumberId: m?.[1] ?? '', token, body };
    requests.push(r);
    const err = (status, code, message) => json(res, status, { error: { message, type: 'OAuthException', code, fbtrace_id: 'fake' } });
    if (token !== acceptToken) return err(401, 190, 'Error validating access token');
    if (req.method !== 'POST' || !m || !body || body.messaging_product !== 'whatsapp') return err(400, 100, 'Invalid parameter');
    if ('status' in body) return body.status === 'read' && body.message_id ? json(res, 200, { success: true }) : err(400, 100, 'Invalid parameter');
    const type = body.type ?? 'text';
    if (!body.to || !body[type]) return err(400, 100, `The parameter ${body.to ? type : 'to'} is required.`);
    seq++;
    const wamid = `wamid.FAKE${1000 + seq}`;
    if (type === 'text') sentList.push({ to: body.to, text: body.text?.body ?? '', wamid });
    if (type === 'interactive') {
      const buttons = (body.interactive?.action?.buttons ?? []).map((b) => ({ id: b.reply?.id ?? '', title: b.reply?.title ?? '' }));
      sentList.push({ to: body.to, text: body.interactive?.body?.text ?? '', wamid, buttons });
    }
    json(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: String(body.to).replace(/^\+/, '') }], messages: [{ id: wamid }] });
  });
  const port = await listen(srv);
  return {
    baseURL: `http://127.0.0.1:${port}/v21.0`,
    requests: () => requests.slice(),
    sent: () => sentList.slice(),
    sentTo: (to) => sentList.filter((s) => String(s.to).replace(/^\+/, '') === String(to).replace(/^\+/, '')),
    close: () => srv.close(),
  };
}

/**
 * fakeModel is an OpenAI-compatible server at {baseURL}/chat/completions that
 * answers "AI answer N", N counting its chat calls from 1, as JSON or (when
 * the request asks to stream) as server-sent events. Every request is recorded
 * ({method, path, body}); chats() lists the chat-completion ones.
 * script(...steps) queues answers taken before the default, one a chat call:
 * { text } answers text, { toolCalls: [{ name, arguments (a JSON string) }] }
 * calls tools, and a function of the request body returns either.
 */
export async function fakeModel(model) {
  const requests = [];
  const queue = [];
  let n = 0;
  const srv = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {}
    const p = req.url.split('?')[0];
    const r = { method: req.method, path: p, body };
    requests.push(r);
    if (req.method === 'GET' && p === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 1735689600, owned_by: 'e2e' }] });
    if (req.method !== 'POST' || p !== '/v1/chat/completions' || !body) {
      return json(res, 404, { error: { message: `no route ${req.method} ${p}`, type: 'invalid_request_error', code: null } });
    }
    n++;
    r.n = n;
    let step = queue.shift() ?? { text: `AI answer ${n}` };
    if (typeof step === 'function') step = step(body);
    const calls = (step.toolCalls ?? []).map((c, i) => ({ id: `call_${n}_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    const content = calls.length ? null : (step.text ?? '');
    const finishReason = calls.length ? 'tool_calls' : 'stop';
    r.answer = content ?? '';
    r.toolCalls = calls;
    const id = `chatcmpl-e2e-${n}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 };
    if (body.stream) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const chunk = (delta, finish) => ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
      const events = calls.length
        ? [chunk({ role: 'assistant', content: null, tool_calls: calls.map((c, index) => ({ index, ...c })) }, null), chunk({}, finishReason)]
        : [chunk({ role: 'assistant', content: '' }, null), chunk({ content }, null), chunk({}, 'stop')];
      if (body.stream_options?.include_usage) events.push({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage });
      for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content, ...(calls.length && { tool_calls: calls }) }, finish_reason: finishReason }],
      usage,
    });
  });
  const port = await listen(srv);
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: () => requests.slice(),
    chats: () => requests.filter((r) => r.n),
    script: (...steps) => void queue.push(...steps),
    close: () => srv.close(),
  };
}

/** signWebhook returns X-Hub-Signature-256 of body for secret. */
export function signWebhook(secret, body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/** signShopify returns X-Shopify-Hmac-Sha256 of body for secret: the base64 HMAC-SHA256 of the raw body. */
export function signShopify(secret, body) {
  return crypto.createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * postShopifyWebhook POSTs body (raw JSON text) to /webhooks/shopify of the
 * server at api with the headers Shopify sends (topic, shop domain, event and
 * webhook ids, trigger time, API version 2025-01), signed with secret unless
 * hmac is given; it answers { status, text }.
 */
export async function postShopifyWebhook(api, secret, { topic, shop, body, hmac, eventId = crypto.randomUUID() }) {
  const r = await fetch(`${api}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': topic,
      'X-Shopify-Shop-Domain': shop,
      'X-Shopify-Event-Id': eventId,
      'X-Shopify-Webhook-Id': crypto.randomUUID(),
      'X-Shopify-Triggered-At': new Date().toISOString(),
      'X-Shopify-API-Version': '2025-01',
      'X-Shopify-Hmac-Sha256': hmac ?? signShopify(secret, body),
    },
    body,
  });
  return { status: r.status, text: await r.text() };
}

/** textWebhook is the Cloud API "messages" webhook body of one text from waID (see whatsapptest.TextWebhook). */
export function textWebhook(phoneNumberId, waID, name, wamid, text, ts = new Date()) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waID }],
              messages: [{ from: waID, id: wamid, timestamp: String(Math.floor(ts.getTime() / 1000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
}

/**
 * buttonReplyWebhook is the Cloud API "messages" webhook body of waID's tap
 * on the reply button buttonId (title) of the message question (a wamid);
 * see whatsapptest.ButtonReplyWebhook.
 */
export function buttonReplyWebhook(phoneNumberId, waID, name, wamid, question, buttonId, title, ts = new Date()) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waID }],
              messages: [
                {
                  from: waID,
                  id: wamid,
                  timestamp: String(Math.floor(ts.getTime() / 1000)),
                  type: 'interactive',
                  context: { from: phoneNumberId, id: question },
                  interactive: { type: 'button_reply', button_reply: { id: buttonId, title } },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

/**
 * fakeShopifyAdmin serves the Shopify Admin GraphQL API that refunds need
 * (shopify.Client.Refund) at {url}/graphql.json, url being what
 * FRONTDESK_SHOPIFY_API_URL takes: the RefundOrder query (the order's
 * refunds, one successful sale of its total, and what is still refundable)
 * and refundCreate (a refund recorded on the order, or userErrors when it is
 * more than is left). Requests without the access token get Shopify's 401.
 * addOrder({ id, total: "30.00", currency }) adds an order; refunds() lists
 * the refunds made ({ id, orderId, amount, note }); calls(op) counts the
 * requests of an operation ("RefundOrder", "RefundCreate").
 */
export async function fakeShopifyAdmin(acceptToken) {
  const orders = new Map();
  const made = [];
  const ops = [];
  const money = (amount, currencyCode) => ({ presentmentMoney: { amount, currencyCode } });
  const cents = (s) => Math.round(Number(s) * 100);
  const dec = (c) => (c / 100).toFixed(2);
  const srv = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    if (req.headers['x-shopify-access-token'] !== acceptToken) return json(res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    if (req.method !== 'POST' || !req.url.endsWith('/graphql.json')) return json(res, 404, { errors: 'Not Found' });
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {
      return json(res, 400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    const op = /(?:query|mutation)\s+(\w+)/.exec(body.query ?? '')?.[1] ?? '';
    ops.push(op);
    const v = body.variables ?? {};
    if (op === 'RefundOrder') {
      const o = orders.get(v.id);
      if (!o) return json(res, 200, { data: { order: null } });
      const refunded = o.refunds.reduce((a, f) => a + cents(f.amount), 0);
      const left = dec(cents(o.total) - refunded);
      const sale = { id: `gid://shopify/OrderTransaction/${o.legacy}1`, kind: 'SALE', status: 'SUCCESS', gateway: 'bogus', amountSet: money(o.total, o.currency), parentTransaction: null };
      const refundTxs = o.refunds.map((f, i) => ({ id: `gid://shopify/OrderTransaction/${o.legacy}9${i}`, kind: 'REFUND', status: 'SUCCESS', gateway: 'bogus', amountSet: money(f.amount, o.currency), parentTransaction: { id: sale.id } }));
      return json(res, 200, {
        data: {
          order: {
            id: v.id,
            legacyResourceId: String(o.legacy),
            currencyCode: o.currency,
            presentmentCurrencyCode: o.currency,
            refunds: o.refunds.map((f) => ({ id: f.id, legacyResourceId: f.id.split('/').pop(), note: f.note, totalRefundedSet: money(f.amount, o.currency) })),
            transactions: [sale, ...refundTxs],
            suggestedRefund: { amountSet: money('0.00', o.currency), maximumRefundableSet: money(left, o.currency), suggestedTransactions: [] },
          },
        },
      });
    }
    if (op === 'RefundCreate') {
      const input = v.input ?? {};
      const o = orders.get(input.orderId);
      if (!o) return json(res, 200, { data: { refundCreate: { refund: null, userErrors: [{ field: ['orderId'], message: 'Order does not exist' }] } } });
      const amount = (input.transactions ?? []).reduce((a, t) => a + cents(t.amount), 0);
      const left = cents(o.total) - o.refunds.reduce((a, f) => a + cents(f.amount), 0);
      if (amount <= 0 || amount > left) {
        return json(res, 200, { data: { refundCreate: { refund: null, userErrors: [{ field: ['transactions'], message: 'Refund amount exceeds the refundable amount' }] } } });
      }
      const f = { id: `gid://shopify/Refund/${929361460 + made.length}`, orderId: input.orderId, amount: dec(amount), note: input.note ?? '' };
      o.refunds.push(f);
      made.push(f);
      return json(res, 200, {
        data: { refundCreate: { refund: { id: f.id, legacyResourceId: f.id.split('/').pop(), note: f.note, totalRefundedSet: money(f.amount, o.currency) }, userErrors: [] } },
      });
    }
    json(res, 200, { errors: [{ message: `e2e fake: no operation ${op || '(unnamed)'}` }] });
  });
  const port = await listen(srv);
  return {
    url: `http://127.0.0.1:${port}/admin/api/2025-01`,
    addOrder: ({ id, total, currency = 'USD' }) => orders.set(`gid://shopify/Order/${id}`, { legacy: id, total, currency, refunds: [] }),
    refunds: () => made.slice(),
    calls: (op) => ops.filter((o) => o === op).length,
    close: () => srv.close(),
  };
}

/**
 * scenario runs body(s), one browser scenario, and reports it: "PASS in N s"
 * (then the server's data dir is removed), or "FAIL: …" with the path of the
 * server's log and exit code 1. s is { log, cleanups, srv, browser }: body
 * pushes what must be undone on cleanups (run last first when the scenario
 * ends, errors ignored) and sets srv (see serve) and browser (see openPage),
 * which is closed before the cleanups run.
 */
export async function scenario(log, body) {
  const started = Date.now();
  const s = { log, cleanups: [], srv: null, browser: null };
  try {
    await body(s);
    log(`PASS in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const dir = s.srv?.dataDir;
    if (dir) s.cleanups.push(() => setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 500));
  } catch (e) {
    log('FAIL:', e.message);
    if (s.srv) log('server log:', s.srv.logFile);
    process.exitCode = 1;
  } finally {
    await s.browser?.close().catch(() => {});
    for (const c of s.cleanups.reverse()) {
      try {
        c();
      } catch {}
    }
  }
}

/** serve starts `bin serve` with env (startServer) as the scenario s's server, killed by its cleanups. */
export async function serve(s, bin, env) {
  s.srv = await startServer(bin, env, s.log);
  s.cleanups.push(s.srv.kill);
  return s.srv;
}

/** adminEnv is the environment of a `frontdesk serve` out of demo mode whose first admin is admin ({email, password}). */
export function adminEnv(admin) {
  return { FRONTDESK_DEMO: 'false', FRONTDESK_ADMIN_EMAIL: admin.email, FRONTDESK_ADMIN_PASSWORD: admin.password };
}

/** ADMIN is the first admin of the scenarios that run `frontdesk serve` out of demo mode (adminEnv). */
export const ADMIN = { email: 'ann@brand.example', password: 'ann-e2e-password-123' };

/** The WhatsApp app secret, Graph API access token and model name that serveWithFakes sets up. */
const FAKE_SECRET = 'e2e-app-secret';
const FAKE_ACCESS = 'e2e-access-token';
const FAKE_MODEL = 'e2e-model';

/**
 * serveWithFakes starts a fake Graph API and a fake model (fakeGraph,
 * fakeModel), then `bin serve` out of demo mode (serve) with admin as its
 * first admin, WhatsApp set up for the phone number id pnid, both pointed at
 * the fakes, and env's variables on top (a shop's secret, say). All three
 * are closed by s's cleanups. Answers { srv,
 * graph, model, api (the server's http://host:port), customerWrites(waID,
 * name, wamid, text), customerTaps(waID, name, wamid, question, button) }
 * where customerWrites posts the customer's text as a signed webhook
 * (postWebhook) and customerTaps the customer's tap on button ({id, title})
 * of question (an interactive message sent()).
 */
export async function serveWithFakes(s, bin, { pnid, admin = ADMIN, env = {} }) {
  const graph = await fakeGraph(FAKE_ACCESS);
  s.cleanups.push(() => graph.close());
  const model = await fakeModel(FAKE_MODEL);
  s.cleanups.push(() => model.close());
  const srv = await serve(s, bin, {
    ...adminEnv(admin),
    FRONTDESK_WHATSAPP_VERIFY_TOKEN: 'e2e-verify',
    FRONTDESK_WHATSAPP_APP_SECRET: FAKE_SECRET,
    FRONTDESK_WHATSAPP_ACCESS_TOKEN: FAKE_ACCESS,
    FRONTDESK_WHATSAPP_PHONE_NUMBER_ID: pnid,
    FRONTDESK_GRAPH_API_URL: graph.baseURL,
    FRONTDESK_LLM_BASE_URL: model.baseURL,
    FRONTDESK_LLM_MODEL: FAKE_MODEL,
    ...env,
  });
  const api = `http://${srv.addr}`;
  const customerWrites = (waID, name, wamid, text) => postWebhook(api, FAKE_SECRET, textWebhook(pnid, waID, name, wamid, text));
  const customerTaps = (waID, name, wamid, question, button) => postWebhook(api, FAKE_SECRET, buttonReplyWebhook(pnid, waID, name, wamid, question.wamid, button.id, button.title));
  return { srv, graph, model, api, customerWrites, customerTaps };
}

/**
 * restClient answers call(method, path, token, body, headers) for the server
 * at api (http://host:port): a JSON request, with the bearer token when there
 * is one, answered as { status, body (the parsed JSON, or null), text }.
 */
export function restClient(api) {
  return async (method, p, token, body, headers = {}) => {
    const r = await fetch(api + p, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let v = null;
    try {
      v = JSON.parse(text);
    } catch {}
    return { status: r.status, body: v, text };
  };
}

/** postWebhook POSTs body (textWebhook's) to the WhatsApp webhook of the server at api, signed with secret; it throws unless it answers 200. */
export async function postWebhook(api, secret, body) {
  const r = await fetch(`${api}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signWebhook(secret, body) },
    body,
  });
  if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${await r.text()}`);
}

/** demoMessage has `bin demo-message` send text to the demo-mode server at addr, as a customer's WhatsApp message. */
export function demoMessage(bin, addr, text) {
  execFileSync(bin, ['demo-message', '-addr', addr, '-watch', '0s', '-text', text], { stdio: 'pipe' });
}

/** openFirstConversation waits for the first conversation of the inbox's list and opens it. */
export async function openFirstConversation(page) {
  const item = page.getByTestId('conversation-item').first();
  await item.waitFor();
  await item.click();
}

/**
 * openPage opens a page in a browser context of its own (one user: the
 * session lives in sessionStorage), launching s.browser on first use; the
 * context is closed by s's cleanups. Steps wait up to T; page errors are
 * logged as "<who> page error:" and, when errors (an array) is given,
 * pushed on it.
 */
export async function openPage(s, { who = '', viewport = { width: 1400, height: 800 }, errors } = {}) {
  s.browser ??= await launchBrowser();
  const ctx = await s.browser.newContext({ viewport });
  s.cleanups.push(() => ctx.close().catch(() => {}));
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => {
    errors?.push(e.message);
    s.log(who ? `${who} page error:` : 'page error:', e.message, e.stack);
  });
  return page;
}

/**
 * signIn opens url in page and signs user ({email, password}) in with the
 * login form; then, unless state is null, it waits for the inbox's connection
 * banner to show state ("live" by default).
 */
export async function signIn(page, url, user, state = 'live') {
  await page.goto(url);
  await page.getByTestId('login-email').fill(user.email);
  await page.getByTestId('login-password').fill(user.password);
  await page.getByTestId('login-submit').click();
  if (state) await page.waitForSelector(`[data-testid="connection"][data-state="${state}"]`);
}

/** shownUser answers the signed-in user's name and role as the nav bar shows them ("name · role"). */
export async function shownUser(page) {
  const [name, role] = (await page.getByTestId('me').textContent()).split(' · ');
  return { name, role };
}

/** writerIs waits until the conversation's writer reads name ("AI" when the AI writes). */
export function writerIs(page, name) {
  return page.waitForFunction((n) => document.querySelector('[data-testid="writer"]')?.textContent === n, name);
}

/**
 * callAsPage sends method path, with body as JSON, from inside page with the
 * session token the app keeps in sessionStorage; it answers { status,
 * hadToken } (whether there was a token to send).
 */
export function callAsPage(page, method, p, body) {
  return page.evaluate(
    async ([method, p, body]) => {
      const token = sessionStorage.getItem('frontdesk.token');
      const r = await fetch(p, {
        method,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body,
      });
      return { status: r.status, hadToken: !!token };
    },
    [method, p, JSON.stringify(body)],
  );
}
