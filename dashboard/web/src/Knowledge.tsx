// The Knowledge page (every role reads; admins and supervisors write): the
// documents the AI answers from (GET /api/v1/knowledge/documents), an upload
// form for writers (a file sent as multipart with XMLHttpRequest, so the
// upload's progress shows, or pasted text as JSON), each new document or
// version polled (GET /{id}, with backoff) until it is ready or failed, a new
// version or a delete (after a confirmation step) per row, a document's
// passages, and a search playground (POST /knowledge/search) that shows what
// the AI's retrieval finds for a question. Knowledge loads and sends; the
// *View components only render (tests render them on the server). The logic
// lives in knowledge.ts.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Api, type Upload } from './api';
import { safeHref } from './commerce';
import {
  ACCEPT,
  KINDS,
  appendDocuments,
  emptySearch,
  emptyUploadForm,
  fixed,
  formatBytes,
  kindLabel,
  knowledgeForm,
  noRelevantText,
  passageLabel,
  placeholderDocument,
  pollDocument,
  relevanceWidth,
  searchRequest,
  sourceLabel,
  statusTone,
  textBody,
  uploadErrorText,
  uploadFields,
  uploadPercent,
  upsertDocument,
  validateUpload,
  versionFields,
  type SearchForm,
  type UploadForm,
} from './knowledge';
import { can } from './roles';
import { Badge, When } from './ui';
import type { KnowledgeChunk, KnowledgeDocument, KnowledgeSearchResponse, Role } from './types';

/** PAGE is how many documents a page of the list holds. */
const PAGE = 50;

interface Props {
  api: Api;
  role: Role;
  /** the document shown in detail (?doc=…), "" for none */
  docId: string;
  onSelectDoc: (id: string) => void;
  onUnauthorized: () => void;
}

/** UploadState is the upload in progress or the last one's outcome. */
export interface UploadState {
  phase: 'idle' | 'uploading' | 'done' | 'error';
  /** 0..100 */
  percent: number;
  /** the file's name, or the pasted document's title */
  name: string;
  error: string;
}

const idleUpload: UploadState = { phase: 'idle', percent: 0, name: '', error: '' };

/** Signal stops one document's poll; wake ends its current wait at once. */
interface Signal {
  aborted: boolean;
  wake?: () => void;
}

