import { describe, expect, it } from 'vitest';
import { CoverageView, type CoverageViewProps } from '../src/Coverage';
import { CitationsView, MessageRow } from '../src/Inbox';
import { DocumentDetailView, DocumentsView, SearchResultsView, UploadPanelView, type DocumentsViewProps, type RowActions, type UploadPanelViewProps } from '../src/Knowledge';
import { emptyUploadForm } from '../src/knowledge';
import type { Citation, Coverage, KnowledgeSearchResponse, Message } from '../src/types';
import { knowledgeDoc as doc } from './fixtures';
import { render } from './html';

const noop = () => undefined;
const idleRow: RowActions = {
  confirming: false,
  versionOpen: false,
  busy: null,
  percent: 0,
  error: '',
  onSelect: noop,
  onConfirm: noop,
  onDelete: noop,
  onVersionOpen: noop,
  onVersion: noop,
};
const docs = (p: Partial<DocumentsViewProps>) =>
  render(
    <DocumentsView
      docs={[]}
      loading={false}
      error=""
      writer={true}
      selected=""
      filter={{ status: '', kind: '' }}
      onFilter={noop}
      hasMore={false}
      onMore={noop}
      row={() => idleRow}
      locale="en-US"
      {...p}
    />,
  );

describe('DocumentsView', () => {
  const list = [
    doc({ id: 'kd_1', status: 'ready', chunk_count: 3, tags: ['returns', 'refunds'], version: 2 }),
    doc({ id: 'kd_2', title: 'Manual', kind: 'product', status: 'processing', chunk_count: 0, tags: [], language: '', source: 'shopify', source_url: '' }),
    doc({ id: 'kd_3', title: 'Scan', kind: 'article', status: 'failed', error: 'PDF without text', chunk_count: 0, source_url: 'javascript:alert(1)' }),
  ];

  it('lists each document: status badge, kind, tags, language, version, passages, source', () => {
    const r = docs({ docs: list });
    expect(r.tags('doc-row').map((t) => /data-status="([^"]*)"/.exec(t)?.[1])).toEqual(['ready', 'processing', 'failed']);
    expect(r.byTestId('doc-title')).toEqual(['Returns policy', 'Manual', 'Scan']);
    expect(r.byTestId('doc-status')).toEqual(['ready', 'processing', 'failed']);
    expect(r.tags('doc-status').map((t) => /data-tone="([^"]*)"/.exec(t)?.[1])).toEqual(['ok', 'info', 'bad']);
    expect(r.byTestId('doc-error')).toEqual(['PDF without text']);
    expect(r.byTestId('doc-kind')).toEqual(['Policy', 'Product', 'Article']);
    expect(r.byTestId('doc-tags')).toEqual(['returnsrefunds', '—', 'returns']);
    expect(r.byTestId('doc-language')).toEqual(['en', '—', 'en']);
    expect(r.byTestId('doc-version')).toEqual(['2', '1', '1']);
    expect(r.byTestId('doc-chunks')).toEqual(['3', '—', '—']);
    expect(r.byTestId('doc-source')[1]).toBe('Shopify');
    // only http(s) sources link, in a new tab without the opener
    expect(r.tags('doc-source-url')).toHaveLength(1);
    expect(r.tags('doc-source-url')[0]).toContain('href="https://help.example.com/returns"');
    expect(r.tags('doc-source-url')[0]).toContain('rel="noopener noreferrer"');
    expect(r.html).not.toContain('javascript:');
    expect(r.byTestId('doc-new-version')).toHaveLength(3);
    expect(r.byTestId('doc-delete')).toHaveLength(3);
  });

  it('shows no upload, version or delete controls to a reader', () => {
    const r = docs({ docs: list, writer: false });
    expect(r.byTestId('doc-row')).toHaveLength(3);
    expect(r.byTestId('doc-new-version')).toEqual([]);
    expect(r.byTestId('doc-delete')).toEqual([]);
    expect(r.text).not.toContain('Actions');
  });

  it('asks before deleting, and shows a new version’s progress', () => {
    const r = docs({ docs: [list[0]], row: () => ({ ...idleRow, confirming: true }) });
    expect(r.byTestId('doc-delete-confirm')[0]).toContain('Delete “Returns policy” and its 3 passages?');
    expect(r.byTestId('doc-delete-yes')).toEqual(['Yes, delete']);
    const v = docs({ docs: [list[0]], row: () => ({ ...idleRow, versionOpen: true, busy: 'version', percent: 40 }) });
    expect(v.tags('doc-version-progress')[0]).toContain('data-percent="40"');
    expect(v.tags('doc-version-file')[0]).toContain('accept=".md,.markdown,.html,.htm,.txt,.pdf,.csv"');
  });

  it('says when there is nothing, and offers the next page', () => {
    expect(docs({ docs: [] }).byTestId('docs-empty')).toEqual(['No document yet: upload one above.']);
    expect(docs({ docs: [], filter: { status: 'failed', kind: '' } }).byTestId('docs-empty')).toEqual(['No document matches.']);
    expect(docs({ docs: null, loading: true }).byTestId('docs-loading')).toEqual(['Loading documents…']);
    expect(docs({ docs: [list[0]], hasMore: true }).byTestId('docs-more')).toEqual(['Load more']);
  });
});

