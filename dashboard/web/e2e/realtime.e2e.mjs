// Browser test of the inbox behind a proxy that does not forward WebSockets,
// against the real `frontdesk serve` (demo mode).
//
//   FD_BIN=/tmp/fd node e2e/realtime.e2e.mjs
//
// The proxy here forwards every request as plain HTTP and drops the
// Upgrade and Connection headers, as many corporate proxies and misconfigured
// load balancers do: /ws then reaches the server as a plain GET. Scenario: log
// in through the proxy; the server answers the upgrade with 426 and the
// client's probe learns the upgrade was stripped, so the inbox says so
// ("blocked") and follows /ws/poll instead; a WhatsApp message, the AI's reply
// and its tool call show up without a reload, each once; a private note shows;
// after a reload the tool-call log and the note come back from REST.

import http from 'node:http';
import { binary, DEMO_ADMIN, demoMessage, freePort, makeLog, openFirstConversation, openPage, scenario, serve, signIn } from './lib.mjs';

const log = makeLog('e2e realtime');

/** stripProxy forwards everything to target as plain HTTP, without Upgrade/Connection, and counts the /ws requests it passed on. */
async function stripProxy(target) {
  const seen = { ws: 0 };
  const srv = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.upgrade;
    delete headers.connection;
    if (req.url.startsWith('/ws?')) seen.ws++;
    const p = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    p.on('error', () => res.destroy());
    req.pipe(p);
  });
  const port = await freePort();
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${port}`, seen, close: () => srv.close() };
}

scenario(log, async (s) => {
  const bin = binary(log);
  const srv = await serve(s, bin, { FRONTDESK_DEMO: '1' });
  const proxy = await stripProxy(srv.port);
  s.cleanups.push(proxy.close);
  const page = await openPage(s);

  // One failed upgrade is enough: the probe says it was stripped.
  await signIn(page, proxy.base + '/', DEMO_ADMIN, 'blocked');
  const banner = await page.getByTestId('connection').textContent();
  if (!/proxy/i.test(banner)) throw new Error(`blocked banner does not name the proxy: ${banner}`);
  if (proxy.seen.ws < 1) throw new Error('no /ws request passed the proxy');
  log('upgrade stripped by the proxy; the inbox says so:', JSON.stringify(banner));

  // Messages arrive over /ws/poll: shown without a reload, once each.
  const demo = (text) => demoMessage(bin, srv.addr, text);
  const first = 'Hello from behind a proxy, where is order 4711?';
  demo(first);
  await openFirstConversation(page);
  await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: first }).waitFor();
  await page.locator('[data-testid="message"][data-direction="outbound"]').first().waitFor();
  await page.getByTestId('tool-call').first().waitFor();
  const tools = await page.getByTestId('tool-call').count();
  log('inbound, AI reply and', tools, 'tool call(s) shown while polling');

  const second = 'A second message while polling';
  demo(second);
  await page.locator('[data-testid="message"][data-direction="inbound"]', { hasText: second }).waitFor();
  await page.waitForTimeout(2500); // one more poll: nothing may double
  for (const text of [first, second]) {
    const n = await page.locator('[data-testid="message"]', { hasText: text }).count();
    if (n !== 1) throw new Error(`"${text}" shown ${n} times`);
  }
  log('second message shown once after further polls');

  // A private note, while polling.
  await page.getByTestId('mode-note').click();
  const note = 'Customer is on the VIP list: no questions on refunds.';
  await page.getByTestId('note-composer').fill(note);
  await page.getByTestId('note-send').click();
  await page.locator('[data-testid="note"]', { hasText: note }).waitFor();
  await page.waitForTimeout(2500);
  if ((await page.locator('[data-testid="note"]', { hasText: note }).count()) !== 1) throw new Error('note doubled by the poll');
  log('private note shown once');

  // Reload: messages, tool calls and the note come back from REST.
  await page.reload();
  await page.waitForSelector('[data-testid="connection"][data-state="blocked"]');
  await page.locator('[data-testid="message"]', { hasText: second }).waitFor();
  await page.locator('[data-testid="note"]', { hasText: note }).waitFor();
  await page.getByTestId('tool-call').first().waitFor();
  const toolsAfter = await page.getByTestId('tool-call').count();
  if (toolsAfter !== tools) throw new Error(`tool calls after reload: ${toolsAfter}, before: ${tools}`);
  log('after reload: messages, note and', toolsAfter, 'tool call(s) reloaded from REST');
});
