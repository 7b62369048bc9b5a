// Browser test of the knowledge base against the real `frontdesk serve`, not
// in demo mode: WhatsApp points at a fake Graph API and the model at a
// scripted OpenAI-compatible server (lib.mjs).
//
//   npm run test:e2e                               (runs every scenario)
//   FD_BIN=/tmp/fd node e2e/knowledge.e2e.mjs      (this one, with a built binary)
//
// Scenario: the admin opens Knowledge and uploads "Returns policy.md" (a
// heading "How long do I have to return an item?" answered "You can return
// any item within 30 days of delivery for a full refund.") through the file
// input: the upload's progress shows, then the row reads "processing" and
// becomes "ready" with its passage count, as the API reports it. The search
// playground finds the passage for "how many days to send something back",
// with a score. An agent sees the list but no upload form, and gets 403 for
// POST and DELETE over REST. The admin deletes the document (after the
// confirmation step): GET answers 404 and the playground no longer finds it.
// Then the document is uploaded again and a customer asks on WhatsApp "how
// long do I have to return something?": the model, given the passage
// numbered [1] in its system prompt, answers "You have 30 days from delivery
// to return it. [1]"; the Graph API receives the reply without "[1]", and
// the inbox shows the AI message with a Sources entry "Returns policy" whose
// passage says "30 days" and links to the document. The Coverage page counts
// the question and its topic opens the conversation; its CSV downloads with
// the question. Processing, indexing and coverage happen after the API's
// answers: the test polls for effects, never sleeps a fixed time.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, appBase, binary, makeLog, openPage, restClient, scenario, serveWithFakes, shownUser, signIn, T, waitFor } from './lib.mjs';

const log = makeLog('e2e knowledge');

const PNID = '109876543213';
const WA = '15550003333';
const NAME = 'Linus Customer';
const AGENT = { email: 'kim.knowledge@brand.example', name: 'Kim Agent', password: 'kim-e2e-password-123' };
const TITLE = 'Returns policy';
const HEADING = 'How long do I have to return an item?';
const ANSWER = 'You can return any item within 30 days of delivery for a full refund.';
const POLICY_MD = `# ${TITLE}\n\n## ${HEADING}\n\n${ANSWER}\n\n## Who pays for return shipping?\n\nWe send you a prepaid label when the item arrived damaged.\n`;
const REPLY = 'You have 30 days from delivery to return it. [1]';
const QUESTION = 'how long do I have to return something?';
/** CSV_COLUMNS are the columns the CSV must have, in this order (others may stand between them). */
const CSV_COLUMNS = ['asked_at', 'conversation_id', 'question', 'best_relevance', 'answered_with_sources', 'topic'];
/** PROCESS_T is how long processing (parse, chunk, index) may take. */
const PROCESS_T = 30000;

/** systemText is the text of a chat request's system messages (content as a string or as parts). */
function systemText(body) {
  return (body?.messages ?? [])
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('')))
    .join('\n');
}