describe('UploadPanelView', () => {
  const panel = (p: Partial<UploadPanelViewProps>) =>
    render(
      <UploadPanelView
        mode="file"
        onMode={noop}
        form={emptyUploadForm}
        onForm={noop}
        fileName=""
        onFile={noop}
        content=""
        onContent={noop}
        format="markdown"
        onFormat={noop}
        upload={{ phase: 'idle', percent: 0, name: '', error: '' }}
        onSubmit={noop}
        {...p}
      />,
    );

  it('takes the listed file types and shows the upload’s progress', () => {
    const idle = panel({});
    expect(idle.tags('upload-file')[0]).toContain('accept=".md,.markdown,.html,.htm,.txt,.pdf,.csv"');
    expect(idle.byTestId('upload-progress')).toEqual([]);
    expect(idle.tags('upload-submit')[0]).toContain('disabled');
    const going = panel({ fileName: 'Returns policy.md', upload: { phase: 'uploading', percent: 42, name: 'Returns policy.md', error: '' } });
    expect(going.tags('upload-progress')[0]).toContain('data-percent="42"');
    expect(going.byTestId('upload-progress')[0]).toContain('Uploading Returns policy.md: 42%');
    expect(going.html).toContain('<progress max="100" value="42"');
    expect(going.byTestId('upload-submit')).toEqual(['Uploading…']);
    expect(going.tags('upload-title')[0]).toContain('placeholder="Returns policy"');
    const done = panel({ upload: { phase: 'done', percent: 100, name: 'r.md', error: '' } });
    expect(done.byTestId('upload-progress')[0]).toContain('Uploaded r.md (100%)');
    const failed = panel({ upload: { phase: 'error', percent: 0, name: 'r.pdf', error: 'The file could not be read: PDF without text' } });
    expect(failed.byTestId('upload-error')).toEqual(['The file could not be read: PDF without text']);
  });

  it('pastes text: title, format and content', () => {
    const r = panel({ mode: 'text', form: { ...emptyUploadForm, title: 'FAQ' }, content: 'q,a' });
    expect(r.byTestId('upload-file')).toEqual([]);
    expect(r.byTestId('paste-content')).toEqual(['q,a']);
    expect(r.byTestId('paste-submit')).toEqual(['Add document']);
    expect(r.tags('paste-submit')[0]).not.toContain('disabled');
  });
});

describe('DocumentDetailView', () => {
  it('shows the passages as text (heading, question, text), never as HTML', () => {
    const r = render(
      <DocumentDetailView
        id="kd_1"
        doc={doc()}
        chunks={[
          { id: 'c2', ordinal: 2, heading: 'Refunds', question: '', text: 'Refunds take 5 days.' },
          { id: 'c1', ordinal: 1, heading: 'How long do I have to return an item?', question: 'How long?', text: '<img src=x onerror=alert(1)> within 30 days' },
        ]}
        error=""
        onClose={noop}
        locale="en-US"
      />,
    );
    expect(r.byTestId('chunk-heading')).toEqual(['How long do I have to return an item?', 'Refunds']);
    expect(r.byTestId('chunk-question')).toEqual(['Q: How long?']);
    expect(r.html).toContain('&lt;img src=x onerror=alert(1)&gt; within 30 days');
    expect(r.html).not.toContain('<img');
  });

  it('says why processing failed', () => {
    const r = render(<DocumentDetailView id="kd_3" doc={doc({ status: 'failed', error: 'PDF without text' })} chunks={[]} error="" onClose={noop} />);
    expect(r.byTestId('doc-detail-failure')).toEqual(['Processing failed: PDF without text']);
  });
});

