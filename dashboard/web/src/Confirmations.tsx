// Money with the customer's yes, as the inbox and Customer 360 show it: the
// open conversation's confirmations (ConfirmationsPanel: action, subject,
// amount, state, expiry, the provider's reason of a failure and the
// timeline of steps with who took each), and a customer's refunds and
// payments (RefundsPaymentsView, loaded by RefundsSection). The views only
// render (tests render them on the server); the logic lives in
// confirmations.ts and commerce.ts.

import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { badgeLabel, formatMinor } from './commerce';
import {
  actionLabel,
  actorLabel,
  displayState,
  expiryLabel,
  isOpen,
  sortSteps,
  stateBadge,
  stepDetails,
  stepLabel,
  stepTone,
  subjectLabel,
} from './confirmations';
import type { LiveHub } from './hub';
import { inboxHref, statusLabel, statusTone } from './timeline';
import { Badge, When } from './ui';
import type { Confirmation, ConfirmationStep, TimelinePayment } from './types';

export interface ConfirmationsPanelProps {
  /** newest first; undefined until loaded */
  confirmations: readonly Confirmation[] | undefined;
  error: string;
  /** the team directory, user id → name */
  users: Record<string, string>;
  /** whether the viewer may decide approvals (a link to the queue then) */
  canApprove: boolean;
  onApprovals?: () => void;
  now?: Date;
  locale?: string;
}

/**
 * ConfirmationsPanel lists a conversation's confirmations above its
 * transcript, newest first, those still waiting for someone first; it shows
 * nothing for a conversation without any.
 */
export function ConfirmationsPanel({ confirmations, error, users, canApprove, onApprovals, now, locale }: ConfirmationsPanelProps) {
  const list = useMemo(() => {
    const all = [...(confirmations ?? [])];
    return [...all.filter(isOpen), ...all.filter((c) => !isOpen(c))];
  }, [confirmations]);
  if (error) {
    return (
      <p className="confirmations error small" role="alert" data-testid="confirmations-error">
        Could not load the confirmations: {error}
      </p>
    );
  }
  if (list.length === 0) return null;
  const waiting = list.filter(isOpen).length;
  const failed = list.filter((c) => displayState(c) === 'failed').length;
  return (
    <section className="confirmations" data-testid="confirmations" aria-labelledby="confirmations-title">
      <h4 id="confirmations-title">
        Confirmations <span className="muted small">{list.length}</span>
        {waiting > 0 && <span className="muted small"> · {waiting} waiting</span>}
        {failed > 0 && <span className="error small"> · {failed} failed</span>}
      </h4>
      <ol className="confirmation-list">
        {list.map((c) => (
          <ConfirmationCard key={c.id} c={c} users={users} canApprove={canApprove} onApprovals={onApprovals} now={now} locale={locale} />
        ))}
      </ol>
    </section>
  );
}

interface CardProps {
  c: Confirmation;
  users: Record<string, string>;
  canApprove: boolean;
  onApprovals?: () => void;
  now?: Date;
  locale?: string;
}