function sleepFor(sig: Signal) {
  return (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      sig.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
}

const is401 = (e: unknown) => e instanceof ApiError && e.status === 401;
const statusOf = (e: unknown) => (e instanceof ApiError ? e.status : 0);

/** Knowledge is the page: it loads the documents, uploads, polls, deletes and searches. */
export function Knowledge({ api, role, docId, onSelectDoc, onUnauthorized }: Props) {
  const writer = can.editKnowledge(role);
  const [docs, setDocs] = useState<KnowledgeDocument[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const [listFilter, setListFilter] = useState({ status: '', kind: '' });
  const [upload, setUpload] = useState<UploadState>(idleUpload);
  const [rows, setRows] = useState<Record<string, RowState>>({});
  const [detail, setDetail] = useState<{ doc: KnowledgeDocument | null; chunks: KnowledgeChunk[] | null; error: string }>({ doc: null, chunks: null, error: '' });
  const [search, setSearch] = useState<SearchForm>(emptySearch);
  const [result, setResult] = useState<KnowledgeSearchResponse | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState('');
  const seq = useRef(0);
  const polls = useRef(new Map<string, Signal>());
  const uploads = useRef(new Set<Upload<unknown>>());
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  const docRef = useRef(docId);
  docRef.current = docId;

  const setRow = (id: string, f: (r: RowState) => RowState) => setRows((m) => ({ ...m, [id]: f(m[id] ?? idleRow) }));

  const loadDetail = (id: string) => {
    api.knowledgeDocument(id).then(
      (doc) => {
        if (docRef.current !== id) return;
        setDetail((d) => ({ ...d, doc, error: '' }));
        setDocs((l) => (l && l.some((x) => x.id === id) ? upsertDocument(l, doc) : l));
      },
      (e) => {
        if (is401(e)) return unauthorized.current();
        if (docRef.current === id) setDetail({ doc: null, chunks: null, error: statusOf(e) === 404 ? 'There is no such document (it may have been deleted).' : `Could not load the document: ${(e as Error).message}` });
      },
    );
    api.knowledgeChunks(id).then(
      (chunks) => docRef.current === id && setDetail((d) => ({ ...d, chunks })),
      (e) => {
        if (is401(e)) return unauthorized.current();
        if (docRef.current === id && statusOf(e) !== 404) setDetail((d) => ({ ...d, chunks: [], error: d.error || `Could not load the passages: ${(e as Error).message}` }));
      },
    );
  };

  /** watch polls document id until it is ready or failed (once per id at a time). */
  const watch = (id: string) => {
    if (polls.current.has(id)) return;
    const sig: Signal = { aborted: false };
    polls.current.set(id, sig);
    pollDocument({
      get: () => api.knowledgeDocument(id),
      signal: sig,
      sleep: sleepFor(sig),
      fatal: is401,
      statusOf,
      onUpdate: (doc) => setDocs((l) => (l ? upsertDocument(l, doc) : [doc])),
    }).then((end) => {
      if (polls.current.get(id) === sig) polls.current.delete(id);
      if (end.end === 'gone') setDocs((l) => l?.filter((d) => d.id !== id) ?? l);
      if (end.end === 'error') {
        if (is401(end.error)) return unauthorized.current();
        setRow(id, (r) => ({ ...r, error: `Could not follow its processing: ${(end.error as Error).message}` }));
      }
      if (end.end === 'gave_up') setRow(id, (r) => ({ ...r, error: 'Still processing: refresh the list later.' }));
      if (end.end === 'settled' && docRef.current === id) loadDetail(id);
    });
  };

  const stopWatching = (id: string) => {
    const sig = polls.current.get(id);
    if (!sig) return;
    sig.aborted = true;
    sig.wake?.();
    polls.current.delete(id);
  };

  const load = (more = false) => {
    const my = ++seq.current;
    setLoading(true);
    setError('');
    api.knowledgeDocuments({ limit: PAGE, cursor: more ? cursor : '', status: listFilter.status, kind: listFilter.kind }).then(
      (page) => {
        if (my !== seq.current) return;
        const list = page.documents ?? [];
        setDocs((l) => (more && l ? appendDocuments(l, list) : list));
        setCursor(page.next_cursor ?? '');
        setLoading(false);
        for (const d of list) if (d.status === 'processing') watch(d.id);
      },
      (e) => {
        if (my !== seq.current) return;
        setLoading(false);
        if (is401(e)) return unauthorized.current();
        setError(`Could not load the documents: ${(e as Error).message}`);
      },
    );
  };

  useEffect(() => {
    load();
  }, [listFilter.status, listFilter.kind]);

  // Unmounted: every poll stops and every upload is cancelled.
  useEffect(
    () => () => {
      seq.current++;
      for (const sig of polls.current.values()) {
        sig.aborted = true;
        sig.wake?.();
      }
      polls.current.clear();
      for (const u of uploads.current) u.abort();
      uploads.current.clear();
    },
    [],
  );

  useEffect(() => {
    setDetail({ doc: docs?.find((d) => d.id === docId) ?? null, chunks: null, error: '' });
    if (docId) loadDetail(docId);
  }, [docId]);

  /** accepted shows a document the server took (processing) and polls it. */
  const accepted = (id: string, version: number, fields: Record<string, string>, size: number) => {
    const now = new Date().toISOString();
    setDocs((l) => {
      const known = l?.find((d) => d.id === id);
      const doc = known ? { ...known, status: 'processing', error: '', version, updated_at: now } : placeholderDocument(id, version, fields, size, now);
      return upsertDocument(l ?? [], doc);
    });
    watch(id);
  };

  const sendFile = async (file: File, form: UploadForm) => {
    const problem = validateUpload(form, file);
    if (problem) {
      setUpload({ phase: 'error', percent: 0, name: file.name, error: problem });
      return false;
    }
    const fields = uploadFields(form, file.name);
    setUpload({ phase: 'uploading', percent: 0, name: file.name, error: '' });
    const up = api.uploadKnowledge(knowledgeForm(file, fields), (l, t) => setUpload((u) => (u.phase === 'uploading' ? { ...u, percent: uploadPercent(l, t) } : u)));
    uploads.current.add(up);
    try {
      const r = await up.promise;
      setUpload({ phase: 'done', percent: 100, name: file.name, error: '' });
      accepted(r.id, r.version || 1, fields, file.size);
      return true;
    } catch (e) {
      if (is401(e)) unauthorized.current();
      const err = e as ApiError;
      setUpload({ phase: 'error', percent: 0, name: file.name, error: uploadErrorText(err.status ?? 0, err.code ?? '', err.message) });
      return false;
    } finally {
      uploads.current.delete(up);
    }
  };

  const sendText = async (form: UploadForm, content: string, format: string) => {
    const problem = validateUpload(form, null, content);
    if (problem) {
      setUpload({ phase: 'error', percent: 0, name: form.title, error: problem });
      return false;
    }
    setUpload({ phase: 'uploading', percent: 0, name: form.title.trim(), error: '' });
    try {
      const body = textBody(form, content, format);
      const r = await api.createKnowledgeText(body);
      setUpload({ phase: 'done', percent: 100, name: form.title.trim(), error: '' });
      accepted(r.id, r.version || 1, uploadFields(form), new Blob([content]).size);
      return true;
    } catch (e) {
      if (is401(e)) unauthorized.current();
      const err = e as ApiError;
      setUpload({ phase: 'error', percent: 0, name: form.title, error: uploadErrorText(err.status ?? 0, err.code ?? '', err.message) });
      return false;
    }
  };

  const sendVersion = async (doc: KnowledgeDocument, file: File) => {
    const problem = validateUpload({ ...emptyUploadForm, title: doc.title }, file);
    if (problem) return setRow(doc.id, (r) => ({ ...r, error: problem }));
    setRow(doc.id, (r) => ({ ...r, busy: 'version', percent: 0, error: '' }));
    const up = api.uploadKnowledge(knowledgeForm(file, versionFields(doc)), (l, t) => setRow(doc.id, (r) => ({ ...r, percent: uploadPercent(l, t) })), doc.id);
    uploads.current.add(up);
    try {
      const r = await up.promise;
      setRow(doc.id, () => idleRow);
      accepted(doc.id, r.version, {}, file.size);
    } catch (e) {
      if (is401(e)) return unauthorized.current();
      const err = e as ApiError;
      setRow(doc.id, (r) => ({ ...r, busy: null, percent: 0, error: uploadErrorText(err.status ?? 0, err.code ?? '', err.message) }));
    } finally {
      uploads.current.delete(up);
    }
  };

  const remove = async (doc: KnowledgeDocument) => {
    setRow(doc.id, (r) => ({ ...r, busy: 'delete', error: '' }));
    try {
      await api.deleteKnowledgeDocument(doc.id);
      stopWatching(doc.id);
      setDocs((l) => l?.filter((d) => d.id !== doc.id) ?? l);
      setRows(({ [doc.id]: _, ...rest }) => rest);
      if (docRef.current === doc.id) onSelectDoc('');
    } catch (e) {
      if (is401(e)) return unauthorized.current();
      const status = statusOf(e);
      setRow(doc.id, (r) => ({
        ...r,
        busy: null,
        confirming: false,
        error: status === 403 ? 'Only supervisors and admins may delete documents.' : `Could not delete it: ${(e as Error).message}`,
      }));
    }
  };

  const runSearch = async () => {
    const req = searchRequest(search);
    if (!req.query) return setSearchError('Type a question to search for.');
    setSearching(true);
    setSearchError('');
    setResult(null);
    try {
      setResult(await api.searchKnowledge(req));
    } catch (e) {
      if (is401(e)) return unauthorized.current();
      setResult(null);
      setSearchError(`The search failed: ${(e as Error).message}`);
    } finally {
      setSearching(false);
    }
  };

  return (
    <main className="knowledge detail" data-testid="knowledge-page">
      <div className="page-head">
        <h2>Knowledge</h2>
        <button type="button" data-testid="knowledge-refresh" onClick={() => load()} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <p className="muted">
        The AI answers customers from these documents and cites the passages it used. Each document is split into passages once it is processed.
      </p>
      {writer ? (
        <UploadPanel upload={upload} onFile={sendFile} onText={sendText} />
      ) : (
        <p className="muted small" data-testid="knowledge-readonly">
          Only supervisors and admins add, replace or delete documents.
        </p>
      )}
      <DocumentsView
        docs={docs}
        loading={loading}
        error={error}
        writer={writer}
        selected={docId}
        filter={listFilter}
        onFilter={setListFilter}
        hasMore={!!cursor}
        onMore={() => load(true)}
        row={(d) => ({
          ...(rows[d.id] ?? idleRow),
          onSelect: () => onSelectDoc(d.id === docId ? '' : d.id),
          onConfirm: (on) => setRow(d.id, (r) => ({ ...r, confirming: on, error: '' })),
          onDelete: () => remove(d),
          onVersionOpen: (on) => setRow(d.id, (r) => ({ ...r, versionOpen: on, error: '' })),
          onVersion: (f) => sendVersion(d, f),
        })}
      />
      {docId && <DocumentDetailView id={docId} doc={detail.doc ?? docs?.find((d) => d.id === docId) ?? null} chunks={detail.chunks} error={detail.error} onClose={() => onSelectDoc('')} />}
      <SearchPanel form={search} onForm={setSearch} busy={searching} error={searchError} result={result} onSearch={runSearch} onOpenDoc={onSelectDoc} />
    </main>
  );
}

// Upload.

function Field({ label, children, wide }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <label className={wide ? 'wide' : ''}>
      <span className="small muted">{label}</span>
      {children}
    </label>
  );
}

/** MetaFields are the fields a file upload and pasted text share. */
function MetaFields({ form, onForm, prefix, titlePlaceholder }: { form: UploadForm; onForm: (f: UploadForm) => void; prefix: string; titlePlaceholder: string }) {
  const set = (k: keyof UploadForm) => (e: { target: { value: string } }) => onForm({ ...form, [k]: e.target.value });
  return (
    <>
      <Field label="Title">
        <input data-testid={`${prefix}-title`} value={form.title} maxLength={300} placeholder={titlePlaceholder} onChange={set('title')} />
      </Field>
      <Field label="Kind">
        <select data-testid={`${prefix}-kind`} value={form.kind} onChange={set('kind')}>
          <option value="">Default</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {kindLabel(k)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Tags (comma-separated)">
        <input data-testid={`${prefix}-tags`} value={form.tags} placeholder="returns, shipping" onChange={set('tags')} />
      </Field>
      <Field label="Language (optional)">
        <input data-testid={`${prefix}-language`} value={form.language} placeholder="en" size={6} onChange={set('language')} />
      </Field>
      <Field label="Source URL (optional)">
        <input data-testid={`${prefix}-source-url`} type="url" value={form.source_url} placeholder="https://help.example.com/returns" onChange={set('source_url')} />
      </Field>
      <Field label="Valid from (optional)">
        <input data-testid={`${prefix}-valid-from`} type="date" value={form.valid_from} onChange={set('valid_from')} />
      </Field>
      <Field label="Valid until (optional)">
        <input data-testid={`${prefix}-valid-until`} type="date" value={form.valid_until} onChange={set('valid_until')} />
      </Field>
    </>
  );
}

interface UploadPanelProps {
  upload: UploadState;
  /** sends the file; answers whether the server took it */
  onFile: (file: File, form: UploadForm) => Promise<boolean>;
  onText: (form: UploadForm, content: string, format: string) => Promise<boolean>;
}

/** UploadPanel is the writers' form: a file (with its upload progress) or pasted text. */
function UploadPanel({ upload, onFile, onText }: UploadPanelProps) {
  const [mode, setMode] = useState<'file' | 'text'>('file');
  const [form, setForm] = useState<UploadForm>(emptyUploadForm);
  const [file, setFile] = useState<File | null>(null);
  const [content, setContent] = useState('');
  const [format, setFormat] = useState('markdown');
  const [inputKey, setInputKey] = useState(0);
  const busy = upload.phase === 'uploading';
  return (
    <UploadPanelView
      mode={mode}
      onMode={setMode}
      form={form}
      onForm={setForm}
      fileName={file?.name ?? ''}
      inputKey={inputKey}
      onFile={setFile}
      content={content}
      onContent={setContent}
      format={format}
      onFormat={setFormat}
      upload={upload}
      onSubmit={async () => {
        if (busy || (mode === 'file' && !file)) return;
        const ok = mode === 'file' && file ? await onFile(file, form) : await onText(form, content, format);
        if (ok) {
          setForm(emptyUploadForm);
          setFile(null);
          setContent('');
          setInputKey((k) => k + 1);
        }
      }}
    />
  );
}

export interface UploadPanelViewProps {
  mode: 'file' | 'text';
  onMode: (m: 'file' | 'text') => void;
  form: UploadForm;
  onForm: (f: UploadForm) => void;
  fileName: string;
  /** changes to clear the file input */
  inputKey?: number;
  onFile: (f: File | null) => void;
  content: string;
  onContent: (t: string) => void;
  format: string;
  onFormat: (f: string) => void;
  upload: UploadState;
  onSubmit: () => void;
}

/** UploadPanelView renders the upload form and the progress of the upload. */
export function UploadPanelView(p: UploadPanelViewProps) {
  const busy = p.upload.phase === 'uploading';
  const ready = p.mode === 'file' ? !!p.fileName : !!p.content.trim() && !!p.form.title.trim();
  return (
    <section className="knowledge-upload" data-testid="upload-form">
      <div className="composer-tabs" role="tablist">
        <button type="button" role="tab" data-testid="upload-mode-file" aria-selected={p.mode === 'file'} className={p.mode === 'file' ? 'active' : ''} onClick={() => p.onMode('file')}>
          Upload a file
        </button>
        <button type="button" role="tab" data-testid="upload-mode-text" aria-selected={p.mode === 'text'} className={p.mode === 'text' ? 'active' : ''} onClick={() => p.onMode('text')}>
          Paste text
        </button>
      </div>
      <form
        className="knowledge-form"
        onSubmit={(e) => {
          e.preventDefault();
          p.onSubmit();
        }}
      >
        {p.mode === 'file' ? (
          <>
            <Field label="File (Markdown, HTML, text, PDF or CSV)" wide>
              <input key={p.inputKey} data-testid="upload-file" type="file" accept={ACCEPT} disabled={busy} onChange={(e) => p.onFile(e.target.files?.[0] ?? null)} />
            </Field>
            <MetaFields form={p.form} onForm={p.onForm} prefix="upload" titlePlaceholder={p.fileName ? p.fileName.replace(/\.[^.]+$/, '') : 'the file’s name'} />
          </>
        ) : (
          <>
            <MetaFields form={p.form} onForm={p.onForm} prefix="paste" titlePlaceholder="Returns policy" />
            <Field label="Format">
              <select data-testid="paste-format" value={p.format} onChange={(e) => p.onFormat(e.target.value)}>
                <option value="markdown">Markdown</option>
                <option value="text">Plain text</option>
                <option value="html">HTML</option>
                <option value="csv">CSV (question,answer)</option>
              </select>
            </Field>
            <Field label="Content" wide>
              <textarea data-testid="paste-content" value={p.content} onChange={(e) => p.onContent(e.target.value)} placeholder="# Returns policy…" />
            </Field>
          </>
        )}
        <div className="wide knowledge-submit">
          <button type="submit" data-testid={p.mode === 'file' ? 'upload-submit' : 'paste-submit'} disabled={busy || !ready}>
            {busy ? 'Uploading…' : p.mode === 'file' ? 'Upload' : 'Add document'}
          </button>
          {p.upload.phase !== 'idle' && (
            <span className="upload-progress" data-testid="upload-progress" data-phase={p.upload.phase} data-percent={p.upload.percent}>
              <progress max={100} value={p.upload.percent} aria-label={`Upload of ${p.upload.name}`} />{' '}
              <span className="small">
                {p.upload.phase === 'uploading'
                  ? `Uploading ${p.upload.name}: ${p.upload.percent}%`
                  : p.upload.phase === 'done'
                    ? `Uploaded ${p.upload.name} (100%): processing…`
                    : `${p.upload.name ? `${p.upload.name}: ` : ''}not uploaded`}
              </span>
            </span>
          )}
        </div>
        {p.upload.phase === 'error' && (
          <p className="error wide" role="alert" data-testid="upload-error">
            {p.upload.error}
          </p>
        )}
      </form>
    </section>
  );
}

// Documents.

/** RowState is what one row shows beyond its document. */
export interface RowState {
  /** the delete is being confirmed */
  confirming: boolean;
  versionOpen: boolean;
  busy: 'delete' | 'version' | null;
  /** the new version's upload, 0..100 */
  percent: number;
  error: string;
}

const idleRow: RowState = { confirming: false, versionOpen: false, busy: null, percent: 0, error: '' };

export interface RowActions extends RowState {
  onSelect: () => void;
  onConfirm: (on: boolean) => void;
  onDelete: () => void;
  onVersionOpen: (on: boolean) => void;
  onVersion: (f: File) => void;
}

export interface DocumentsViewProps {
  /** null until the first answer */
  docs: readonly KnowledgeDocument[] | null;
  loading: boolean;
  error: string;
  /** may upload, replace and delete */
  writer: boolean;
  selected: string;
  filter: { status: string; kind: string };
  onFilter: (f: { status: string; kind: string }) => void;
  hasMore: boolean;
  onMore: () => void;
  row: (d: KnowledgeDocument) => RowActions;
  locale?: string;
}

/** DocumentsView renders the list of documents, with each row's actions for writers. */
export function DocumentsView({ docs, loading, error, writer, selected, filter, onFilter, hasMore, onMore, row, locale }: DocumentsViewProps) {
  return (
    <section className="knowledge-docs">
      <div className="tl-filters">
        <h3 className="section-title">Documents</h3>
        <select aria-label="status" data-testid="docs-filter-status" value={filter.status} onChange={(e) => onFilter({ ...filter, status: e.target.value })}>
          <option value="">Any status</option>
          <option value="processing">Processing</option>
          <option value="ready">Ready</option>
          <option value="failed">Failed</option>
        </select>
        <select aria-label="kind" data-testid="docs-filter-kind" value={filter.kind} onChange={(e) => onFilter({ ...filter, kind: e.target.value })}>
          <option value="">Any kind</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {kindLabel(k)}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="docs-error">
          {error}
        </p>
      )}
      {docs === null && loading && (
        <p className="muted" role="status" data-testid="docs-loading">
          Loading documents…
        </p>
      )}
      {docs !== null && docs.length === 0 && (
        <p className="muted" data-testid="docs-empty">
          {filter.status || filter.kind ? 'No document matches.' : writer ? 'No document yet: upload one above.' : 'No document yet.'}
        </p>
      )}
      {docs !== null && docs.length > 0 && (
        <table className="money-table knowledge-table">
          <thead>
            <tr>
              <th>Title</th>
              <th>Status</th>
              <th>Kind</th>
              <th>Tags</th>
              <th>Language</th>
              <th className="num">Version</th>
              <th className="num">Passages</th>
              <th>Updated</th>
              <th>Source</th>
              {writer && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {docs.map((d) => (
              <DocumentRow key={d.id} d={d} writer={writer} selected={d.id === selected} locale={locale} {...row(d)} />
            ))}
          </tbody>
        </table>
      )}
      {hasMore && (
        <button type="button" className="more" data-testid="docs-more" onClick={onMore} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function DocumentRow({ d, writer, selected, locale, ...r }: RowActions & { d: KnowledgeDocument; writer: boolean; selected: boolean; locale?: string }) {
  const off = r.busy !== null;
  const cols = writer ? 10 : 9;
  return (
    <>
      <tr data-testid="doc-row" data-doc-id={d.id} data-status={d.status} className={selected ? 'selected' : ''}>
        <td>
          <a
            href={`/knowledge?doc=${encodeURIComponent(d.id)}`}
            data-testid="doc-title"
            onClick={(e) => {
              e.preventDefault();
              r.onSelect();
            }}
          >
            {d.title || 'Untitled'}
          </a>
          <div className="muted small">
            {d.format || '—'} · {formatBytes(d.size_bytes)}
          </div>
        </td>
        <td>
          <Badge tone={statusTone(d.status)} testid="doc-status" title={d.error || 'Processing status'}>
            {d.status || 'unknown'}
          </Badge>
          {d.status === 'failed' && d.error && (
            <div className="error small" data-testid="doc-error">
              {d.error}
            </div>
          )}
        </td>
        <td data-testid="doc-kind">{kindLabel(d.kind)}</td>
        <td data-testid="doc-tags">
          {(d.tags ?? []).length ? (
            (d.tags ?? []).map((t) => (
              <span key={t} className="chip">
                {t}
              </span>
            ))
          ) : (
            <span className="muted">—</span>
          )}
        </td>
        <td data-testid="doc-language">{d.language || '—'}</td>
        <td className="num" data-testid="doc-version">
          {d.version}
        </td>
        <td className="num" data-testid="doc-chunks">
          {d.status === 'ready' ? d.chunk_count : '—'}
        </td>
        <td data-testid="doc-updated">
          <When at={d.updated_at} locale={locale} />
        </td>
        <td data-testid="doc-source">
          {sourceLabel(d.source)}
          {safeHref(d.source_url) && (
            <>
              {' · '}
              <a href={safeHref(d.source_url)} target="_blank" rel="noopener noreferrer" data-testid="doc-source-url">
                link
              </a>
            </>
          )}
        </td>
        {writer && (
          <td className="doc-actions">
            <button type="button" className="small" data-testid="doc-new-version" disabled={off} onClick={() => r.onVersionOpen(!r.versionOpen)}>
              Upload new version
            </button>{' '}
            <button type="button" className="small" data-testid="doc-delete" disabled={off} onClick={() => r.onConfirm(true)}>
              Delete
            </button>
          </td>
        )}
      </tr>
      {writer && (r.confirming || r.versionOpen || r.error) && (
        <tr className="doc-row-extra" data-testid="doc-row-extra" data-doc-id={d.id}>
          <td colSpan={cols}>
            {r.confirming && (
              <div className="dialog approval-confirm" role="alertdialog" data-testid="doc-delete-confirm">
                <strong>
                  Delete “{d.title || 'Untitled'}” and its {d.chunk_count} passage{d.chunk_count === 1 ? '' : 's'}?
                </strong>
                <span className="muted small">The AI stops answering from it at once. This cannot be undone.</span>
                <button type="button" className="reject" data-testid="doc-delete-yes" disabled={off} onClick={r.onDelete}>
                  {r.busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
                </button>
                <button type="button" data-testid="doc-delete-cancel" disabled={off} onClick={() => r.onConfirm(false)}>
                  Cancel
                </button>
              </div>
            )}
            {r.versionOpen && (
              <div className="doc-version" data-testid="doc-version-form">
                <label className="small">
                  New version of “{d.title || 'Untitled'}” (its title, kind and tags stay){' '}
                  <input
                    type="file"
                    accept={ACCEPT}
                    data-testid="doc-version-file"
                    disabled={off}
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      if (f) r.onVersion(f);
                    }}
                  />
                </label>
                {r.busy === 'version' && (
                  <span className="small" data-testid="doc-version-progress" data-percent={r.percent}>
                    <progress max={100} value={r.percent} /> {r.percent}%
                  </span>
                )}
                <button type="button" className="small" disabled={off} onClick={() => r.onVersionOpen(false)}>
                  Close
                </button>
              </div>
            )}
            {r.error && (
              <p className="error small" role="alert" data-testid="doc-row-error">
                {r.error}
              </p>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

export interface DocumentDetailViewProps {
  id: string;
  doc: KnowledgeDocument | null;
  /** null while loading */
  chunks: readonly KnowledgeChunk[] | null;
  error: string;
  onClose: () => void;
  locale?: string;
}

/** DocumentDetailView shows one document's details and its passages (heading, question, text), as text. */
export function DocumentDetailView({ id, doc, chunks, error, onClose, locale }: DocumentDetailViewProps) {
  return (
    <section className="doc-detail" data-testid="doc-detail" data-doc-id={id}>
      <div className="page-head">
        <h3 data-testid="doc-detail-title">{doc ? doc.title || 'Untitled' : 'Document'}</h3>
        <span className="spacer" />
        <button type="button" data-testid="doc-detail-close" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="doc-detail-error">
          {error}
        </p>
      )}
      {doc && (
        <dl className="facts">
          <div>
            <dt>Status</dt>
            <dd>
              <Badge tone={statusTone(doc.status)} testid="doc-detail-status">
                {doc.status}
              </Badge>
            </dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{kindLabel(doc.kind)}</dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd>{doc.version}</dd>
          </div>
          <div>
            <dt>Format</dt>
            <dd>{doc.format || '—'}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{formatBytes(doc.size_bytes)}</dd>
          </div>
          <div>
            <dt>Language</dt>
            <dd>{doc.language || '—'}</dd>
          </div>
          <div>
            <dt>Valid</dt>
            <dd>
              {doc.valid_from || doc.valid_until ? (
                <>
                  <When at={doc.valid_from} locale={locale} /> – <When at={doc.valid_until} locale={locale} />
                </>
              ) : (
                'always'
              )}
            </dd>
          </div>
          <div>
            <dt>Source</dt>
            <dd>
              {sourceLabel(doc.source)}
              {safeHref(doc.source_url) && (
                <>
                  {' · '}
                  <a href={safeHref(doc.source_url)} target="_blank" rel="noopener noreferrer">
                    {doc.source_url}
                  </a>
                </>
              )}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <When at={doc.created_at} locale={locale} />
            </dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>
              <When at={doc.updated_at} locale={locale} />
            </dd>
          </div>
        </dl>
      )}
      {doc?.status === 'failed' && (
        <p className="error banner" data-testid="doc-detail-failure">
          Processing failed: {doc.error || 'no reason given'}
        </p>
      )}
      {doc?.status === 'processing' && (
        <p className="muted" role="status">
          Processing: its passages show once it is ready.
        </p>
      )}
      <h4 className="section-title">Passages{chunks ? ` (${chunks.length})` : ''}</h4>
      {chunks === null ? (
        <p className="muted small">Loading passages…</p>
      ) : chunks.length === 0 ? (
        <p className="muted small" data-testid="doc-chunks-empty">
          No passages.
        </p>
      ) : (
        <ol className="chunk-list">
          {[...chunks]
            .sort((a, b) => a.ordinal - b.ordinal)
            .map((c) => (
              <li key={c.id} className="chunk" data-testid="chunk" data-chunk-id={c.id}>
                {c.heading && (
                  <div className="chunk-heading" data-testid="chunk-heading">
                    {c.heading}
                  </div>
                )}
                {c.question && (
                  <div className="chunk-question" data-testid="chunk-question">
                    Q: {c.question}
                  </div>
                )}
                <div className="chunk-text" data-testid="chunk-text">
                  {c.text}
                </div>
              </li>
            ))}
        </ol>
      )}
    </section>
  );
}

// Search playground.

export interface SearchPanelProps {
  form: SearchForm;
  onForm: (f: SearchForm) => void;
  busy: boolean;
  error: string;
  /** the last answer, null before any */
  result: KnowledgeSearchResponse | null;
  onSearch: () => void;
  onOpenDoc: (id: string) => void;
}

/** SearchPanel is the search playground: what the AI's retrieval finds for a question, and how sure it is. */
export function SearchPanel({ form, onForm, busy, error, result, onSearch, onOpenDoc }: SearchPanelProps) {
  const toggleKind = (k: string) => onForm({ ...form, kinds: form.kinds.includes(k) ? form.kinds.filter((x) => x !== k) : [...form.kinds, k] });
  return (
    <section className="knowledge-search" data-testid="search-panel">
      <h3 className="section-title">Search playground</h3>
      <p className="muted small">Ask what a customer would ask: the passages the AI would be given, best first.</p>
      <form
        className="knowledge-form"
        data-testid="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          onSearch();
        }}
      >
        <Field label="Question" wide>
          <input data-testid="search-query" value={form.query} placeholder="how many days to send something back" onChange={(e) => onForm({ ...form, query: e.target.value })} />
        </Field>
        <Field label="Results (k)">
          <input data-testid="search-k" type="number" min={1} max={20} value={form.k} onChange={(e) => onForm({ ...form, k: Number(e.target.value) })} />
        </Field>
        <fieldset className="kinds">
          <legend className="small muted">Kinds</legend>
          {KINDS.map((k) => (
            <label key={k} className={'chip toggle' + (form.kinds.includes(k) ? ' on' : '')}>
              <input type="checkbox" data-testid={`search-kind-${k}`} checked={form.kinds.includes(k)} onChange={() => toggleKind(k)} />
              {kindLabel(k)}
            </label>
          ))}
        </fieldset>
        <Field label="Tags">
          <input data-testid="search-tags" value={form.tags} placeholder="returns" onChange={(e) => onForm({ ...form, tags: e.target.value })} />
        </Field>
        <Field label="Language">
          <input data-testid="search-language" value={form.language} size={6} placeholder="en" onChange={(e) => onForm({ ...form, language: e.target.value })} />
        </Field>
        <Field label="Valid on (optional)">
          <input data-testid="search-at" type="date" value={form.at} onChange={(e) => onForm({ ...form, at: e.target.value })} />
        </Field>
        <div className="knowledge-submit">
          <button type="submit" data-testid="search-submit" disabled={busy || !form.query.trim()}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert" data-testid="search-error">
          {error}
        </p>
      )}
      {result && <SearchResultsView result={result} onOpenDoc={onOpenDoc} />}
    </section>
  );
}

/** SearchResultsView renders an answer of the search: a banner when nothing is relevant, then each passage with its scores. */
export function SearchResultsView({ result, onOpenDoc }: { result: KnowledgeSearchResponse; onOpenDoc?: (id: string) => void }) {
  const results = result.results ?? [];
  const banner = noRelevantText(result);
  return (
    <div className="search-results" data-testid="search-results" data-relevant={String(!!result.relevant)}>
      {result.mode && (
        <p className="muted small" data-testid="search-mode">
          {result.mode === 'lexical' ? 'Keywords only (no embedding model answered): paraphrases may be missed.' : `Search mode: ${result.mode} (keywords and meaning).`}
        </p>
      )}
      {banner && (
        <p className="error banner" role="status" data-testid="search-no-relevant">
          {banner}
        </p>
      )}
      {results.length === 0 ? (
        <p className="muted" data-testid="search-empty">
          No passage found.
        </p>
      ) : (
        <ol className="result-list">
          {results.map((r, i) => (
            <li
              key={r.chunk_id || `${r.document_id}:${i}`}
              className={'search-result' + (r.relevance < result.threshold ? ' below' : '')}
              data-testid="search-result"
              data-document-id={r.document_id}
              data-chunk-id={r.chunk_id}
            >
              <div className="result-head">
                <span className="result-rank" data-testid="result-rank">
                  #{i + 1}
                </span>
                <a
                  href={`/knowledge?doc=${encodeURIComponent(r.document_id)}`}
                  data-testid="result-label"
                  onClick={(e) => {
                    if (!onOpenDoc) return;
                    e.preventDefault();
                    onOpenDoc(r.document_id);
                  }}
                >
                  {passageLabel(r)}
                </a>
                {r.kind && <span className="chip">{kindLabel(r.kind)}</span>}
              </div>
              <div className="result-scores small">
                <span>
                  score <strong data-testid="result-score">{fixed(r.score)}</strong>
                </span>
                <span className="relevance" title={`relevance ${fixed(r.relevance)} (threshold ${fixed(result.threshold)})`}>
                  relevance <strong data-testid="result-relevance">{fixed(r.relevance)}</strong>{' '}
                  <span className="bar" aria-hidden="true">
                    <span className="bar-fill" data-testid="result-relevance-bar" style={{ width: relevanceWidth(r.relevance) }} />
                    <span className="bar-threshold" style={{ left: relevanceWidth(result.threshold) }} />
                  </span>
                </span>
                <span className="muted">
                  lexical <span data-testid="result-lexical">{fixed(r.lexical)}</span> · cosine <span data-testid="result-cosine">{fixed(r.cosine)}</span>
                </span>
              </div>
              {r.question && (
                <div className="chunk-question small" data-testid="result-question">
                  Q: {r.question}
                </div>
              )}
              <div className="result-snippet" data-testid="result-snippet">
                {r.snippet}
              </div>
              <details className="result-full">
                <summary className="small">Full passage</summary>
                <div className="chunk-text" data-testid="result-text">
                  {r.text}
                </div>
                {safeHref(r.source_url) && (
                  <a className="small" href={safeHref(r.source_url)} target="_blank" rel="noopener noreferrer">
                    {r.source_url}
                  </a>
                )}
              </details>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