describe('SearchResultsView', () => {
  const result = (over: Partial<KnowledgeSearchResponse> = {}): KnowledgeSearchResponse => ({
    results: [
      {
        document_id: 'kd_1',
        chunk_id: 'c1',
        title: 'Returns policy',
        heading: 'How long do I have to return an item?',
        score: 0.0328,
        relevance: 0.82,
        lexical: 0.41,
        cosine: 0.77,
        snippet: 'You can return any item within 30 days…',
        text: 'You can return any item within 30 days of delivery for a full refund.',
        source_url: 'https://help.example.com/returns',
        kind: 'policy',
      },
      { document_id: 'kd_2', chunk_id: 'c9', title: 'Manual', heading: '', score: 0.016, relevance: 0.2, lexical: 0, cosine: 0.3, snippet: 'Mug care', text: 'Mug care', source_url: '', kind: 'product' },
    ],
    relevant: true,
    threshold: 0.35,
    ...over,
  });

  it('shows each passage: rank, title › heading, score, relevance with its bar, lexical and cosine, the passage on expand', () => {
    const r = render(<SearchResultsView result={result()} />);
    expect(r.byTestId('result-rank')).toEqual(['#1', '#2']);
    expect(r.byTestId('result-label')).toEqual(['Returns policy › How long do I have to return an item?', 'Manual']);
    expect(r.byTestId('result-score')).toEqual(['0.033', '0.016']);
    expect(r.byTestId('result-relevance')).toEqual(['0.82', '0.20']);
    expect(r.tags('result-relevance-bar').map((t) => /width:(\d+%)/.exec(t)?.[1])).toEqual(['82%', '20%']);
    expect(r.byTestId('result-lexical')).toEqual(['0.41', '0.00']);
    expect(r.byTestId('result-cosine')).toEqual(['0.77', '0.30']);
    expect(r.byTestId('result-text')[0]).toBe('You can return any item within 30 days of delivery for a full refund.');
    expect(r.byTestId('search-no-relevant')).toEqual([]);
    expect(r.tags('search-result')[1]).toContain('class="search-result below"');
  });

  it('says clearly when nothing is relevant', () => {
    const r = render(<SearchResultsView result={result({ relevant: false, results: [result().results![1]] })} />);
    expect(r.byTestId('search-no-relevant')).toEqual(['No relevant documents (best relevance 0.20 below threshold 0.35)']);
    const none = render(<SearchResultsView result={{ results: null, relevant: false, threshold: 0.35, mode: 'lexical' }} />);
    expect(none.byTestId('search-mode')[0]).toMatch(/^Keywords only/);
    expect(none.byTestId('search-empty')).toEqual(['No passage found.']);
  });
});

