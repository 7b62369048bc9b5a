// Browser test of the agents page against the real `frontdesk serve` (not
// demo mode, offline responder: no channel or model is needed). Every UI step
// is checked against the REST API, which is what the runtime reads.
//
//   npm run test:e2e                           (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/agents.e2e.mjs     (this one, with a built binary)
//
// Scenario: the first admin (API) creates a supervisor and an analyst. The
// supervisor opens Agents and creates an agent with two tools, routing rules
// and a first prompt: first with a request rewritten in flight to name an
// unknown tool (the server's 400 shows in the form and nothing is created),
// then with a routing rule that has a typo (the 400 names the field), then
// for real (GET /api/v1/agents/{id}: those tools, live version 1). They
// write prompt v2, compare v1 and v2 side by side (the changed line is marked
// on both sides), make v2 live (live_version 2 over REST) and untick a tool
// and save (the allow-list over REST). Then an analyst, in a second browser
// context, sees the agent read-only (no new/save/make-live/prompt controls)
// and the API answers their POST /api/v1/agents with 403.

import os from 'node:os';
import path from 'node:path';
import { ADMIN, adminEnv, appBase, binary, callAsPage, makeLog, openPage, restClient, scenario, serve, shownUser, signIn, T, waitFor } from './lib.mjs';

const log = makeLog('e2e agents');

const SUPERVISOR = { email: 'sam@brand.example', name: 'Sam Supervisor', password: 'sam-e2e-password-123' };
const ANALYST = { email: 'ada@brand.example', name: 'Ada Analyst', password: 'ada-e2e-password-123' };

const AGENT = { name: 'Billing bot', description: 'Answers invoice and refund questions.', tools: ['create_ticket', 'handoff_to_human'] };
const ROUTING = { priority: 10, match: { channels: ['whatsapp'], customer_tags_any: ['billing'] } };
// A rule with a typo ("language" for "languages"): the server refuses it, naming the field.
const BAD_ROUTING = { match: { language: ['de'] } };
const V1 = ['You are the billing assistant of Demo Shop.', 'Answer in one short paragraph.', 'Never promise a refund.', 'Sign as Billing bot.'].join('\n');
const OLD_LINE = 'Never promise a refund.';
const NEW_LINE = 'Open a ticket for every refund request.';
const V2 = V1.replace(OLD_LINE, NEW_LINE);

const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