/** ConfirmationCard is one confirmation: what, how much, its state, and its steps on demand. */
export function ConfirmationCard({ c, users, canApprove, onApprovals, now, locale }: CardProps) {
  const badge = stateBadge(c);
  const state = displayState(c);
  const expiry = expiryLabel(c, now ?? new Date(), locale);
  const steps = sortSteps(c.timeline);
  return (
    <li className={'confirmation tone-' + badge.tone} data-testid="confirmation" data-confirmation-id={c.id} data-state={state}>
      <div className="conf-head">
        <strong data-testid="confirmation-action">{actionLabel(c.action)}</strong>
        <span data-testid="confirmation-subject">{subjectLabel(c)}</span>
        <span className="amount" data-testid="confirmation-amount">
          {formatMinor(c.amount_minor, c.currency, locale)}
        </span>
        <Badge tone={badge.tone} testid="confirmation-state" title={badge.title}>
          {badge.label}
        </Badge>
        {expiry && (
          <span className="muted small" data-testid="confirmation-expiry" title={c.expires_at}>
            {expiry}
          </span>
        )}
        <span className="spacer" />
        <span className="muted small">
          <When at={c.created_at} locale={locale} />
        </span>
      </div>
      {state === 'failed' && (
        <div className="error small" data-testid="confirmation-error">
          The provider refused: {c.last_error.trim()}
          {c.failed_executions > 1 && ` (${c.failed_executions} tries)`}
        </div>
      )}
      {c.state === 'awaiting_approval' && (
        <div className="small" data-testid="confirmation-approval">
          The customer said yes; a supervisor must approve it{c.approval_reason ? `: ${c.approval_reason}` : ''}.
          {canApprove && onApprovals && (
            <>
              {' '}
              <a
                href="/approvals"
                data-testid="confirmation-approvals-link"
                onClick={(e) => {
                  e.preventDefault();
                  onApprovals();
                }}
              >
                Decide in Approvals →
              </a>
            </>
          )}
        </div>
      )}
      {c.result && <RefundLine c={c} locale={locale} />}
      {steps.length > 0 && (
        <details className="conf-timeline" data-testid="confirmation-timeline">
          <summary>
            Timeline <span className="muted small">{steps.length} steps</span>
          </summary>
          <ol>
            {steps.map((s, i) => (
              <StepRow key={`${s.action}:${s.at}:${i}`} step={s} users={users} locale={locale} />
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}

function RefundLine({ c, locale }: { c: Confirmation; locale?: string }) {
  const r = c.result!;
  return (
    <div className="small muted" data-testid="confirmation-result">
      Refund <code data-testid="confirmation-refund-id">{r.refund_id || '—'}</code> · {formatMinor(r.amount_minor, r.currency || c.currency, locale)}
      {r.replayed && ' · the provider already had it: not refunded twice'}
    </div>
  );
}

function StepRow({ step, users, locale }: { step: ConfirmationStep; users: Record<string, string>; locale?: string }) {
  const details = stepDetails(step);
  return (
    <li className={'conf-step tone-' + stepTone(step.action)} data-testid="confirmation-step" data-action={step.action}>
      <span className="muted small conf-step-at">
        <When at={step.at} locale={locale} precise />
      </span>{' '}
      <strong data-testid="confirmation-step-label">{stepLabel(step.action)}</strong>
      <span className="muted"> · </span>
      <span data-testid="confirmation-step-actor" data-actor-kind={step.actor_kind}>
        {actorLabel(step, users)}
      </span>
      {details.map((d) => (
        <div key={d.key} className={'small conf-step-' + d.key + (d.key === 'error' ? ' error' : '')} data-testid={'confirmation-step-' + d.key}>
          {d.key === 'note' ? `Note: “${d.text}”` : d.key === 'error' ? `Provider: ${d.text}` : d.text}
        </div>
      ))}
    </li>
  );
}

// Customer 360: refunds (the customer's confirmations) and payments (the
// timeline's payment items), newest first.

type MoneyRow = { kind: 'refund'; at: string; c: Confirmation } | { kind: 'payment'; at: string; p: TimelinePayment };

/** moneyRows merges refunds and payments, newest first (ties: refunds first, then by id). */
export function moneyRows(confirmations: readonly Confirmation[], payments: readonly TimelinePayment[]): MoneyRow[] {
  const rows: MoneyRow[] = [
    ...confirmations.map((c) => ({ kind: 'refund' as const, at: c.created_at, c })),
    ...payments.map((p) => ({ kind: 'payment' as const, at: p.at, p })),
  ];
  const t = (r: MoneyRow) => Date.parse(r.at) || 0;
  const id = (r: MoneyRow) => (r.kind === 'refund' ? r.c.id : r.p.id);
  return rows.sort((a, b) => t(b) - t(a) || (a.kind === b.kind ? (id(a) < id(b) ? -1 : 1) : a.kind === 'refund' ? -1 : 1));
}

export interface RefundsPaymentsViewProps {
  /** the customer's confirmations; null until loaded */
  confirmations: readonly Confirmation[] | null;
  payments: readonly TimelinePayment[];
  loading: boolean;
  error: string;
  onRetry?: () => void;
  onOpenConversation: (id: string) => void;
  now?: Date;
  locale?: string;
}

/** RefundsPaymentsView renders the "Refunds and payments" section of Customer 360. */
export function RefundsPaymentsView({ confirmations, payments, loading, error, onRetry, onOpenConversation, now, locale }: RefundsPaymentsViewProps) {
  const rows = moneyRows(confirmations ?? [], payments);
  const state = loading && confirmations === null ? 'loading' : rows.length === 0 ? (error ? 'error' : 'empty') : 'ready';
  return (
    <section className="money" data-testid="money-section" data-state={state} aria-labelledby="money-title">
      <h3 className="section-title" id="money-title">
        Refunds and payments {rows.length > 0 && <span className="muted small">{rows.length}</span>}
      </h3>
      {state === 'loading' && (
        <p className="muted" role="status" data-testid="money-loading">
          Loading refunds…
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="money-error">
          Could not load the refunds: {error}{' '}
          {onRetry && (
            <button type="button" onClick={onRetry} data-testid="money-retry">
              Retry
            </button>
          )}
        </p>
      )}
      {state === 'empty' && (
        <p className="muted" data-testid="money-empty">
          No refunds or payments.
        </p>
      )}
      {rows.length > 0 && (
        <table className="money-table">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Order</th>
              <th className="num">Amount</th>
              <th>State</th>
              <th>Reference</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) =>
              r.kind === 'refund' ? (
                <RefundRow key={'r:' + r.c.id} c={r.c} onOpenConversation={onOpenConversation} now={now} locale={locale} />
              ) : (
                <PaymentRow key={'p:' + r.p.id} p={r.p} onOpenConversation={onOpenConversation} locale={locale} />
              ),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ConversationLink({ id, onOpen }: { id: string; onOpen: (id: string) => void }) {
  if (!id) return null;
  return (
    <a
      href={inboxHref(id)}
      data-testid="money-conversation-link"
      onClick={(e) => {
        e.preventDefault();
        onOpen(id);
      }}
    >
      conversation
    </a>
  );
}

function RefundRow({ c, onOpenConversation, now, locale }: { c: Confirmation; onOpenConversation: (id: string) => void; now?: Date; locale?: string }) {
  const badge = stateBadge(c);
  const expiry = expiryLabel(c, now ?? new Date(), locale);
  return (
    <tr data-testid="money-row" data-kind="refund" data-id={c.id} data-state={displayState(c)}>
      <td>{actionLabel(c.action)}</td>
      <td data-testid="money-order">{subjectLabel(c)}</td>
      <td className="num amount" data-testid="money-amount">
        {formatMinor(c.amount_minor, c.currency, locale)}
      </td>
      <td>
        <Badge tone={badge.tone} testid="money-state" title={badge.title}>
          {badge.label}
        </Badge>
        {displayState(c) === 'failed' && (
          <div className="error small" data-testid="money-error-reason">
            {c.last_error.trim()}
          </div>
        )}
        {c.state === 'awaiting_approval' && c.approval_reason && <div className="muted small">{c.approval_reason}</div>}
        {expiry && <div className="muted small">{expiry}</div>}
      </td>
      <td>
        {c.result?.refund_id ? <code data-testid="money-refund-id">{c.result.refund_id}</code> : <span className="muted">—</span>}
        <div className="small">
          <ConversationLink id={c.conversation_id} onOpen={onOpenConversation} />
        </div>
      </td>
      <td className="muted small" data-testid="money-when">
        <When at={c.resolved_at || c.created_at} locale={locale} />
      </td>
    </tr>
  );
}

function PaymentRow({ p, onOpenConversation, locale }: { p: TimelinePayment; onOpenConversation: (id: string) => void; locale?: string }) {
  return (
    <tr data-testid="money-row" data-kind="payment" data-id={p.id}>
      <td>Payment</td>
      <td data-testid="money-order">{p.order_id || p.title || '—'}</td>
      <td className="num amount" data-testid="money-amount">
        {formatMinor(p.amount_cents, p.currency, locale)}
      </td>
      <td>
        <Badge tone={statusTone(p.status)} testid="money-state">
          {statusLabel(p.status)}
        </Badge>
      </td>
      <td>
        {p.provider ? <span data-testid="money-provider">{badgeLabel(p.provider)}</span> : <span className="muted">—</span>}
        {p.conversation_id && (
          <div className="small">
            <ConversationLink id={p.conversation_id} onOpen={onOpenConversation} />
          </div>
        )}
      </td>
      <td className="muted small" data-testid="money-when">
        <When at={p.at} locale={locale} />
      </td>
    </tr>
  );
}

interface SectionProps {
  api: Api;
  customerId: string;
  /** the payments of the customer's timeline */
  payments: readonly TimelinePayment[];
  live: LiveHub | null;
  isAuthError: (e: unknown) => boolean;
  onOpenConversation: (id: string) => void;
}

/** RefundsSection loads the customer's confirmations, again on each live change of one of theirs, and renders RefundsPaymentsView. */
export function RefundsSection({ api, customerId, payments, live, isAuthError, onOpenConversation }: SectionProps) {
  const [list, setList] = useState<Confirmation[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const seq = useRef(0);

  const load = () => {
    const my = ++seq.current;
    setLoading(true);
    api.customerConfirmations(customerId).then(
      (l) => {
        if (my !== seq.current) return;
        setList(l);
        setError('');
        setLoading(false);
      },
      (e) => {
        if (my !== seq.current || isAuthError(e)) return;
        // A server without the route has no refunds to show.
        if (e instanceof ApiError && e.status === 404) setList([]);
        else setError((e as Error).message || 'failed');
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    setList(null);
    load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = live?.subscribe({
      onFrame: (f) => {
        if (f.type !== 'confirmation.updated' || f.data?.customer_id !== customerId) return;
        clearTimeout(timer);
        timer = setTimeout(load, 300);
      },
      onReload: load,
    });
    return () => {
      seq.current++;
      clearTimeout(timer);
      unsubscribe?.();
    };
  }, [customerId, live]);

  return <RefundsPaymentsView confirmations={list} payments={payments} loading={loading} error={error} onRetry={load} onOpenConversation={onOpenConversation} />;
}