describe('CitationsView', () => {
  const cites: Citation[] = [
    { n: 2, document_id: 'kd 2', chunk_id: 'c2', title: 'Shipping', heading: '', snippet: 'Ships in 2 days', source_url: 'javascript:alert(1)' },
    {
      n: 1,
      document_id: 'kd_1',
      chunk_id: 'c1',
      title: 'Returns policy',
      heading: 'How long do I have to return an item?',
      snippet: '<b>You can return</b> any item within 30 days of delivery',
      source_url: 'https://help.example.com/returns',
    },
  ];

  it('lists the sources by number: title › heading, the snippet as text, the source and the document links', () => {
    const r = render(<CitationsView citations={cites} />);
    expect(r.tags('citation').map((t) => /data-n="(\d+)"/.exec(t)?.[1])).toEqual(['1', '2']);
    expect(r.byTestId('citation-label')).toEqual(['Returns policy › How long do I have to return an item?', 'Shipping']);
    // escaped: the markup shows as text
    expect(r.byTestId('citation-snippet')[0]).toBe('&lt;b&gt;You can return&lt;/b&gt; any item within 30 days of delivery');
    expect(r.html).not.toContain('<b>');
    const src = r.tags('citation-source');
    expect(src).toHaveLength(1);
    expect(src[0]).toContain('href="https://help.example.com/returns"');
    expect(src[0]).toContain('target="_blank"');
    expect(src[0]).toContain('rel="noopener noreferrer"');
    expect(r.tags('citation-doc').map((t) => /href="([^"]*)"/.exec(t)?.[1])).toEqual(['/knowledge?doc=kd_1', '/knowledge?doc=kd+2']);
    expect(r.html).not.toContain('javascript:');
  });

  it('shows under an AI reply only, and nothing without citations', () => {
    const m: Message = { id: 'm1', direction: 'outbound', text: 'You have 30 days from delivery to return it.', kind: 'text', status: 'sent', sender: 'ai', created_at: '2025-03-01T10:00:00Z', citations: cites };
    const ai = render(<MessageRow m={m} users={{}} />);
    expect(ai.byTestId('citations')[0]).toContain('Sources');
    expect(ai.byTestId('citation')).toHaveLength(2);
    expect(render(<MessageRow m={{ ...m, citations: null }} users={{}} />).byTestId('citations')).toEqual([]);
    expect(render(<MessageRow m={{ ...m, direction: 'inbound', sender: '' }} users={{}} />).byTestId('citations')).toEqual([]);
  });
});

describe('CoverageView', () => {
  const data: Coverage = {
    from: '2025-02-23T00:00:00Z',
    to: '2025-03-02T00:00:00Z',
    threshold: 0.35,
    questions: 12,
    answered_with_sources: 8,
    share_answered: 0.6667,
    no_relevant_docs: 4,
    topics: [
      { label: 'returns', count: 6, unanswered: 3, coverage: 0.5, examples: ['how long to return?', 'can I send it back', 'third'], conversation_ids: ['conv_1', 'conv 2'] },
      { label: 'shipping', count: 6, unanswered: 1, coverage: 0.8333, examples: ['where is my parcel'], conversation_ids: [] },
    ],
  };
  const view = (p: Partial<CoverageViewProps>) =>
    render(
      <CoverageView
        range={{ from: '2025-02-24', to: '2025-03-02' }}
        onRange={noop}
        rangeError=""
        data={data}
        loading={false}
        error=""
        open={[]}
        onToggle={noop}
        onOpenConversation={noop}
        onDownload={noop}
        csv={{ busy: false, error: '' }}
        locale="en-US"
        {...p}
      />,
    );

  it('shows the totals and the topics ranked as sent, with two examples each', () => {
    const r = view({});
    expect(r.byTestId('coverage-questions')).toEqual(['12']);
    expect(r.byTestId('coverage-share')).toEqual(['67%']);
    expect(r.byTestId('coverage-no-relevant')).toEqual(['4']);
    expect(r.byTestId('coverage-topic-label')).toEqual(['returns', 'shipping']);
    expect(r.byTestId('coverage-topic-count')).toEqual(['6', '6']);
    expect(r.byTestId('coverage-topic-unanswered')).toEqual(['3', '1']);
    expect(r.byTestId('coverage-topic-coverage')).toEqual(['50%', '83%']);
    expect(r.byTestId('coverage-topic-examples')).toEqual(['“how long to return?”“can I send it back”', '“where is my parcel”']);
    expect(r.byTestId('coverage-topic-conversations')).toEqual([]);
    expect(r.byTestId('coverage-csv')).toEqual(['Download CSV']);
  });

  it('opens a topic’s conversations as inbox links', () => {
    const r = view({ open: ['returns'] });
    expect(r.tags('coverage-conversation').map((t) => /href="([^"]*)"/.exec(t)?.[1])).toEqual(['/inbox/conv_1', '/inbox/conv%202']);
    expect(r.tags('coverage-topic')[0]).toContain('data-open="true"');
  });

  it('says when there is no question, and a bad range', () => {
    expect(view({ data: { ...data, questions: 0, topics: null } }).byTestId('coverage-empty')).toEqual(['No questions in this range.']);
    const bad = view({ rangeError: 'Choose a start day on or before the end day.' });
    expect(bad.byTestId('coverage-range-error')).toHaveLength(1);
    expect(bad.tags('coverage-csv')[0]).toContain('disabled');
  });
});
