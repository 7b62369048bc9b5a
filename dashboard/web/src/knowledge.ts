// Pure logic of the knowledge pages (Knowledge.tsx, Coverage.tsx) and the
// inbox's citations: upload validation and its form, the polling of a
// document being processed (delays and the loop, with an injected sleep),
// search requests and what their results show, coverage ranges and the CSV's
// file name. No DOM, no network of its own: tested by tests/knowledge.test.ts.

import type { Citation, KnowledgeDocument, KnowledgeFields, KnowledgeSearchRequest, KnowledgeSearchResponse } from './types';
import type { Tone } from './timeline';

/** KINDS are the document kinds, as the API names them. */
export const KINDS = ['article', 'faq', 'policy', 'product'] as const;

/** KIND_LABELS names each kind for people. */
export const KIND_LABELS: Record<string, string> = { article: 'Article', faq: 'FAQ', policy: 'Policy', product: 'Product' };

/** EXTENSIONS are the file types an upload takes (the file input's accept). */
export const EXTENSIONS = ['.md', '.markdown', '.html', '.htm', '.txt', '.pdf', '.csv'] as const;
export const ACCEPT = EXTENSIONS.join(',');

/** MAX_UPLOAD_BYTES is the largest file the page sends (the server may refuse less: 413 too_large). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** kindLabel names a kind ("FAQ"); an unknown kind reads as sent. */
export function kindLabel(kind: string | null | undefined): string {
  return KIND_LABELS[kind ?? ''] ?? (kind || '—');
}

/** extensionOf answers a file name's extension, lower case with its dot (".md"), or "". */
export function extensionOf(name: string): string {
  const m = /\.[^./\\]+$/.exec(name.trim());
  return m ? m[0].toLowerCase() : '';
}

/** acceptedFile tells whether a file name has one of the EXTENSIONS. */
export function acceptedFile(name: string): boolean {
  return (EXTENSIONS as readonly string[]).includes(extensionOf(name));
}

/** defaultTitle is the title an upload takes when none is typed: the file name without its extension ("Returns policy.md" → "Returns policy"). */
export function defaultTitle(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '').trim();
  const ext = extensionOf(base);
  const stem = ext ? base.slice(0, -ext.length) : base;
  return stem.trim() || base;
}

/** defaultKind is the kind an upload of fileName takes when none is chosen: "faq" for a CSV, else "article". */
export function defaultKind(fileName: string): string {
  return extensionOf(fileName) === '.csv' ? 'faq' : 'article';
}

