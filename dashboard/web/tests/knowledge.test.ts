import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError, errorOf } from '../src/api';
import {
  acceptedFile,
  appendDocuments,
  bestRelevance,
  clampK,
  coverageTone,
  csvFilename,
  dayEnd,
  dayStart,
  defaultKind,
  defaultRange,
  defaultTitle,
  docHref,
  docIdFromSearch,
  emptySearch,
  emptyUploadForm,
  fixed,
  formatBytes,
  knowledgeForm,
  noRelevantText,
  parseTags,
  passageLabel,
  percent,
  placeholderDocument,
  pollDelay,
  pollDocument,
  rangeTimes,
  relevanceWidth,
  searchRequest,
  sortedCitations,
  statusTone,
  textBody,
  uploadErrorText,
  uploadFields,
  uploadPercent,
  upsertDocument,
  validateUpload,
  versionFields,
} from '../src/knowledge';
import { applyFrame, emptyInbox, mergeMessageList } from '../src/inbox';
import { can } from '../src/roles';
import type { Citation, KnowledgeSearchResponse, Message } from '../src/types';
import { knowledgeDoc as doc } from './fixtures';

afterEach(() => vi.unstubAllGlobals());


describe('upload validation and fields', () => {
  it('takes the listed file types only, by extension, any case', () => {
    for (const n of ['a.md', 'A.MARKDOWN', 'x.html', 'x.htm', 'notes.txt', 'manual.PDF', 'faq.csv']) expect(acceptedFile(n), n).toBe(true);
    for (const n of ['a.docx', 'a', 'md', 'a.md.exe', 'image.png']) expect(acceptedFile(n), n).toBe(false);
  });

  it('defaults the title to the file name without its extension, and a CSV to FAQ', () => {
    expect(defaultTitle('Returns policy.md')).toBe('Returns policy');
    expect(defaultTitle('C:\\docs\\faq.v2.csv')).toBe('faq.v2');
    expect(defaultTitle('README')).toBe('README');
    expect(defaultKind('faq.CSV')).toBe('faq');
    expect(defaultKind('policy.md')).toBe('article');
  });

  it('splits tags on commas, trimmed, without empties or repeats', () => {
    expect(parseTags(' returns, shipping,,Returns , ')).toEqual(['returns', 'shipping']);
    expect(parseTags('')).toEqual([]);
  });

  it('answers the first problem of a form, or ""', () => {
    const f = { ...emptyUploadForm };
    expect(validateUpload(f, { name: 'a.md', size: 10 })).toBe('');
    expect(validateUpload(f, { name: 'a.docx', size: 10 })).toMatch(/not a file type/);
    expect(validateUpload(f, { name: 'a.md', size: 0 })).toMatch(/empty/);
    expect(validateUpload(f, { name: 'a.pdf', size: 30 * 1024 * 1024 })).toMatch(/largest upload is 20.0 MB/);
    expect(validateUpload({ ...f, source_url: 'javascript:alert(1)' }, { name: 'a.md', size: 1 })).toMatch(/http/);
    expect(validateUpload({ ...f, source_url: 'https://help.example.com/r' }, { name: 'a.md', size: 1 })).toBe('');
    expect(validateUpload({ ...f, language: 'english!' }, { name: 'a.md', size: 1 })).toMatch(/language/);
    expect(validateUpload({ ...f, language: 'pt-BR' }, { name: 'a.md', size: 1 })).toBe('');
    expect(validateUpload({ ...f, valid_from: '2025-03-02', valid_until: '2025-03-01' }, { name: 'a.md', size: 1 })).toMatch(/before/);
    expect(validateUpload({ ...f, kind: 'poem' }, { name: 'a.md', size: 1 })).toMatch(/Unknown kind/);
    // pasted text needs a title and content
    expect(validateUpload(f, null, 'text')).toMatch(/title/);
    expect(validateUpload({ ...f, title: 'T' }, null, '  ')).toMatch(/Paste/);
    expect(validateUpload({ ...f, title: 'T' }, null, '# T')).toBe('');
  });

  it('sends only the fields set, the title defaulting to the file name, days as RFC 3339', () => {
    expect(uploadFields(emptyUploadForm, 'Returns policy.md')).toEqual({ title: 'Returns policy' });
    expect(
      uploadFields({ title: ' Returns ', kind: 'policy', tags: 'returns, refunds', language: 'en', source_url: 'https://x.example/r', valid_from: '2025-03-01', valid_until: '2025-12-31' }, 'r.md'),
    ).toEqual({
      title: 'Returns',
      kind: 'policy',
      tags: 'returns,refunds',
      language: 'en',
      source_url: 'https://x.example/r',
      valid_from: '2025-03-01T00:00:00Z',
      valid_until: '2025-12-31T23:59:59Z',
    });
    expect(dayStart('nope')).toBe('');
    expect(dayEnd('2025-01-02')).toBe('2025-01-02T23:59:59Z');
  });

  it('builds the JSON body of pasted text with tags as a list, markdown by default', () => {
    const f = { ...emptyUploadForm, title: 'FAQ', tags: 'a, b' };
    expect(textBody(f, '# FAQ')).toEqual({ title: 'FAQ', tags: ['a', 'b'], content: '# FAQ' });
    expect(textBody({ ...f, tags: '' }, 'q,a', 'csv')).toEqual({ title: 'FAQ', content: 'q,a', format: 'csv' });
  });

  it('builds the multipart body: the file, then the fields', async () => {
    const file = new File(['# Returns'], 'Returns policy.md', { type: 'text/markdown' });
    const form = knowledgeForm(file, { title: 'Returns policy', tags: 'a,b' });
    expect([...form.keys()]).toEqual(['file', 'title', 'tags']);
    const sent = form.get('file') as File;
    expect(sent.name).toBe('Returns policy.md');
    expect(await sent.text()).toBe('# Returns');
    expect(form.get('tags')).toBe('a,b');
  });

  it('keeps a document’s fields for its new version', () => {
    expect(versionFields(doc({ tags: ['a', 'b'], valid_until: '2025-12-31T23:59:59Z' }))).toEqual({
      title: 'Returns policy',
      kind: 'policy',
      tags: 'a,b',
      language: 'en',
      source_url: 'https://help.example.com/returns',
      valid_until: '2025-12-31T23:59:59Z',
    });
  });

  it('reports upload progress in whole percent, 0 while the size is unknown', () => {
    expect(uploadPercent(0, 100)).toBe(0);
    expect(uploadPercent(333, 1000)).toBe(33);
    expect(uploadPercent(1000, 1000)).toBe(100);
    expect(uploadPercent(1200, 1000)).toBe(100);
    expect(uploadPercent(50, 0)).toBe(0);
  });

  it('says why the server refused a document, by code', () => {
    expect(uploadErrorText(413, 'too_large', 'over 20 MB')).toBe('The file is too large: over 20 MB');
    expect(uploadErrorText(400, 'unsupported_type', '.docx')).toBe('frontdesk does not read this file type: .docx');
    expect(uploadErrorText(422, 'unreadable', 'PDF has no text')).toBe('The file could not be read: PDF has no text');
    expect(uploadErrorText(400, 'invalid', 'kind: unknown')).toBe('The document was refused: kind: unknown');
    expect(uploadErrorText(403, 'forbidden', '')).toMatch(/supervisors and admins/);
    expect(uploadErrorText(0, 'network', 'the upload failed: no answer from the server')).toBe('the upload failed: no answer from the server');
  });

  it('formats sizes and colours statuses', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(2 * 1024 * 1024)).toBe('2.0 MB');
    expect(formatBytes(undefined)).toBe('—');
    expect([statusTone('processing'), statusTone('ready'), statusTone('failed'), statusTone('x')]).toEqual(['info', 'ok', 'bad', 'neutral']);
  });
});

