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

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appBase, binary, launchBrowser, makeLog, startServer } from './lib.mjs';

const T = 15000; // per-step wait
const log = makeLog('e2e');

async function main() {
  const started = Date.now();
  const bin = binary(log);
  const srv = await startServer(bin, { FRONTDESK_DEMO: '1' }, log);
  const { addr, dataDir } = srv;
  const cleanups = [srv.kill];
  let browser;
  try {
    const base = await appBase(addr, srv.port, cleanups, log);
    browser = await launchBrowser();
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
