// The approval queue (admins and supervisors): refunds the customer said Yes
// to that are above the policy's limits wait here, oldest first, for a
// supervisor to approve (the refund is then carried out) or reject (the
// customer is told). useApprovals holds the queue for the whole app (the
// nav shows its count) and follows it live; Approvals renders the page and
// sends decisions, each after a confirmation step; ApprovalsView and
// ApprovalCardView only render (tests render them on the server).

import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { formatMinor } from './commerce';
import { actionLabel, applyToQueue, decisionOutcome, decisionQuestion, expiryLabel, subjectLabel } from './confirmations';
import type { LiveHub } from './hub';
import { can } from './roles';
import { customerHref, inboxHref } from './timeline';
import { When } from './ui';
import type { Approval, Confirmation, Role } from './types';

/** How long a burst of confirmation frames is gathered before the queue is read again. */
const RELOAD_MS = 300;

/** ApprovalsQueue is the queue as the app holds it. */
export interface ApprovalsQueue {
  /** oldest first; null until the first answer */
  list: Approval[] | null;
  loading: boolean;
  error: string;
  reload: () => void;
  /** applies a confirmation as a decision answered it */
  apply: (c: Confirmation) => void;
}

/**
 * useApprovals loads the approval queue when allowed (admins and
 * supervisors), applies each confirmation.updated frame at once (one no
 * longer awaiting approval leaves the queue) and reads the queue again
 * after a burst of them, and whenever the live stream cannot resume.
 */