describe('the documents list', () => {
  it('puts a new document first and an known one in place', () => {
    const a = doc({ id: 'a' });
    const b = doc({ id: 'b' });
    expect(upsertDocument([a], b).map((d) => d.id)).toEqual(['b', 'a']);
    const got = upsertDocument([a, b], { ...b, status: 'failed', error: 'PDF without text' });
    expect(got.map((d) => `${d.id}:${d.status}`)).toEqual(['a:ready', 'b:failed']);
  });

  it('appends a later page, each document once', () => {
    const got = appendDocuments([doc({ id: 'a' }), doc({ id: 'b' })], [doc({ id: 'b', version: 2 }), doc({ id: 'c' })]);
    expect(got.map((d) => `${d.id}:${d.version}`)).toEqual(['a:1', 'b:2', 'c:1']);
  });

  it('shows a placeholder row, processing, for an upload GET has not answered', () => {
    const p = placeholderDocument('kd_9', 1, { title: 'Returns policy', tags: 'a,b' }, 99, '2025-03-01T12:00:00Z');
    expect(p).toMatchObject({ id: 'kd_9', title: 'Returns policy', kind: 'article', tags: ['a', 'b'], status: 'processing', version: 1, size_bytes: 99, source: 'upload' });
  });
});

describe('polling a document being processed', () => {
  it('waits 1 s, then backs off by 1.5 up to 10 s', () => {
    expect([0, 1, 2, 3, 10].map((n) => pollDelay(n))).toEqual([1000, 1500, 2250, 3375, 10000]);
  });

  const recorder = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };

  it('GETs until ready, reporting each answer', async () => {
    const answers = [doc({ status: 'processing' }), doc({ status: 'processing' }), doc({ status: 'ready', chunk_count: 2 })];
    const seen: string[] = [];
    const { waits, sleep } = recorder();
    const end = await pollDocument({ get: async () => answers.shift()!, sleep, onUpdate: (d) => seen.push(d.status) });
    expect(end).toMatchObject({ end: 'settled', doc: { status: 'ready', chunk_count: 2 } });
    expect(seen).toEqual(['processing', 'processing', 'ready']);
    expect(waits).toEqual([1000, 1500, 2250]);
  });

  it('stops on failed, with the reason', async () => {
    const end = await pollDocument({ get: async () => doc({ status: 'failed', error: 'PDF without text' }), sleep: async () => undefined });
    expect(end).toMatchObject({ end: 'settled', doc: { status: 'failed', error: 'PDF without text' } });
  });

  it('stops when the signal aborts (the page unmounted), without another GET', async () => {
    const signal = { aborted: false };
    let gets = 0;
    const end = await pollDocument({
      get: async () => {
        gets++;
        signal.aborted = gets === 2;
        return doc({ status: 'processing' });
      },
      signal,
      sleep: async () => undefined,
    });
    expect(end).toEqual({ end: 'stopped' });
    expect(gets).toBe(2);
  });

  it('retries failed GETs, ends on a 404 (deleted) or a fatal error, and gives up after maxErrors in a row', async () => {
    const statusOf = (e: unknown) => (e instanceof ApiError ? e.status : 0);
    let n = 0;
    const flaky = await pollDocument({
      get: async () => {
        if (++n < 3) throw new ApiError(503, 'unavailable', 'busy');
        return doc();
      },
      statusOf,
      sleep: async () => undefined,
    });
    expect(flaky.end).toBe('settled');
    const gone = await pollDocument({ get: async () => Promise.reject(new ApiError(404, 'not_found', 'no')), statusOf, sleep: async () => undefined });
    expect(gone).toEqual({ end: 'gone' });
    const fatal = await pollDocument({
      get: async () => Promise.reject(new ApiError(401, 'unauthorized', 'no')),
      statusOf,
      fatal: (e) => statusOf(e) === 401,
      sleep: async () => undefined,
    });
    expect(fatal.end).toBe('error');
    let tries = 0;
    const down = await pollDocument({
      get: async () => {
        tries++;
        throw new ApiError(500, 'internal', 'x');
      },
      statusOf,
      sleep: async () => undefined,
    });
    expect(down.end).toBe('error');
    expect(tries).toBe(5);
  });

  it('gives up after maxAttempts, keeping the last answer', async () => {
    let gets = 0;
    const end = await pollDocument({
      get: async () => (gets++, doc({ status: 'processing' })),
      sleep: async () => undefined,
      options: { maxAttempts: 4 },
    });
    expect(end).toMatchObject({ end: 'gave_up', doc: { status: 'processing' } });
    expect(gets).toBe(4);
  });
});