scenario(log, async (s) => {
  const bin = binary(log);
  const srv = await serve(s, bin, adminEnv(ADMIN));
  const api = `http://${srv.addr}`;
  const base = await appBase(srv.addr, srv.port, s.cleanups, log);
  const call = restClient(api);
  const must = async (what, want, p) => {
    const r = await p;
    if (r.status !== want) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r.body;
  };

  // 0. The admin creates a supervisor and an analyst over the API.
  const admin = await must('admin login', 200, call('POST', '/api/v1/auth/login', null, ADMIN));
  const adminToken = admin.token;
  const sup = await must('create supervisor', 201, call('POST', '/api/v1/users', adminToken, { ...SUPERVISOR, role: 'supervisor' }));
  await must('create analyst', 201, call('POST', '/api/v1/users', adminToken, { ...ANALYST, role: 'analyst' }));
  const agentsNamed = async (name) => (await must('list agents', 200, call('GET', '/api/v1/agents?limit=500', adminToken))).agents.filter((a) => a.name === name);
  const getAgent = (id) => must('get agent', 200, call('GET', `/api/v1/agents/${encodeURIComponent(id)}`, adminToken));
  const getPrompts = (id) => must('list prompts', 200, call('GET', `/api/v1/agents/${encodeURIComponent(id)}/prompts`, adminToken));

  const login = async (user, who) => {
    const page = await openPage(s, { who, viewport: { width: 1400, height: 1000 } });
    await signIn(page, base + '/', user);
    const { role } = await shownUser(page);
    await page.locator('nav a[href="/agents"]').click();
    await page.getByTestId('agent-item').first().waitFor(); // the default tenant's support agent
    return { page, role };
  };

  // 1. The supervisor opens the Agents page.
  const { page, role: supRole } = await login(SUPERVISOR, 'supervisor');
  if (supRole !== 'supervisor') throw new Error(`supervisor shown as ${supRole}`);
  const agentsBefore = await page.getByTestId('agent-item').count();
  log(`supervisor on the agents page: ${agentsBefore} agent(s)`);

  // 2. Fill in the new-agent form.
  await page.getByTestId('agent-new').click();
  await page.getByTestId('agent-name').fill(AGENT.name);
  await page.getByTestId('agent-description').fill(AGENT.description);
  const tool = (t) => page.locator(`[data-testid="agent-tool"][value="${t}"]`);
  for (const t of AGENT.tools) await tool(t).check();
  if (await tool('get_customer_profile').isChecked()) throw new Error('get_customer_profile is ticked on a new agent');
  await page.getByTestId('agent-routing').fill(JSON.stringify(ROUTING, null, 2));
  await page.getByTestId('prompt-text').fill(V1);

  // 3. A create the server refuses (an unknown tool, added in flight): its 400 shows in the form; nothing is created.
  let sent = null; // the body the page sent
  const rewrite = async (route) => {
    const req = route.request();
    if (req.method() !== 'POST') return route.continue();
    sent = JSON.parse(req.postData() ?? '{}');
    await route.continue({ postData: JSON.stringify({ ...sent, tools: [...(sent.tools ?? []), 'no_such_tool'] }) });
  };
  await page.route('**/api/v1/agents', rewrite);
  await page.getByTestId('agent-save').click();
  const formError = page.getByTestId('agent-error');
  await formError.filter({ hasText: 'no_such_tool' }).waitFor();
  const errText = await formError.textContent();
  if (!/unknown tool/.test(errText)) throw new Error(`form error: ${errText}`);
  await page.unroute('**/api/v1/agents', rewrite);
  const wantBody = { name: AGENT.name, description: AGENT.description, tools: AGENT.tools, routing: ROUTING };
  if (!eq(sent, wantBody)) throw new Error(`POST /api/v1/agents body ${JSON.stringify(sent)}, want ${JSON.stringify(wantBody)}`);
  if ((await agentsNamed(AGENT.name)).length !== 0) throw new Error('an agent was created by the refused request');
  if ((await page.getByTestId('agent-name').inputValue()) !== AGENT.name) throw new Error('the form lost its input after the error');
  log(`refused create shown in the form: ${JSON.stringify(errText)}; nothing created`);
  const formShot = process.env.E2E_AGENTS_FORM_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-agents-new.png');
  await page.screenshot({ path: formShot });
  log('screenshot', formShot);

  // 3b. Routing rules with a typo: the server's 400 names the field; nothing is created.
  await page.getByTestId('agent-routing').fill(JSON.stringify(BAD_ROUTING));
  await page.getByTestId('agent-save').click();
  await formError.filter({ hasText: 'match.language: unknown field' }).waitFor();
  if ((await agentsNamed(AGENT.name)).length !== 0) throw new Error('an agent was created with bad routing rules');
  log(`refused routing rules shown in the form: ${JSON.stringify(await formError.textContent())}`);
  await page.getByTestId('agent-routing').fill(JSON.stringify(ROUTING, null, 2));

  // 4. Create it: the new agent is selected, with v1 live.
  await page.getByTestId('agent-save').click();
  const row = page.locator('[data-testid="agent-item"].selected', { hasText: AGENT.name });
  await row.waitFor();
  const id = await row.getAttribute('data-agent-id');
  await page.locator('[data-testid="live-version"][data-version="1"]').waitFor();
  await page.locator('[data-testid="prompt-version"][data-version="1"]').waitFor();
  if ((await page.getByTestId('agent-item').count()) !== agentsBefore + 1) throw new Error('the list does not show one more agent');
  if ((await page.getByTestId('agent-name').inputValue()) !== AGENT.name) throw new Error('the detail does not show the new agent');
  let a = await getAgent(id);
  if (a.name !== AGENT.name || a.description !== AGENT.description) throw new Error(`agent over REST: ${JSON.stringify(a)}`);
  if (!eq(a.tools, AGENT.tools)) throw new Error(`tools over REST: ${JSON.stringify(a.tools)}, want ${JSON.stringify(AGENT.tools)}`);
  if (!eq(a.routing, ROUTING)) throw new Error(`routing over REST: ${JSON.stringify(a.routing)}`);
  if (a.live_version !== 1) throw new Error(`live_version over REST after create: ${a.live_version}, want 1`);
  let ps = await getPrompts(id);
  if (ps.prompts.length !== 1 || ps.prompts[0].number !== 1 || ps.prompts[0].prompt !== V1 || !ps.prompts[0].live) {
    throw new Error(`prompts over REST after create: ${JSON.stringify(ps)}`);
  }
  if (ps.prompts[0].author_id !== sup.id) throw new Error(`v1 author ${ps.prompts[0].author_id}, want the supervisor ${sup.id}`);
  if ((await agentsNamed(AGENT.name)).length !== 1) throw new Error('not exactly one agent of that name');
  log(`agent ${id} created: tools ${a.tools.join(', ')}, live v${a.live_version}, v1 by the supervisor`);

  // 5. Write prompt v2 (one line changed).
  await page.getByTestId('prompt-text').fill(V2);
  await page.getByTestId('prompt-create').click();
  await page.locator('[data-testid="prompt-version"][data-version="2"]').waitFor();
  ps = await getPrompts(id);
  if (ps.prompts.length !== 2 || ps.prompts[1].number !== 2 || ps.prompts[1].prompt !== V2 || ps.live_version !== 1) {
    throw new Error(`prompts over REST after v2: ${JSON.stringify(ps)}`);
  }
  log('prompt v2 created; v1 still live');

  // 6. Compare v1 and v2 side by side: the changed line is marked on both sides, the rest is not.
  await page.getByTestId('diff-from').selectOption('1');
  await page.getByTestId('diff-to').selectOption('2');
  const diff = page.locator('[data-testid="diff-view"][data-from="1"][data-to="2"]');
  await diff.locator('table.diff-table').waitFor();
  const changed = diff.locator('tr[data-kind="change"]');
  if ((await changed.count()) !== 1) throw new Error(`${await changed.count()} changed rows, want 1`);
  const del = (await changed.locator('td.del').textContent()) ?? '';
  const add = (await changed.locator('td.add').textContent()) ?? '';
  if (del !== OLD_LINE || add !== NEW_LINE) throw new Error(`changed row: -${JSON.stringify(del)} +${JSON.stringify(add)}`);
  const same = diff.locator('tr[data-kind="same"]');
  if ((await same.count()) < 1) throw new Error('no unchanged context lines in the diff');
  if ((await diff.locator('tr[data-kind="same"] td.del, tr[data-kind="same"] td.add').count()) !== 0) throw new Error('an unchanged line is marked');
  const sums = await diff.locator('p').first().textContent();
  if (!sums.includes('+1') || !sums.includes('−1')) throw new Error(`diff summary: ${sums}`);
  log(`diff v1→v2: -${JSON.stringify(del)} +${JSON.stringify(add)}, ${await same.count()} unchanged row(s)`);

  // 7. Make v2 live.
  await page.locator('[data-testid="make-live"][data-version="2"]').click();
  await page.locator('[data-testid="live-version"][data-version="2"]').waitFor();
  a = await getAgent(id);
  if (a.live_version !== 2) throw new Error(`live_version over REST: ${a.live_version}, want 2`);
  if ((await page.locator('[data-testid="make-live"][data-version="2"]').count()) !== 0) throw new Error('make-live still offered for the live v2');
  await page.locator('[data-testid="make-live"][data-version="1"]').waitFor();
  log('v2 made live: live_version 2 over REST');

  // 8. Untick a tool and save.
  await tool('create_ticket').uncheck();
  await page.getByTestId('agent-save').click();
  a = await waitFor('the saved tools over REST', async () => {
    const x = await getAgent(id);
    return eq(x.tools, ['handoff_to_human']) ? x : null;
  }, T);
  await page.getByTestId('agent-saved').waitFor();
  if (a.live_version !== 2 || a.name !== AGENT.name || !eq(a.routing, ROUTING)) throw new Error(`the save changed more than the tools: ${JSON.stringify(a)}`);
  await page.locator('[data-testid="agent-item"]', { hasText: AGENT.name }).filter({ hasText: 'tools: handoff_to_human' }).waitFor();
  log('create_ticket unticked and saved: tools over REST', JSON.stringify(a.tools));

  const shot = process.env.E2E_AGENTS_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-agents.png');
  await page.screenshot({ path: shot, fullPage: true });
  log('screenshot', shot);

  // 9. The analyst sees the agent read-only, and the API refuses their create.
  const { page: ap, role: anRole } = await login(ANALYST, 'analyst');
  if (anRole !== 'analyst') throw new Error(`analyst shown as ${anRole}`);
  await ap.locator(`[data-testid="agent-item"][data-agent-id="${id}"]`).click();
  await ap.locator('[data-testid="live-version"][data-version="2"]').waitFor();
  await ap.locator('[data-testid="prompt-version"][data-version="2"]').waitFor();
  await ap.locator('[data-testid="diff-view"]').waitFor();
  const absent = [];
  for (const t of ['agent-new', 'make-live', 'prompt-create', 'prompt-text', 'agent-save']) {
    const n = await ap.getByTestId(t).count();
    if (n !== 0) throw new Error(`analyst sees ${n} ${t} control(s)`);
    absent.push(t);
  }
  const boxes = ap.getByTestId('agent-tool');
  for (let i = 0; i < (await boxes.count()); i++) {
    if (await boxes.nth(i).isEnabled()) throw new Error('analyst sees an enabled tool checkbox');
  }
  if (!(await ap.getByTestId('agent-name').evaluate((el) => el.readOnly))) throw new Error("analyst can type in the agent's name");
  const denied = await callAsPage(ap, 'POST', '/api/v1/agents', { name: 'Analyst bot', tools: [] });
  if (!denied.hadToken) throw new Error("no session token in the analyst's sessionStorage");
  if (denied.status !== 403) throw new Error(`analyst POST /api/v1/agents answered ${denied.status}, want 403`);
  if ((await agentsNamed('Analyst bot')).length !== 0) throw new Error("the analyst's agent exists");
  log(`analyst: ${absent.join(', ')} absent; tools disabled; POST /api/v1/agents with their token → 403`);
});