export function useApprovals(api: Api | null, live: LiveHub | null, allowed: boolean, onUnauthorized: () => void): ApprovalsQueue {
  const [list, setList] = useState<Approval[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const seq = useRef(0);
  const apiRef = useRef(api);
  apiRef.current = api;
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  const load = () => {
    const a = apiRef.current;
    if (!a) return;
    const my = ++seq.current;
    setLoading(true);
    a.approvals().then(
      (l) => {
        if (my !== seq.current) return;
        setList(l);
        setError('');
        setLoading(false);
      },
      (e) => {
        if (my !== seq.current) return;
        setLoading(false);
        if (e instanceof ApiError && e.status === 401) return unauthorized.current();
        setError(e instanceof ApiError && e.status === 403 ? 'Only supervisors and admins may see the approval queue.' : `Could not load the approval queue: ${(e as Error).message}`);
      },
    );
  };

  useEffect(() => {
    setList(null);
    setError('');
    if (!allowed || !live) return;
    load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = live.subscribe({
      onFrame: (f) => {
        if (f.type !== 'confirmation.updated' || !f.data?.id) return;
        setList((q) => (q ? applyToQueue(q, f.data as Confirmation) : q));
        clearTimeout(timer);
        timer = setTimeout(load, RELOAD_MS);
      },
      onReload: load,
    });
    return () => {
      seq.current++;
      clearTimeout(timer);
      unsubscribe();
    };
  }, [allowed, live]);

  return {
    list,
    loading,
    error,
    reload: load,
    apply: (c) => setList((q) => (q ? applyToQueue(q, c) : q)),
  };
}

type Decision = 'approve' | 'reject';

interface Props {
  api: Api;
  role: Role;
  queue: ApprovalsQueue;
  onOpenConversation: (id: string) => void;
  onOpenCustomer: (id: string) => void;
  onUnauthorized: () => void;
}

/** Approvals is the page: the queue, and a decision per request with an optional note, sent after a confirmation step. */
export function Approvals({ api, role, queue, onOpenConversation, onOpenCustomer, onUnauthorized }: Props) {
  const [stage, setStage] = useState<Record<string, Decision>>({});
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<Record<string, Decision>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<{ tone: 'notice' | 'error'; text: string } | null>(null);
  const inFlight = useRef(new Set<string>());

  if (!can.approve(role)) {
    return (
      <main className="approvals detail">
        <p className="muted">The approval queue is for supervisors and admins.</p>
      </main>
    );
  }

  const drop = <T,>(m: Record<string, T>, id: string) => {
    const { [id]: _, ...rest } = m;
    return rest;
  };

  const decide = async (a: Approval, d: Decision) => {
    if (inFlight.current.has(a.id)) return;
    inFlight.current.add(a.id);
    setBusy((b) => ({ ...b, [a.id]: d }));
    setErrors((e) => drop(e, a.id));
    setBanner(null);
    try {
      const c = await api.decide(a.id, d, (notes[a.id] ?? '').trim());
      queue.apply(c);
      setBanner({ tone: 'notice', text: decisionOutcome(c, d) });
      setStage((s) => drop(s, a.id));
      setNotes((n) => drop(n, a.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return onUnauthorized();
      if (e instanceof ApiError && e.status === 409) {
        // Someone else decided, or it expired: the queue shows what is left.
        setBanner({
          tone: 'error',
          text: `The ${actionLabel(a.action).toLowerCase()} on ${subjectLabel(a)} no longer awaits approval (someone decided it, or it expired): nothing was changed.`,
        });
        setStage((s) => drop(s, a.id));
        queue.reload();
      } else if (e instanceof ApiError && e.status === 403) {
        setErrors((m) => ({ ...m, [a.id]: 'Only supervisors and admins may approve or reject refunds.' }));
      } else {
        setErrors((m) => ({ ...m, [a.id]: `Could not ${d} it: ${(e as Error).message || 'the request failed'}` }));
      }
    } finally {
      inFlight.current.delete(a.id);
      setBusy((b) => drop(b, a.id));
    }
  };

  return (
    <ApprovalsView
      approvals={queue.list}
      loading={queue.loading}
      error={queue.error}
      banner={banner}
      onRefresh={queue.reload}
      card={(a) => ({
        stage: stage[a.id] ?? null,
        note: notes[a.id] ?? '',
        busy: busy[a.id] ?? null,
        error: errors[a.id] ?? '',
        onStage: (d) => {
          setStage((s) => (d ? { ...s, [a.id]: d } : drop(s, a.id)));
          setBanner(null);
        },
        onNote: (t) => setNotes((n) => ({ ...n, [a.id]: t })),
        onDecide: (d) => decide(a, d),
        onOpenConversation,
        onOpenCustomer,
      })}
    />
  );
}

/** CardState is what one card shows beyond its approval, and what it does. */
export interface CardState {
  /** the decision being confirmed, or null */
  stage: Decision | null;
  note: string;
  /** the decision in flight, or null */
  busy: Decision | null;
  error: string;
  onStage: (d: Decision | null) => void;
  onNote: (text: string) => void;
  onDecide: (d: Decision) => void;
  onOpenConversation: (id: string) => void;
  onOpenCustomer: (id: string) => void;
}

export interface ApprovalsViewProps {
  /** oldest first; null until the first answer */
  approvals: readonly Approval[] | null;
  loading: boolean;
  error: string;
  banner?: { tone: 'notice' | 'error'; text: string } | null;
  onRefresh?: () => void;
  card: (a: Approval) => CardState;
  now?: Date;
  locale?: string;
}

/** ApprovalsView renders the queue page. */
export function ApprovalsView({ approvals, loading, error, banner, onRefresh, card, now, locale }: ApprovalsViewProps) {
  return (
    <main className="approvals detail" data-testid="approvals-page">
      <div className="page-head">
        <h2>
          Approvals {approvals && approvals.length > 0 && <span className="badge" data-testid="approvals-count">{approvals.length}</span>}
        </h2>
        {onRefresh && (
          <button type="button" data-testid="approvals-refresh" onClick={onRefresh} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        )}
      </div>
      <p className="muted">
        Refunds the customer said Yes to that are above the policy's limits wait here, oldest first. Approving carries the refund out; rejecting
        declines it. Either way the customer is told and the decision is audited.
      </p>
      {banner && (
        <p className={banner.tone + ' banner'} role={banner.tone === 'error' ? 'alert' : 'status'} data-testid="approvals-outcome" data-tone={banner.tone}>
          {banner.text}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="approvals-error">
          {error}
        </p>
      )}
      {approvals === null && loading && (
        <p className="muted" role="status" data-testid="approvals-loading">
          Loading the queue…
        </p>
      )}
      {approvals !== null && approvals.length === 0 && (
        <p className="muted" data-testid="approvals-empty">
          Nothing awaits approval.
        </p>
      )}
      {approvals !== null && approvals.length > 0 && (
        <ol className="approval-list">
          {approvals.map((a) => (
            <ApprovalCardView key={a.id} a={a} {...card(a)} now={now} locale={locale} />
          ))}
        </ol>
      )}
    </main>
  );
}

/** ApprovalCardView is one request: who, what, how much, why it needs approval, and the decision. */
export function ApprovalCardView({
  a,
  stage,
  note,
  busy,
  error,
  onStage,
  onNote,
  onDecide,
  onOpenConversation,
  onOpenCustomer,
  now,
  locale,
}: CardState & { a: Approval; now?: Date; locale?: string }) {
  const expiry = expiryLabel(a, now ?? new Date(), locale);
  const off = busy !== null;
  const saidYes = (a.timeline ?? []).find((s) => s.action === 'confirmation.confirmed' || s.action === 'confirmation.awaiting_approval');
  return (
    <li className="approval" data-testid="approval" data-confirmation-id={a.id} data-stage={stage ?? ''} data-busy={busy ?? ''}>
      <div className="approval-head">
        <a
          href={customerHref(a.customer_id)}
          data-testid="approval-customer"
          onClick={(e) => {
            e.preventDefault();
            onOpenCustomer(a.customer_id);
          }}
        >
          {a.customer_name || 'Customer'}
        </a>
        <span>
          <strong>{actionLabel(a.action)}</strong> <span data-testid="approval-subject">{subjectLabel(a)}</span>
        </span>
        <span className="amount" data-testid="approval-amount">
          {formatMinor(a.amount_minor, a.currency, locale)}
        </span>
        <span className="spacer" />
        <a
          href={inboxHref(a.conversation_id)}
          data-testid="approval-conversation"
          onClick={(e) => {
            e.preventDefault();
            onOpenConversation(a.conversation_id);
          }}
        >
          Open conversation →
        </a>
      </div>
      <div className="small" data-testid="approval-reason">
        Needs approval: {a.approval_reason || 'above the policy’s limits'}
      </div>
      <div className="muted small">
        Proposed <When at={a.created_at} locale={locale} />
        {saidYes && (
          <>
            {' · customer said yes '}
            <When at={saidYes.at} locale={locale} />
          </>
        )}
        {expiry && <span data-testid="approval-expiry"> · {expiry}</span>}
      </div>
      <div className="approval-decide">
        <label className="small">
          Note (optional, kept with the decision in the audit log)
          <textarea data-testid="approval-note" value={note} maxLength={2000} disabled={off} onChange={(e) => onNote(e.target.value)} />
        </label>
        {stage === null ? (
          <div className="approval-buttons">
            <button type="button" className="approve" data-testid="approval-approve" disabled={off} onClick={() => onStage('approve')}>
              Approve
            </button>
            <button type="button" data-testid="approval-reject" disabled={off} onClick={() => onStage('reject')}>
              Reject
            </button>
          </div>
        ) : (
          <div className="dialog approval-confirm" role="alertdialog" data-testid="approval-confirm" data-decision={stage}>
            <strong data-testid="approval-question">{decisionQuestion(a, stage)}</strong>
            <span className="muted small">{stage === 'approve' ? 'The refund is made at once and the customer told.' : 'The refund is not made; the customer is told.'}</span>
            <button type="button" className={stage === 'approve' ? 'approve' : 'reject'} data-testid="approval-confirm-yes" disabled={off} onClick={() => onDecide(stage)}>
              {busy === 'approve' ? 'Approving…' : busy === 'reject' ? 'Rejecting…' : stage === 'approve' ? 'Yes, approve' : 'Yes, reject'}
            </button>
            <button type="button" data-testid="approval-confirm-cancel" disabled={off} onClick={() => onStage(null)}>
              Cancel
            </button>
          </div>
        )}
      </div>
      {error && (
        <p className="error small" role="alert" data-testid="approval-error">
          {error}
        </p>
      )}
    </li>
  );
}