describe('search', () => {
  it('builds the request, leaving out the filters not set and clamping k', () => {
    expect(searchRequest({ ...emptySearch, query: '  how long to return? ' })).toEqual({ query: 'how long to return?', k: 5 });
    expect(searchRequest({ query: 'q', k: 50, kinds: ['faq', 'policy'], tags: 'returns, ', language: 'de', at: '2025-03-01' })).toEqual({
      query: 'q',
      k: 20,
      filters: { kind: ['faq', 'policy'], tags: ['returns'], language: 'de', at: '2025-03-01T12:00:00Z' },
    });
    expect([clampK(0), clampK(3.4), clampK(NaN)]).toEqual([1, 3, 5]);
  });

  const answer = (relevances: number[], relevant: boolean): KnowledgeSearchResponse => ({
    results: relevances.map((r, i) => ({ document_id: 'd', chunk_id: `c${i}`, title: 'T', heading: 'H', score: 0.03, relevance: r, lexical: 0.5, cosine: 0.7, snippet: 's', text: 't', source_url: '', kind: 'faq' })),
    relevant,
    threshold: 0.35,
  });

  it('says when nothing is relevant: the best relevance and the threshold', () => {
    expect(noRelevantText(answer([0.12, 0.2], false))).toBe('No relevant documents (best relevance 0.20 below threshold 0.35)');
    expect(noRelevantText(answer([], false))).toBe('No relevant documents (best relevance 0.00 below threshold 0.35)');
    expect(noRelevantText(answer([0.8], true))).toBe('');
    expect(bestRelevance(answer([0.1, 0.7, 0.3], true))).toBe(0.7);
    // the server's best wins when it sends one
    expect(noRelevantText({ ...answer([0.2], false), best: 0.25 })).toBe('No relevant documents (best relevance 0.25 below threshold 0.35)');
  });

  it('sizes the relevance bar from 0% to 100%, clamped', () => {
    expect([relevanceWidth(0), relevanceWidth(0.356), relevanceWidth(1), relevanceWidth(1.4), relevanceWidth(-1), relevanceWidth(NaN)]).toEqual(['0%', '36%', '100%', '100%', '0%', '0%']);
  });

  it('writes scores with 2 digits, 3 below 0.1', () => {
    expect([fixed(0.8123), fixed(0.0328), fixed(0), fixed(undefined)]).toEqual(['0.81', '0.033', '0.00', '—']);
  });

  it('names a passage title › heading', () => {
    expect(passageLabel({ title: 'Returns policy', heading: 'How long do I have to return an item?' })).toBe('Returns policy › How long do I have to return an item?');
    expect(passageLabel({ title: 'Returns policy', heading: '' })).toBe('Returns policy');
    expect(passageLabel({ title: 'Returns policy', heading: 'returns policy ' })).toBe('Returns policy');
  });
});

