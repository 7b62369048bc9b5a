// Browser test of the dashboard against the real `frontdesk serve` (demo mode).
//
//   npm run test:e2e                 (from dashboard/web; builds the Go binary)
//   FD_BIN=/tmp/fd npm run test:e2e  (use a built binary)
//
// Needs Debian's chromium at /usr/bin/chromium (CHROMIUM to override) and
// playwright-core; downloads nothing. Writes a screenshot of the inbox to
// E2E_SCREENSHOT (default /tmp/frontdesk-inbox.png).
//
// If the binary does not serve the app at / yet (not mounted in serve.go),
// the script serves dist/ itself and proxies /api and /ws to the binary, and
// says so; set E2E_REQUIRE_EMBEDDED=1 to fail instead.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repo = path.resolve(webDir, '../..');
const T = 15000; // per-step wait

function log(...a) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...a);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitHTTP(url, timeoutMs) {
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

// staticProxy serves dist/ and forwards /api, /ws, /healthz… to target.
function staticProxy(port, target) {
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

async function main() {
  const started = Date.now();
  let bin = process.env.FD_BIN;
  if (!bin) {
    bin = path.join(os.tmpdir(), 'frontdesk-e2e');
    log('building', bin);
    execFileSync('go', ['build', '-o', bin, './cmd/frontdesk'], { cwd: repo, stdio: 'inherit' });
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-'));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const serverLog = fs.openSync(path.join(dataDir, 'serve.log'), 'w');
  const server = spawn(bin, ['serve'], {
    env: { ...process.env, FRONTDESK_DEMO: '1', FRONTDESK_DATA_DIR: dataDir, FRONTDESK_HTTP_ADDR: addr },
    stdio: ['ignore', serverLog, serverLog],
  });
  const cleanups = [() => server.kill('SIGTERM')];
  let browser;
  try {
    await waitHTTP(`http://${addr}/readyz`, 30000);
    log('frontdesk ready on', addr);

    let base = `http://${addr}`;
    const root = await fetch(base + '/').then((r) => (r.ok ? r.text() : ''), () => '');
    if (!root.includes('id="root"')) {
      if (process.env.E2E_REQUIRE_EMBEDDED === '1') throw new Error('frontdesk serve does not serve the app at / (mount dashboard.WebApp())');
      const pport = await freePort();
      const proxy = await staticProxy(pport, port);
      cleanups.push(() => proxy.close());
      base = `http://127.0.0.1:${pport}`;
      log('WARNING: the binary does not serve the app at / yet; serving dist/ from', base);
    } else {
      log('the binary serves the embedded app at /');
    }

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => log('page error:', e.message, e.stack));

    // Log in as the demo admin.
    await page.goto(base + '/');
    await page.getByTestId('login-email').fill('admin@demo.local');
    await page.getByTestId('login-password').fill('frontdesk-demo-password');
    await page.getByTestId('login-submit').click();
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    log('logged in, live');

    // A signed WhatsApp webhook arrives: the conversation appears without reload.
    const demo = (text) =>
      execFileSync(bin, ['demo-message', '-addr', addr, '-watch', '0s', '-text', text], { env: { ...process.env }, stdio: 'pipe' });
    const first = 'Hi! Where is my order 4711?';
    demo(first);
    const item = page.getByTestId('conversation-item').first();
    await item.waitFor();
    await item.click();
    await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: first }).waitFor();
    log('inbound message shown live');
    // The offline responder's answer appears too.
    await page.locator('[data-testid="message"][data-direction="outbound"]').first().waitFor();
    log('AI reply shown live');

    // Take over: the writer shows the admin's name.
    const writer = page.getByTestId('writer');
    if ((await writer.textContent()) !== 'AI') throw new Error(`writer before takeover: ${await writer.textContent()}`);
    await page.getByTestId('takeover').click();
    const meName = (await page.getByTestId('me').textContent()).split(' · ')[0];
    await page.waitForFunction((n) => document.querySelector('[data-testid="writer"]')?.textContent === n, meName);
    log('took over; writer =', meName);

    // Reply as the agent.
    const reply = 'Hello, this is a human. Let me check order 4711.';
    const outBefore = await page.locator('[data-testid="message"][data-direction="outbound"]').count();
    await page.getByTestId('composer').fill(reply);
    await page.getByTestId('send').click();
    await page.locator('[data-testid="message"][data-direction="outbound"]', { hasText: reply }).waitFor();
    if ((await page.locator('[data-testid="message"]', { hasText: reply }).count()) !== 1) throw new Error('agent reply shown twice');
    if ((await page.locator('[data-testid="message"][data-direction="outbound"]').count()) !== outBefore + 1) throw new Error('unexpected outbound count');
    log('agent reply shown once');

    // Drop the socket, send a message while away: it appears once after the resume.
    await page.evaluate(() => window.__frontdesk.live.drop());
    await page.waitForSelector('[data-testid="connection"][data-state="reconnecting"]');
    const away = 'Sent while the dashboard was reconnecting';
    demo(away);
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: away }).waitFor();
    if ((await page.locator('[data-testid="message"]', { hasText: away }).count()) !== 1) throw new Error('resumed message doubled');
    log('dropped, resumed, message shown once');

    const shot = process.env.E2E_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-inbox.png');
    await page.screenshot({ path: shot });
    log('screenshot', shot);

    // Hand back with a note: the writer shows AI.
    await page.getByTestId('handback').click();
    await page.getByTestId('handback-note').fill('Order 4711 checked: shipped yesterday.');
    await page.getByTestId('handback-confirm').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="writer"]')?.textContent === 'AI');
    if ((await page.getByTestId('writer').count()) !== 1) throw new Error('writer shown more than once');
    log('handed back; writer = AI');

    log(`PASS in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    cleanups.push(() => setTimeout(() => fs.rmSync(dataDir, { recursive: true, force: true }), 500));
  } catch (e) {
    log('FAIL:', e.message);
    log('server log:', path.join(dataDir, 'serve.log'));
    process.exitCode = 1;
  } finally {
    await browser?.close().catch(() => {});
    for (const c of cleanups) c();
  }
}

main();
