// The Coverage page (every role): how well the knowledge answered customers'
// questions over a range of days (GET /api/v1/knowledge/coverage): the
// questions, the share answered with sources, those with no relevant
// document, and the topics ranked by unanswered volume, each opening its
// conversations. "Download CSV" fetches the questions as CSV with the
// session's token and saves the blob (a plain link would carry no token).
// Coverage loads; CoverageView only renders (tests render it on the server).

import { Fragment, useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { coverageTone, csvFilename, defaultRange, percent, rangeTimes } from './knowledge';
import { inboxHref } from './timeline';
import { Badge, When } from './ui';
import type { Coverage as CoverageData } from './types';

interface Props {
  api: Api;
  onOpenConversation: (id: string) => void;
  onUnauthorized: () => void;
}

/** saveBlob has the browser save blob as name (an object URL clicked as a download link, then revoked). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Coverage loads the range's coverage (the last 7 days first) and downloads its CSV. */
export function Coverage({ api, onOpenConversation, onUnauthorized }: Props) {
  const [range, setRange] = useState(defaultRange);
  const [data, setData] = useState<CoverageData | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const [open, setOpen] = useState<string[]>([]);
  const [csv, setCsv] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });
  const seq = useRef(0);
  const times = rangeTimes(range.from, range.to);

  const load = () => {
    if (!times) return;
    const my = ++seq.current;
    setLoading(true);
    setError('');
    api.coverage(times.from, times.to).then(
      (c) => {
        if (my !== seq.current) return;
        setData(c);
        setLoading(false);
      },
      (e) => {
        if (my !== seq.current) return;
        setLoading(false);
        if (e instanceof ApiError && e.status === 401) return onUnauthorized();
        setError(`Could not load the coverage: ${(e as Error).message}`);
      },
    );
  };

  useEffect(() => {
    load();
    return () => {
      seq.current++;
    };
  }, [times?.from, times?.to]);

  const download = async () => {
    if (!times || csv.busy) return;
    setCsv({ busy: true, error: '' });
    try {
      saveBlob(await api.coverageCSV(times.from, times.to), csvFilename(range.from, range.to));
      setCsv({ busy: false, error: '' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return onUnauthorized();
      setCsv({ busy: false, error: `Could not download the CSV: ${(e as Error).message}` });
    }
  };

  return (
    <CoverageView
      range={range}
      onRange={setRange}
      rangeError={times ? '' : 'Choose a start day on or before the end day.'}
      data={data}
      loading={loading}
      error={error}
      onRefresh={load}
      open={open}
      onToggle={(label) => setOpen((o) => (o.includes(label) ? o.filter((x) => x !== label) : [...o, label]))}
      onOpenConversation={onOpenConversation}
      onDownload={download}
      csv={csv}
    />
  );
}

export interface CoverageViewProps {
  /** date input values (YYYY-MM-DD), both days included */
  range: { from: string; to: string };
  onRange: (r: { from: string; to: string }) => void;
  rangeError: string;
  /** null until the first answer */
  data: CoverageData | null;
  loading: boolean;
  error: string;
  onRefresh?: () => void;
  /** the labels of the topics whose conversations are shown */
  open: readonly string[];
  onToggle: (label: string) => void;
  onOpenConversation: (id: string) => void;
  onDownload: () => void;
  csv: { busy: boolean; error: string };
  locale?: string;
}

/** CoverageView renders the range, the totals and the topics. */
export function CoverageView(p: CoverageViewProps) {
  const d = p.data;
  const topics = d?.topics ?? [];
  return (
    <main className="coverage detail" data-testid="coverage-page">
      <div className="page-head">
        <h2>Coverage</h2>
        {p.onRefresh && (
          <button type="button" data-testid="coverage-refresh" onClick={p.onRefresh} disabled={p.loading || !!p.rangeError}>
            {p.loading ? 'Refreshing…' : 'Refresh'}
          </button>
        )}
      </div>
      <p className="muted">
        Customers' questions, and whether the knowledge had a passage relevant enough to answer them with sources. Topics with the most unanswered questions come
        first: they are the documents to write next.
      </p>
      <div className="tl-filters">
        <label>
          From{' '}
          <input type="date" data-testid="coverage-from" value={p.range.from} max={p.range.to} onChange={(e) => p.onRange({ ...p.range, from: e.target.value })} />
        </label>
        <label>
          to{' '}
          <input type="date" data-testid="coverage-to" value={p.range.to} min={p.range.from} onChange={(e) => p.onRange({ ...p.range, to: e.target.value })} />
        </label>
        <button type="button" data-testid="coverage-csv" onClick={p.onDownload} disabled={p.csv.busy || !!p.rangeError}>
          {p.csv.busy ? 'Downloading…' : 'Download CSV'}
        </button>
      </div>
      {p.rangeError && (
        <p className="error" role="alert" data-testid="coverage-range-error">
          {p.rangeError}
        </p>
      )}
      {p.csv.error && (
        <p className="error" role="alert" data-testid="coverage-csv-error">
          {p.csv.error}
        </p>
      )}
      {p.error && (
        <p className="error" role="alert" data-testid="coverage-error">
          {p.error}
        </p>
      )}
      {!d && p.loading && (
        <p className="muted" role="status" data-testid="coverage-loading">
          Loading coverage…
        </p>
      )}
      {d && (
        <>
          <dl className="coverage-totals" data-testid="coverage-totals">
            <div>
              <dt>Questions</dt>
              <dd data-testid="coverage-questions">{d.questions}</dd>
            </div>
            <div>
              <dt>Answered with sources</dt>
              <dd>
                <span data-testid="coverage-share">{percent(d.share_answered)}</span> <span className="muted small">({d.answered_with_sources})</span>
              </dd>
            </div>
            <div>
              <dt>No relevant documents</dt>
              <dd data-testid="coverage-no-relevant">{d.no_relevant_docs}</dd>
            </div>
          </dl>
          {d.truncated && (
            <p className="notice banner small" data-testid="coverage-truncated">
              This range holds more questions than one report reads: the oldest were left out. Choose a shorter range.
            </p>
          )}
          <p className="muted small">
            <When at={d.from} locale={p.locale} /> – <When at={d.to} locale={p.locale} /> · relevance threshold {d.threshold}
          </p>
          {topics.length === 0 ? (
            <p className="muted" data-testid="coverage-empty">
              No questions in this range.
            </p>
          ) : (
            <table className="money-table coverage-table">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th className="num">Questions</th>
                  <th className="num">Unanswered</th>
                  <th>Coverage</th>
                  <th>Examples</th>
                </tr>
              </thead>
              <tbody>
                {topics.map((t) => {
                  const isOpen = p.open.includes(t.label);
                  const convs = t.conversation_ids ?? [];
                  return (
                    <Fragment key={t.label}>
                      <tr data-testid="coverage-topic" data-label={t.label} data-open={String(isOpen)} className="topic-row" onClick={() => p.onToggle(t.label)}>
                        <td>
                          <button type="button" className="link" data-testid="coverage-topic-toggle" aria-expanded={isOpen}>
                            {isOpen ? '▾' : '▸'} <span data-testid="coverage-topic-label">{t.label}</span>
                          </button>
                        </td>
                        <td className="num" data-testid="coverage-topic-count">
                          {t.count}
                        </td>
                        <td className="num" data-testid="coverage-topic-unanswered">
                          {t.unanswered}
                        </td>
                        <td>
                          <Badge tone={coverageTone(t.coverage)} testid="coverage-topic-coverage" title="Share answered with sources">
                            {percent(t.coverage)}
                          </Badge>
                        </td>
                        <td data-testid="coverage-topic-examples">
                          {(t.examples ?? []).slice(0, 2).map((x, i) => (
                            <div key={i} className="small example">
                              “{x}”
                            </div>
                          ))}
                        </td>
                      </tr>
                      {isOpen && (
                        <tr className="topic-conversations" data-testid="coverage-topic-conversations" data-label={t.label}>
                          <td colSpan={5}>
                            {convs.length === 0 ? (
                              <span className="muted small">No conversation.</span>
                            ) : (
                              <ul className="identities">
                                {convs.map((id) => (
                                  <li key={id}>
                                    <a
                                      href={inboxHref(id)}
                                      data-testid="coverage-conversation"
                                      data-conversation-id={id}
                                      onClick={(e) => {
                                        e.preventDefault();
                                        p.onOpenConversation(id);
                                      }}
                                    >
                                      {id}
                                    </a>
                                  </li>
                                ))}
                              </ul>
                            )}
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </main>
  );
}