describe('citations', () => {
  const cite = (n: number): Citation => ({ n, document_id: 'kd 1', chunk_id: `ch${n}`, title: 'Returns policy', heading: 'H', snippet: 's', source_url: '' });

  it('links a document on the Knowledge page and reads it back', () => {
    expect(docHref('kd 1/x')).toBe('/knowledge?doc=kd+1%2Fx');
    expect(docIdFromSearch('?doc=kd+1%2Fx')).toBe('kd 1/x');
    expect(docIdFromSearch('')).toBe('');
  });

  it('orders citations by number, each once', () => {
    expect(sortedCitations([cite(2), cite(1), cite(2)]).map((c) => c.n)).toEqual([1, 2]);
    expect(sortedCitations(null)).toEqual([]);
  });

  it('reads citations from a live message.created frame', () => {
    const s = applyFrame(emptyInbox, {
      id: 7,
      type: 'message.created',
      conversation_id: 'conv_1',
      time: '2025-03-01T10:00:00Z',
      data: { id: 'm1', direction: 'outbound', text: 'You have 30 days.', kind: 'text', status: 'pending', sender: 'ai', created_at: '2025-03-01T10:00:00Z', citations: [cite(1)] },
    });
    expect(s.messages.conv_1[0].citations?.map((c) => c.title)).toEqual(['Returns policy']);
  });

  it('keeps a message’s citations when a later copy comes without them (a status update)', () => {
    const m: Message = { id: 'm1', direction: 'outbound', text: 'You have 30 days.', kind: 'text', status: 'sent', sender: 'ai', created_at: '2025-03-01T10:00:00Z', citations: [cite(1)] };
    const { citations: _, ...bare } = m;
    const got = mergeMessageList([m], [{ ...bare, status: 'delivered' }]);
    expect(got[0].status).toBe('delivered');
    expect(got[0].citations?.map((c) => c.n)).toEqual([1]);
    const later = mergeMessageList([bare as Message], [m]);
    expect(later[0].citations?.map((c) => c.n)).toEqual([1]);
  });
});