/** parseTags splits "returns, shipping,,Returns " into ["returns", "shipping"]: trimmed, no empties, each once (case-insensitively, first spelling kept). */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (!t || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

/** formatBytes writes a size for people: 512 B, 1.5 KB, 2.0 MB. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** UploadForm is what the upload and paste forms hold, as typed. */
export interface UploadForm {
  title: string;
  kind: string;
  /** comma-separated */
  tags: string;
  language: string;
  source_url: string;
  /** YYYY-MM-DD or "" */
  valid_from: string;
  /** YYYY-MM-DD or "" */
  valid_until: string;
}

export const emptyUploadForm: UploadForm = { title: '', kind: '', tags: '', language: '', source_url: '', valid_from: '', valid_until: '' };

/** dayStart writes a date input's value (YYYY-MM-DD) as the start of that day in UTC (RFC 3339); "" stays "". */
export function dayStart(date: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : '';
}

/** dayEnd writes a date input's value as the last second of that day in UTC (RFC 3339): valid until includes the day. */
export function dayEnd(date: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T23:59:59Z` : '';
}

/** dateInput writes an RFC 3339 time as a date input's value (its UTC day), "" when it is not a time. */
export function dateInput(at: string | null | undefined): string {
  const t = at ? Date.parse(at) : NaN;
  return Number.isNaN(t) ? '' : new Date(t).toISOString().slice(0, 10);
}

/**
 * validateUpload checks a form before it is sent; it answers the first
 * problem for people, or "". file is the chosen file ({name, size}), null
 * for pasted text (then content must not be blank and a title is needed).
 */
export function validateUpload(f: UploadForm, file: { name: string; size: number } | null, content = ''): string {
  if (file) {
    if (!acceptedFile(file.name)) return `“${file.name}” is not a file type frontdesk reads: choose ${EXTENSIONS.join(', ')}.`;
    if (file.size === 0) return `“${file.name}” is empty.`;
    if (file.size > MAX_UPLOAD_BYTES) return `“${file.name}” is ${formatBytes(file.size)}; the largest upload is ${formatBytes(MAX_UPLOAD_BYTES)}.`;
  } else {
    if (!f.title.trim()) return 'Give the document a title.';
    if (!content.trim()) return 'Paste the document’s text.';
  }
  if (f.title.length > 300) return 'The title is longer than 300 characters.';
  if (f.kind && !(KINDS as readonly string[]).includes(f.kind)) return `Unknown kind “${f.kind}”.`;
  if (f.source_url.trim() && !/^https?:\/\/\S+$/i.test(f.source_url.trim())) return 'The source URL must start with http:// or https://.';
  if (f.language.trim() && !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(f.language.trim())) return 'The language is a code such as en, de or pt-BR.';
  if (f.valid_from && !dayStart(f.valid_from)) return 'Valid from is not a date.';
  if (f.valid_until && !dayEnd(f.valid_until)) return 'Valid until is not a date.';
  if (f.valid_from && f.valid_until && f.valid_until < f.valid_from) return 'Valid until is before valid from.';
  return '';
}

/** uploadFields answers the form's fields as the API takes them (empty ones left out; the title defaulting to the file's name). */
export function uploadFields(f: UploadForm, fileName = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const title = f.title.trim() || (fileName ? defaultTitle(fileName) : '');
  if (title) out.title = title;
  if (f.kind) out.kind = f.kind;
  const tags = parseTags(f.tags);
  if (tags.length) out.tags = tags.join(',');
  if (f.language.trim()) out.language = f.language.trim();
  if (f.source_url.trim()) out.source_url = f.source_url.trim();
  if (f.valid_from) out.valid_from = dayStart(f.valid_from);
  if (f.valid_until) out.valid_until = dayEnd(f.valid_until);
  return out;
}

/** textBody is the JSON body of a pasted document (tags as a list). */
export function textBody(f: UploadForm, content: string, format = 'markdown'): KnowledgeFields & { content: string; format?: string } {
  const { tags, ...rest } = uploadFields(f);
  return { ...rest, ...(tags ? { tags: tags.split(',') } : {}), content, ...(format !== 'markdown' ? { format } : {}) };
}

/** knowledgeForm builds the multipart body of an upload: the file, then the fields (tags comma-separated). */
export function knowledgeForm(file: Blob & { name?: string }, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append('file', file, file.name ?? 'upload');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

/** versionFields are the fields a new version keeps from doc (PUT takes the same body as POST). */
export function versionFields(doc: KnowledgeDocument): Record<string, string> {
  const out: Record<string, string> = { title: doc.title, kind: doc.kind };
  if (doc.tags?.length) out.tags = doc.tags.join(',');
  if (doc.language) out.language = doc.language;
  if (doc.source_url) out.source_url = doc.source_url;
  if (doc.valid_from) out.valid_from = doc.valid_from;
  if (doc.valid_until) out.valid_until = doc.valid_until;
  return out;
}

/** uploadPercent is how much of an upload went out, 0..100 (0 while the size is unknown). */
export function uploadPercent(loaded: number, total: number): number {
  if (!(total > 0) || !(loaded > 0)) return 0;
  return Math.min(100, Math.max(0, Math.round((loaded / total) * 100)));
}

/** statusTone colours a document's status: processing info, ready ok, failed bad. */
export function statusTone(status: string | null | undefined): Tone {
  return status === 'ready' ? 'ok' : status === 'failed' ? 'bad' : status === 'processing' ? 'info' : 'neutral';
}

/** sourceLabel names where a document came from. */
export function sourceLabel(source: string | null | undefined): string {
  return source === 'shopify' ? 'Shopify' : source === 'upload' ? 'Upload' : source || '—';
}

/** settled tells whether a document's processing is over (ready or failed). */
export function settled(doc: Pick<KnowledgeDocument, 'status'>): boolean {
  return doc.status === 'ready' || doc.status === 'failed';
}

/** upsertDocument puts doc into a newest-first list: in place when it is there, else first. */
export function upsertDocument(list: readonly KnowledgeDocument[], doc: KnowledgeDocument): KnowledgeDocument[] {
  const i = list.findIndex((d) => d.id === doc.id);
  if (i < 0) return [doc, ...list];
  const out = list.slice();
  out[i] = { ...out[i], ...doc };
  return out;
}

/** appendDocuments adds a later page to the list, each document once (the copy shown keeps its place and takes the page's fields). */
export function appendDocuments(list: readonly KnowledgeDocument[], page: readonly KnowledgeDocument[]): KnowledgeDocument[] {
  const byId = new Map(page.map((d) => [d.id, d]));
  const out = list.map((d) => byId.get(d.id) ?? d);
  const seen = new Set(list.map((d) => d.id));
  for (const d of page) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    out.push(d);
  }
  return out;
}

/** placeholderDocument is the row shown for an upload the server took but that GET has not answered yet. */
export function placeholderDocument(id: string, version: number, fields: Record<string, string>, size: number, at: string): KnowledgeDocument {
  return {
    id,
    title: fields.title ?? '',
    kind: fields.kind ?? 'article',
    tags: fields.tags ? fields.tags.split(',') : [],
    language: fields.language ?? '',
    source_url: fields.source_url ?? '',
    valid_from: fields.valid_from ?? null,
    valid_until: fields.valid_until ?? null,
    format: '',
    source: 'upload',
    size_bytes: size,
    status: 'processing',
    error: '',
    version,
    chunk_count: 0,
    created_at: at,
    updated_at: at,
  };
}

// Polling a document being processed.

export interface PollOptions {
  /** the first wait (ms) */
  firstMs: number;
  /** each wait is the last times factor… */
  factor: number;
  /** …up to maxMs */
  maxMs: number;
  /** the GETs before it gives up (the document then stays "processing" on the page) */
  maxAttempts: number;
  /** failed GETs in a row before it gives up */
  maxErrors: number;
}

export const POLL: PollOptions = { firstMs: 1000, factor: 1.5, maxMs: 10000, maxAttempts: 120, maxErrors: 5 };

/** pollDelay is the wait before GET number attempt (0-based): 1 s, 1.5 s, 2.25 s … up to 10 s. */
export function pollDelay(attempt: number, o: PollOptions = POLL): number {
  return Math.round(Math.min(o.maxMs, o.firstMs * o.factor ** Math.max(0, attempt)));
}

/** PollEnd is how a poll ended: settled (ready or failed), gone (404: deleted meanwhile), stopped (the caller's signal), gave_up, or error. */
export type PollEnd =
  | { end: 'settled'; doc: KnowledgeDocument }
  | { end: 'gone' }
  | { end: 'stopped' }
  | { end: 'gave_up'; doc: KnowledgeDocument | null }
  | { end: 'error'; error: unknown };

export interface PollDeps {
  get: () => Promise<KnowledgeDocument>;
  /** each answer, settled or not */
  onUpdate?: (doc: KnowledgeDocument) => void;
  /** stops the poll (the page unmounted, the document was deleted) */
  signal?: { aborted: boolean };
  /** waits ms; resolves early when the signal aborts (setTimeout by default) */
  sleep?: (ms: number) => Promise<void>;
  /** an error that ends the poll at once (401: signed out); others are retried */
  fatal?: (e: unknown) => boolean;
  /** the HTTP status of an error, if any (404 ends the poll as gone) */
  statusOf?: (e: unknown) => number;
  options?: Partial<PollOptions>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * pollDocument GETs a document until it is ready or failed: after
 * pollDelay(0), then with backoff; failed GETs are retried up to maxErrors
 * in a row, except a fatal one; a 404 means it was deleted meanwhile.
 */
export async function pollDocument(d: PollDeps): Promise<PollEnd> {
  const o = { ...POLL, ...d.options };
  const sleep = d.sleep ?? defaultSleep;
  let last: KnowledgeDocument | null = null;
  let errors = 0;
  for (let attempt = 0; attempt < o.maxAttempts; attempt++) {
    await sleep(pollDelay(attempt, o));
    if (d.signal?.aborted) return { end: 'stopped' };
    try {
      const doc = await d.get();
      if (d.signal?.aborted) return { end: 'stopped' };
      errors = 0;
      last = doc;
      d.onUpdate?.(doc);
      if (settled(doc)) return { end: 'settled', doc };
    } catch (e) {
      if (d.signal?.aborted) return { end: 'stopped' };
      if (d.statusOf?.(e) === 404) return { end: 'gone' };
      if (d.fatal?.(e) || ++errors >= o.maxErrors) return { end: 'error', error: e };
    }
  }
  return { end: 'gave_up', doc: last };
}

// Search.

export interface SearchForm {
  query: string;
  k: number;
  kinds: string[];
  /** comma-separated */
  tags: string;
  language: string;
  /** YYYY-MM-DD: only documents valid on that day; "" for any */
  at: string;
}

export const emptySearch: SearchForm = { query: '', k: 5, kinds: [], tags: '', language: '', at: '' };

/** clampK keeps k within 1..20 (5 when it is not a number). */
export function clampK(k: number): number {
  if (!Number.isFinite(k)) return 5;
  return Math.min(20, Math.max(1, Math.round(k)));
}

/** searchRequest builds the body of POST /knowledge/search, leaving out the filters not set. */
export function searchRequest(f: SearchForm): KnowledgeSearchRequest {
  const filters: NonNullable<KnowledgeSearchRequest['filters']> = {};
  if (f.kinds.length) filters.kind = [...f.kinds];
  const tags = parseTags(f.tags);
  if (tags.length) filters.tags = tags;
  if (f.language.trim()) filters.language = f.language.trim();
  if (f.at) filters.at = f.at.includes('T') ? f.at : `${f.at}T12:00:00Z`;
  const req: KnowledgeSearchRequest = { query: f.query.trim(), k: clampK(f.k) };
  if (Object.keys(filters).length) req.filters = filters;
  return req;
}

/** bestRelevance is the answer's best relevance: its best field, else the highest of the results (0 when there are none). */
export function bestRelevance(r: Pick<KnowledgeSearchResponse, 'results' | 'best'>): number {
  if (typeof r.best === 'number' && Number.isFinite(r.best)) return r.best;
  return (r.results ?? []).reduce((m, x) => Math.max(m, Number.isFinite(x.relevance) ? x.relevance : 0), 0);
}

/** fixed writes a score with 2 digits (3 below 0.1, so small scores do not read as 0.00); "—" when it is not a number. */
export function fixed(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.abs(n) < 0.1 && n !== 0 ? n.toFixed(3) : n.toFixed(2);
}

/** noRelevantText is the banner of an answer whose best relevance is below the threshold; "" when it is relevant. */
export function noRelevantText(r: KnowledgeSearchResponse): string {
  if (r.relevant) return '';
  return `No relevant documents (best relevance ${fixed(bestRelevance(r))} below threshold ${fixed(r.threshold)})`;
}

/** relevanceWidth is the width of a relevance bar: "0%" to "100%" (relevance is 0..1; outside values are clamped). */
export function relevanceWidth(relevance: number | null | undefined): string {
  const v = relevance === null || relevance === undefined || !Number.isFinite(relevance) ? 0 : relevance;
  return `${Math.round(Math.min(1, Math.max(0, v)) * 100)}%`;
}

/**
 * passageLabel names a passage: "Returns policy › How long do I have?"; the
 * title alone when there is no heading, or the heading is the title (a
 * document's first heading often is).
 */
export function passageLabel(p: { title: string; heading?: string | null }): string {
  const title = p.title || 'Untitled';
  const heading = (p.heading ?? '').trim();
  return heading && heading.toLowerCase() !== title.trim().toLowerCase() ? `${title} › ${heading}` : title;
}

// Citations.

/** docHref is the knowledge page showing document id. */
export function docHref(id: string): string {
  return `/knowledge?${new URLSearchParams({ doc: id })}`;
}

/** docIdFromSearch reads the document to show from the page's query (?doc=…), "" when none. */
export function docIdFromSearch(search: string): string {
  return new URLSearchParams(search).get('doc') ?? '';
}

/** sortedCitations answers a message's citations by number, each number once (null and absent read as none). */
export function sortedCitations(c: readonly Citation[] | null | undefined): Citation[] {
  const out: Citation[] = [];
  for (const x of [...(c ?? [])].sort((a, b) => a.n - b.n)) if (out[out.length - 1]?.n !== x.n) out.push(x);
  return out;
}

// Coverage.

/** localDay writes a Date as a date input's value in local time (YYYY-MM-DD). */
export function localDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** defaultRange is the last 7 days up to today, as date input values: { from: today − 6 days, to: today }. */
export function defaultRange(now: Date = new Date()): { from: string; to: string } {
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 6);
  return { from: localDay(from), to: localDay(now) };
}

/**
 * rangeTimes turns a range of local days (date input values, both included)
 * into the API's RFC 3339 times: from the first day's local midnight to the
 * midnight after the last day; null when a day is not a date or to is before from.
 */
export function rangeTimes(from: string, to: string): { from: string; to: string } | null {
  const day = (s: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
  };
  const a = day(from);
  const b = day(to);
  if (!a || !b || b < a) return null;
  const end = new Date(b.getFullYear(), b.getMonth(), b.getDate() + 1);
  return { from: a.toISOString(), to: end.toISOString() };
}

/** percent writes a share (0..1) as a whole percentage: 0.666 → "67%"; "—" when it is not a number. */
export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
}

/** csvFilename is the download's name: knowledge-coverage-2025-03-01-to-2025-03-07.csv (the days as chosen). */
export function csvFilename(from: string, to: string): string {
  const safe = (s: string) => s.replace(/[^0-9A-Za-z-]/g, '');
  return `knowledge-coverage-${safe(from) || 'start'}-to-${safe(to) || 'now'}.csv`;
}

/** coverageTone colours a topic's coverage: at least 80% ok, at least 50% warn, else bad. */
export function coverageTone(coverage: number): Tone {
  return coverage >= 0.8 ? 'ok' : coverage >= 0.5 ? 'warn' : 'bad';
}

/** uploadErrorText says why the server refused a document, by the API's error code. */
export function uploadErrorText(status: number, code: string, message: string): string {
  const why = message ? `: ${message}` : '';
  if (status === 0) return message || 'The upload failed: no answer from the server.';
  if (status === 401) return 'Your session ended: sign in again.';
  if (status === 403) return 'Only supervisors and admins may add or change documents.';
  if (status === 413 || code === 'too_large') return `The file is too large${why}`;
  if (code === 'unsupported_type') return `frontdesk does not read this file type${why}`;
  if (status === 422 || code === 'unreadable') return `The file could not be read${why}`;
  if (status === 400 || code === 'invalid') return `The document was refused${why}`;
  return `The upload failed (${status})${why}`;
}