scenario(log, async (s) => {
  const bin = binary(log);
  const { srv, graph, model, api, customerWrites } = await serveWithFakes(s, bin, { pnid: PNID });
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
  const created = await call('POST', '/api/v1/users', adminToken, { ...AGENT, role: 'agent' });
  if (created.status !== 201) throw new Error(`create agent: ${created.status} ${created.text}`);
  const agentToken = await loginAPI(AGENT);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-e2e-knowledge-'));
  s.cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, `${TITLE}.md`);
  fs.writeFileSync(file, POLICY_MD);

  const pageErrors = [];
  const viewport = { width: 1400, height: 900 };
  const page = await openPage(s, { viewport, errors: pageErrors });
  await signIn(page, base + '/', ADMIN);
  await page.getByTestId('nav-knowledge').click();
  await page.waitForURL((u) => new URL(u).pathname === '/knowledge');
  await page.getByTestId('knowledge-page').waitFor();
  await page.getByTestId('upload-form').waitFor();

  /**
   * upload sends the policy through the file input and waits until its row
   * is ready; it answers the document as the API reports it then, and the
   * phases and percentages the progress showed.
   */
  const upload = async () => {
    await page.evaluate(() => {
      const seen = (window.__uploadSeen = []);
      const note = () => {
        const el = document.querySelector('[data-testid="upload-progress"]');
        if (el) seen.push(`${el.getAttribute('data-phase')}:${el.getAttribute('data-percent')}`);
      };
      window.__uploadObserver?.disconnect();
      window.__uploadObserver = new MutationObserver(note);
      window.__uploadObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase', 'data-percent'] });
    });
    await page.getByTestId('upload-file').setInputFiles(file);
    await page.getByTestId('upload-submit').click();
    await page.waitForSelector('[data-testid="upload-progress"][data-phase="done"][data-percent="100"]', { timeout: T });
    const seen = await page.evaluate(() => (window.__uploadObserver.disconnect(), window.__uploadSeen));
    if (!seen.some((x) => x.startsWith('uploading:'))) throw new Error(`the upload's progress never showed "uploading": ${seen.join(' ')}`);
    const progressText = (await page.getByTestId('upload-progress').textContent()).trim();
    const docs = (await get('/api/v1/knowledge/documents?limit=50')).documents ?? [];
    const doc = docs.find((d) => d.title === TITLE);
    if (!doc) throw new Error(`GET /knowledge/documents lacks "${TITLE}" after the upload: ${JSON.stringify(docs)}`);
    const row = page.locator(`[data-testid="doc-row"][data-doc-id="${doc.id}"]`);
    await row.waitFor();
    const firstStatus = await row.getAttribute('data-status');
    await page.waitForSelector(`[data-testid="doc-row"][data-doc-id="${doc.id}"][data-status="ready"]`, { timeout: PROCESS_T }).catch(async (e) => {
      const now = await call('GET', `/api/v1/knowledge/documents/${encodeURIComponent(doc.id)}`, adminToken);
      throw new Error(`the row of ${doc.id} is ${await row.getAttribute('data-status')} after ${PROCESS_T} ms (API: ${now.status} ${now.text}): ${e.message}`);
    });
    const ready = await get(`/api/v1/knowledge/documents/${encodeURIComponent(doc.id)}`);
    if (ready.status !== 'ready' || !(ready.chunk_count >= 1)) throw new Error(`the document as the API reports it: ${JSON.stringify(ready)}`);
    const shownChunks = (await row.getByTestId('doc-chunks').textContent()).trim();
    if (shownChunks !== String(ready.chunk_count)) throw new Error(`the row shows ${shownChunks} passages, the API ${ready.chunk_count}`);
    const shownStatus = (await row.getByTestId('doc-status').textContent()).trim();
    if (shownStatus !== 'ready') throw new Error(`the row's badge reads ${JSON.stringify(shownStatus)}`);
    return { doc: ready, seen, firstStatus, progressText };
  };

  /** search runs the playground's query and answers its results as shown ({document, label, score, snippet}). */
  const search = async (query) => {
    await page.getByTestId('search-query').fill(query);
    await page.getByTestId('search-submit').click();
    await page.getByTestId('search-results').waitFor();
    return page.getByTestId('search-result').evaluateAll((els) =>
      els.map((el) => ({
        document: el.getAttribute('data-document-id'),
        label: el.querySelector('[data-testid="result-label"]')?.textContent ?? '',
        score: el.querySelector('[data-testid="result-score"]')?.textContent ?? '',
        relevance: el.querySelector('[data-testid="result-relevance"]')?.textContent ?? '',
        snippet: el.querySelector('[data-testid="result-snippet"]')?.textContent ?? '',
        text: el.querySelector('[data-testid="result-text"]')?.textContent ?? '',
      })),
    );
  };

  // 1. The admin uploads the policy: progress, processing, then ready with its passages.
  const first = await upload();
  const doc = first.doc;
  log(`uploaded ${doc.id}: progress ${first.seen.join(' → ')} (${JSON.stringify(first.progressText)}); row first ${first.firstStatus}, then ready with ${doc.chunk_count} passages (${doc.format}, ${doc.size_bytes} B, v${doc.version})`);
  if (doc.kind !== 'article' || doc.source !== 'upload' || doc.version !== 1) throw new Error(`the document's kind, source or version: ${JSON.stringify(doc)}`);

  // 2. The playground finds the passage for a paraphrase, with a score.
  const found = await search('how many days to send something back');
  const hit = found.find((r) => r.document === doc.id && r.text.includes('30 days'));
  if (!hit) throw new Error(`the playground did not find the passage: ${JSON.stringify(found)}`);
  if (!/^\d+(\.\d+)?$/.test(hit.score) || !/^\d+(\.\d+)?$/.test(hit.relevance)) throw new Error(`the passage's score ${JSON.stringify(hit.score)}, relevance ${JSON.stringify(hit.relevance)}`);
  if (!hit.label.startsWith(TITLE)) throw new Error(`the passage is labelled ${JSON.stringify(hit.label)}`);
  const banner = await page.getByTestId('search-no-relevant').count();
  log(`playground: ${JSON.stringify(hit.label)} score ${hit.score} relevance ${hit.relevance}${banner ? ' (below the threshold: banner shown)' : ''}`);

  // 3. An agent reads the list but has no upload form, and may not write over REST.
  const ap = await openPage(s, { who: 'agent', viewport, errors: pageErrors });
  await signIn(ap, `${base}/knowledge`, AGENT, null);
  if ((await shownUser(ap)).role !== 'agent') throw new Error('agent not shown as agent');
  await ap.locator(`[data-testid="doc-row"][data-doc-id="${doc.id}"][data-status="ready"]`).waitFor();
  await ap.getByTestId('knowledge-readonly').waitFor();
  for (const id of ['upload-form', 'upload-file', 'doc-delete', 'doc-new-version']) {
    if (await ap.getByTestId(id).count()) throw new Error(`the agent sees ${id}`);
  }
  const agentPost = await call('POST', '/api/v1/knowledge/documents', agentToken, { title: 'Sneaky', content: '# Sneaky\n\nno' });
  if (agentPost.status !== 403) throw new Error(`agent POST /knowledge/documents answered ${agentPost.status}, want 403: ${agentPost.text}`);
  const agentDelete = await call('DELETE', `/api/v1/knowledge/documents/${encodeURIComponent(doc.id)}`, agentToken);
  if (agentDelete.status !== 403) throw new Error(`agent DELETE answered ${agentDelete.status}, want 403: ${agentDelete.text}`);
  const agentList = await call('GET', '/api/v1/knowledge/documents?limit=50', agentToken);
  if (agentList.status !== 200 || !(agentList.body?.documents ?? []).some((d) => d.id === doc.id)) throw new Error(`agent GET list: ${agentList.status} ${agentList.text}`);
  if ((await get('/api/v1/knowledge/documents?limit=50')).documents.some((d) => d.title === 'Sneaky')) throw new Error('the agent’s document was stored');
  log('agent: list shown without upload form or actions; POST 403, DELETE 403, GET 200');

  // 4. The admin deletes it (after the confirmation step); the playground no longer finds it.
  const row = page.locator(`[data-testid="doc-row"][data-doc-id="${doc.id}"]`);
  await row.getByTestId('doc-delete').click();
  await page.getByTestId('doc-delete-confirm').waitFor();
  if ((await call('GET', `/api/v1/knowledge/documents/${encodeURIComponent(doc.id)}`, adminToken)).status !== 200) throw new Error('deleted before the confirmation');
  await page.getByTestId('doc-delete-yes').click();
  await row.waitFor({ state: 'detached' });
  const gone = await call('GET', `/api/v1/knowledge/documents/${encodeURIComponent(doc.id)}`, adminToken);
  if (gone.status !== 404) throw new Error(`GET of the deleted document answered ${gone.status}, want 404`);
  let last = [];
  await waitFor(
    'the playground to stop finding the deleted document',
    async () => {
      last = await search('how many days to send something back');
      return !last.some((r) => r.document === doc.id);
    },
    T,
  ).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  });
  log(`deleted ${doc.id}: GET 404; the playground finds ${last.length} passage(s), none of it`);

  // 5. Uploaded again, it answers a customer on WhatsApp with a citation.
  const again = (await upload()).doc;
  if (again.id === doc.id) throw new Error('the new upload reused the deleted document’s id');
  log(`uploaded again: ${again.id} ready with ${again.chunk_count} passages`);
  let prompt = '';
  model.script((body) => {
    prompt = systemText(body);
    return { text: prompt.includes('30 days') ? REPLY : 'No passage reached me.' };
  });
  const wamid = `wamid.e2e.knowledge.${Date.now()}`;
  await customerWrites(WA, NAME, wamid, QUESTION);
  const sent = await waitFor('the AI reply at the Graph API', () => graph.sentTo(WA).find((m) => /30 days|No passage/.test(m.text)), T);
  const at = prompt.indexOf('[1]');
  log(`system prompt passage: ${JSON.stringify(prompt.slice(Math.max(0, at), at + 160))}`);
  if (at < 0 || !prompt.includes(TITLE) || !prompt.includes('30 days')) throw new Error(`the turn's system prompt lacks the passage numbered [1]: ${JSON.stringify(prompt.slice(0, 2000))}`);
  if (!prompt.includes(`[1] ${TITLE} › ${HEADING}`)) log(`note: the passage is not written "[1] ${TITLE} › ${HEADING}: …" in the prompt`);
  if (sent.text.includes('[1]')) throw new Error(`the customer got the citation marker: ${JSON.stringify(sent.text)}`);
  if (!sent.text.includes('You have 30 days from delivery to return it.')) throw new Error(`the customer got ${JSON.stringify(sent.text)}`);
  log(`Graph API got ${JSON.stringify(sent.text)}`);

  // 6. The inbox shows the AI message with its source; the source opens the document.
  await page.locator('nav a[href="/inbox"]').click();
  const item = page.getByTestId('conversation-item').filter({ hasText: NAME }).first();
  await item.waitFor();
  const conversationId = await item.getAttribute('data-conversation-id');
  await item.click();
  const ai = page.locator('[data-testid="message"][data-sender="ai"]').filter({ hasText: '30 days from delivery' }).first();
  await ai.waitFor();
  const shownText = await ai.locator('.text').textContent();
  if (shownText.includes('[1]')) throw new Error(`the inbox shows the marker: ${JSON.stringify(shownText)}`);
  const cite = ai.getByTestId('citation').first();
  await cite.waitFor();
  const label = (await cite.getByTestId('citation-label').textContent()).trim();
  if (!label.startsWith(TITLE)) throw new Error(`the source is labelled ${JSON.stringify(label)}, want "${TITLE} …"`);
  if ((await cite.getAttribute('data-document-id')) !== again.id) throw new Error(`the source is document ${await cite.getAttribute('data-document-id')}, want ${again.id}`);
  await cite.locator('summary').click();
  const snippet = cite.getByTestId('citation-snippet');
  await snippet.waitFor({ state: 'visible' });
  const snippetText = await snippet.textContent();
  if (!snippetText.includes('30 days')) throw new Error(`the source's passage reads ${JSON.stringify(snippetText)}`);
  const docLink = cite.getByTestId('citation-doc');
  const href = await docLink.getAttribute('href');
  if (href !== `/knowledge?doc=${encodeURIComponent(again.id)}`) throw new Error(`the source links ${href}`);
  log(`inbox: AI message ${JSON.stringify(shownText)} with source [${await cite.getAttribute('data-n')}] ${JSON.stringify(label)}: ${JSON.stringify(snippetText)}`);
  await docLink.click();
  await page.waitForURL((u) => new URL(u).pathname === '/knowledge' && new URL(u).searchParams.get('doc') === again.id);
  await page.locator(`[data-testid="doc-detail"][data-doc-id="${again.id}"]`).waitFor();
  await page.getByTestId('chunk-text').filter({ hasText: '30 days' }).first().waitFor();
  log('the source opens the document and its passages on the Knowledge page');

  // 7. Coverage counts the question; its topic opens the conversation; the CSV downloads.
  await page.getByTestId('nav-coverage').click();
  await page.waitForURL((u) => new URL(u).pathname === '/knowledge/coverage');
  const report = await waitFor(
    'the coverage report (REST) to count the question',
    async () => {
      const c = await get('/api/v1/knowledge/coverage');
      return c.questions >= 1 && (c.topics ?? []).length >= 1 ? c : null;
    },
    T,
  );
  await page.getByTestId('coverage-refresh').click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="coverage-questions"]')?.textContent) >= n, report.questions);
  const questions = Number((await page.getByTestId('coverage-questions').textContent()).trim());
  await page.getByTestId('coverage-topic').first().waitFor();
  const topic = page.getByTestId('coverage-topic').first();
  const topicLabel = (await topic.getByTestId('coverage-topic-label').textContent()).trim();
  const share = (await page.getByTestId('coverage-share').textContent()).trim();
  await topic.click();
  const conv = page.locator(`[data-testid="coverage-conversation"][data-conversation-id="${conversationId}"]`);
  await conv.waitFor().catch(async (e) => {
    const links = await page.getByTestId('coverage-conversation').evaluateAll((els) => els.map((el) => el.getAttribute('data-conversation-id')));
    throw new Error(`the topic ${JSON.stringify(topicLabel)} does not list conversation ${conversationId} (${links.join(', ')}): ${e.message}`);
  });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('coverage-csv').click()]);
  const csvPath = path.join(dir, download.suggestedFilename());
  await download.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, 'utf8');
  if (!/^knowledge-coverage-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/.test(download.suggestedFilename())) throw new Error(`the CSV is named ${download.suggestedFilename()}`);
  const header = csv.split(/\r?\n/)[0].split(',');
  const at_ = CSV_COLUMNS.map((c) => header.indexOf(c));
  if (at_.some((i, n) => i < 0 || (n > 0 && i < at_[n - 1])) || !csv.includes(QUESTION) || !csv.includes(conversationId)) throw new Error(`the CSV: ${JSON.stringify(csv.slice(0, 600))}`);
  log(`coverage: ${questions} question(s), ${share} answered with sources; topic ${JSON.stringify(topicLabel)} lists ${conversationId}; CSV ${download.suggestedFilename()} (${header.join(',')}; ${csv.split(/\r?\n/).filter(Boolean).length - 1} row(s))`);
  await conv.click();
  await page.waitForURL((u) => new URL(u).pathname === `/inbox/${encodeURIComponent(conversationId)}`);
  await page.locator('[data-testid="message"][data-sender="ai"]').filter({ hasText: '30 days from delivery' }).first().waitFor();

  const shot = process.env.E2E_KNOWLEDGE_SCREENSHOT ?? path.join(os.tmpdir(), 'frontdesk-knowledge.png');
  await page.screenshot({ path: shot, fullPage: true });
  log('screenshot', shot);

  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join(' | ')}`);
});