describe('coverage', () => {
  it('defaults to the last 7 days, today included', () => {
    expect(defaultRange(new Date(2025, 2, 5, 15, 30))).toEqual({ from: '2025-02-27', to: '2025-03-05' });
  });

  it('turns the days into the API’s times: local midnight to the midnight after the last day', () => {
    const r = rangeTimes('2025-03-01', '2025-03-07')!;
    expect(new Date(r.from).getTime()).toBe(new Date(2025, 2, 1).getTime());
    expect(new Date(r.to).getTime()).toBe(new Date(2025, 2, 8).getTime());
    expect(rangeTimes('2025-03-08', '2025-03-07')).toBeNull();
    expect(rangeTimes('', '2025-03-07')).toBeNull();
  });

  it('writes shares as percentages and names the CSV by its days', () => {
    expect([percent(0.666), percent(1), percent(0), percent(undefined)]).toEqual(['67%', '100%', '0%', '—']);
    expect(csvFilename('2025-03-01', '2025-03-07')).toBe('knowledge-coverage-2025-03-01-to-2025-03-07.csv');
    expect(csvFilename('../x', '')).toBe('knowledge-coverage-x-to-now.csv');
    expect([coverageTone(0.9), coverageTone(0.5), coverageTone(0.2)]).toEqual(['ok', 'warn', 'bad']);
  });
});

describe('roles', () => {
  it('lets every role read the knowledge, admins and supervisors change it', () => {
    for (const r of ['admin', 'supervisor', 'agent', 'analyst'] as const) expect(can.viewKnowledge(r)).toBe(true);
    expect(can.editKnowledge('admin')).toBe(true);
    expect(can.editKnowledge('supervisor')).toBe(true);
    expect(can.editKnowledge('agent')).toBe(false);
    expect(can.editKnowledge('analyst')).toBe(false);
  });
});

// fetch stubbed: each call answers the next response; calls are recorded.
function answers(...rs: (() => Response)[]) {
  const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: { method?: string; headers: Record<string, string>; body?: string }) => {
      calls.push({ url, method: init.method ?? 'GET', headers: init.headers, body: init.body });
      return rs[Math.min(calls.length - 1, rs.length - 1)]();
    }),
  );
  return calls;
}
const ok = (v: unknown, status = 200) => () => new Response(JSON.stringify(v), { status });

