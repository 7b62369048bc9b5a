// Helpers shared by the browser tests in this folder: ports, readiness,
// the binary, the fallback static server, chromium, and the fakes a real
// (non-demo) `frontdesk serve` talks to.

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
 * sent() lists the accepted text messages ({to, text, wamid}).
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
 */
export async function fakeModel(model) {
  const requests = [];
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
    const content = `AI answer ${n}`;
    r.answer = content;
    const id = `chatcmpl-e2e-${n}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 };
    if (body.stream) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const chunk = (delta, finish) => ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
      const events = [chunk({ role: 'assistant', content: '' }, null), chunk({ content }, null), chunk({}, 'stop')];
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
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage,
    });
  });
  const port = await listen(srv);
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: () => requests.slice(),
    chats: () => requests.filter((r) => r.n),
    close: () => srv.close(),
  };
}

/** signWebhook returns X-Hub-Signature-256 of body for secret. */
export function signWebhook(secret, body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
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
