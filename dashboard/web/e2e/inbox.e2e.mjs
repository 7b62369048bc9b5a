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

import os from 'node:os';
import path from 'node:path';
import { appBase, binary, DEMO_ADMIN, demoMessage, makeLog, openFirstConversation, openPage, scenario, serve, shownUser, signIn, writerIs } from './lib.mjs';

const log = makeLog('e2e');

scenario(log, async (s) => {
  const bin = binary(log);
  const srv = await serve(s, bin, { FRONTDESK_DEMO: '1' });
  const base = await appBase(srv.addr, srv.port, s.cleanups, log);
  const page = await openPage(s);

  // Log in as the demo admin.
  await signIn(page, base + '/', DEMO_ADMIN);
  log('logged in, live');

  // A signed WhatsApp webhook arrives: the conversation appears without reload.
  const demo = (text) => demoMessage(bin, srv.addr, text);
  const first = 'Hi! Where is my order 4711?';
  demo(first);
  await openFirstConversation(page);
  await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: first }).waitFor();
  log('inbound message shown live');
  // The offline responder's answer appears too.
  await page.locator('[data-testid="message"][data-direction="outbound"]').first().waitFor();
  log('AI reply shown live');

  // Take over: the writer shows the admin's name.
  const writer = page.getByTestId('writer');
  if ((await writer.textContent()) !== 'AI') throw new Error(`writer before takeover: ${await writer.textContent()}`);
  await page.getByTestId('takeover').click();
  const { name: meName } = await shownUser(page);
  await writerIs(page, meName);
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
  await writerIs(page, 'AI');
  if ((await page.getByTestId('writer').count()) !== 1) throw new Error('writer shown more than once');
  log('handed back; writer = AI');
});