describe('Api knowledge', () => {
  it('lists a page with its filters, reads one document and its passages', async () => {
    const calls = answers(ok({ documents: [doc()], next_cursor: 'c/2' }), ok(doc({ id: 'kd 1' })), ok({ chunks: null }));
    const api = new Api('tok');
    const page = await api.knowledgeDocuments({ limit: 50, cursor: 'c/2', status: 'ready', kind: 'faq' });
    expect(page.next_cursor).toBe('c/2');
    expect((await api.knowledgeDocument('kd 1')).id).toBe('kd 1');
    expect(await api.knowledgeChunks('kd 1')).toEqual([]);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/knowledge/documents?limit=50&cursor=c%2F2&status=ready&kind=faq',
      'GET /api/v1/knowledge/documents/kd%201',
      'GET /api/v1/knowledge/documents/kd%201/chunks',
    ]);
    expect(calls[0].headers.Authorization).toBe('Bearer tok');
  });

  it('posts pasted text and a search as JSON, deletes (204)', async () => {
    const calls = answers(ok({ id: 'kd_2', status: 'processing', version: 1 }, 201), ok({ results: [], relevant: false, threshold: 0.35 }), () => new Response(null, { status: 204 }));
    const api = new Api('tok');
    expect(await api.createKnowledgeText({ title: 'FAQ', content: 'q,a', format: 'csv' })).toEqual({ id: 'kd_2', status: 'processing', version: 1 });
    expect((await api.searchKnowledge({ query: 'q', k: 5 })).threshold).toBe(0.35);
    await api.deleteKnowledgeDocument('kd_2');
    expect(calls.map((c) => `${c.method} ${c.url} ${c.body ?? ''}`)).toEqual([
      'POST /api/v1/knowledge/documents {"title":"FAQ","content":"q,a","format":"csv"}',
      'POST /api/v1/knowledge/search {"query":"q","k":5}',
      'DELETE /api/v1/knowledge/documents/kd_2 ',
    ]);
  });

  it('turns a refusal into an ApiError with the API’s code', async () => {
    answers(ok({ error: { code: 'forbidden', message: 'admins and supervisors only' } }, 403));
    const err = await new Api('t').createKnowledgeText({ title: 'x', content: 'y' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code, err.message]).toEqual([403, 'forbidden', 'admins and supervisors only']);
  });

  it('reads the coverage of a range, and its CSV with the token', async () => {
    const calls = answers(ok({ questions: 3, topics: [] }), () => new Response('asked_at,conversation_id\n', { status: 200, headers: { 'Content-Type': 'text/csv' } }));
    const api = new Api('tok');
    expect((await api.coverage('2025-03-01T00:00:00.000Z', '2025-03-08T00:00:00.000Z')).questions).toBe(3);
    const blob = await api.coverageCSV('2025-03-01T00:00:00.000Z', '2025-03-08T00:00:00.000Z');
    expect(await blob.text()).toBe('asked_at,conversation_id\n');
    expect(calls.map((c) => c.url)).toEqual([
      '/api/v1/knowledge/coverage?from=2025-03-01T00%3A00%3A00.000Z&to=2025-03-08T00%3A00%3A00.000Z',
      '/api/v1/knowledge/coverage?format=csv&from=2025-03-01T00%3A00%3A00.000Z&to=2025-03-08T00%3A00%3A00.000Z',
    ]);
    expect(calls[1].headers.Authorization).toBe('Bearer tok');
    answers(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const err = await api.coverageCSV('', '').catch((e) => e);
    expect([err.status, err.code, err.message]).toEqual([502, '502', 'Bad Gateway']);
  });

  it('reads an error body that is not JSON as its status', () => {
    const e = errorOf(413, '', '<html>too big</html>');
    expect([e.status, e.code, e.message]).toEqual([413, '413', 'the file is too large']);
  });
});

// FakeXHR is the part of XMLHttpRequest that xhrUpload uses; the test drives its events.
class FakeXHR {
  static last: FakeXHR;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  statusText = '';
  responseText = '';
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXHR.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

describe('Api.uploadKnowledge (XMLHttpRequest)', () => {
  it('POSTs the form with the token and reports progress, then answers the new document', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXHR);
    const progress: string[] = [];
    const form = knowledgeForm(new File(['# R'], 'r.md'), { title: 'R' });
    const up = new Api('tok').uploadKnowledge(form, (l, t) => progress.push(`${l}/${t}`));
    const x = FakeXHR.last;
    expect([x.method, x.url, x.headers.Authorization, x.body === form]).toEqual(['POST', '/api/v1/knowledge/documents', 'Bearer tok', true]);
    x.upload.onprogress?.({ loaded: 10, total: 40, lengthComputable: true });
    x.upload.onprogress?.({ loaded: 40, total: 40, lengthComputable: true });
    x.upload.onprogress?.({ loaded: 5, total: 0, lengthComputable: false });
    x.answer(201, { id: 'kd_1', status: 'processing', version: 1 });
    expect(await up.promise).toEqual({ id: 'kd_1', status: 'processing', version: 1 });
    expect(progress).toEqual(['10/40', '40/40', '5/0']);
  });

  it('PUTs a new version, and rejects with the API’s error', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXHR);
    const up = new Api('t').uploadKnowledge(new FormData(), undefined, 'kd 1');
    expect([FakeXHR.last.method, FakeXHR.last.url]).toEqual(['PUT', '/api/v1/knowledge/documents/kd%201']);
    FakeXHR.last.answer(422, { error: { code: 'unreadable', message: 'PDF without text' } });
    const err = await up.promise.catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code, err.message]).toEqual([422, 'unreadable', 'PDF without text']);
  });

  it('rejects on a network failure and on abort with status 0', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXHR);
    const a = new Api('t').uploadKnowledge(new FormData());
    FakeXHR.last.onerror?.();
    expect((await a.promise.catch((e) => e)).code).toBe('network');
    const b = new Api('t').uploadKnowledge(new FormData());
    b.abort();
    const err = await b.promise.catch((e) => e);
    expect([err.status, err.code]).toEqual([0, 'aborted']);
  });
});
