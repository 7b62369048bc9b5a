// Pure logic of money with the customer's yes (Confirmations.tsx,
// Approvals.tsx): a confirmation's badge, its labels, the steps of its
// timeline and who took them, the text of a supervisor's decision, and the
// merge of live frames into the lists shown. No DOM, no network: tested by
// tests/confirmations.test.ts.

import { badgeLabel, formatMinorCode, relativeTime } from './commerce';
import type { Tone } from './timeline';
import type { Approval, Confirmation, ConfirmationStep } from './types';

/**
 * displayState is what a confirmation's badge says: its state, or "failed"
 * when an execution failed (last_error set) and it was never executed.
 */
export function displayState(c: Pick<Confirmation, 'state' | 'last_error'>): string {
  if ((c.last_error ?? '').trim() && c.state !== 'executed') return 'failed';
  return c.state;
}

/** StateBadge is a badge's tone, its words, and the longer explanation for its title. */
export interface StateBadge {
  tone: Tone;
  label: string;
  title: string;
}

const BADGES: Record<string, StateBadge> = {
  pending: { tone: 'warn', label: 'waiting for customer', title: 'Asked the customer; waiting for their yes or no' },
  awaiting_approval: { tone: 'warn', label: 'needs approval', title: 'The customer said yes; above the limits, a supervisor must approve it' },
  confirmed: { tone: 'info', label: 'confirmed', title: 'Confirmed; being carried out' },
  executed: { tone: 'ok', label: 'executed', title: 'Carried out by the provider' },
  declined: { tone: 'neutral', label: 'declined', title: 'Declined: by the customer, or rejected by a supervisor' },
  expired: { tone: 'neutral', label: 'expired', title: 'No answer before it expired' },
};

/**
 * stateBadge colours a confirmation: waiting for the customer or a
 * supervisor warning ("needs approval" for the latter), confirmed info,
 * executed good, declined and expired muted, failed bad with the provider's
 * reason as its title.
 */
export function stateBadge(c: Pick<Confirmation, 'state' | 'last_error'>): StateBadge {
  const s = displayState(c);
  if (s === 'failed') return { tone: 'bad', label: 'failed', title: `The provider refused: ${c.last_error.trim()}` };
  return BADGES[s] ?? { tone: 'neutral', label: badgeLabel(s), title: badgeLabel(s) };
}

const ACTIONS: Record<string, string> = { refund_order: 'Refund' };

/** actionLabel names a confirmation's action: "refund_order" → "Refund". */
export function actionLabel(action: string | null | undefined): string {
  const a = (action ?? '').trim();
  if (ACTIONS[a]) return ACTIONS[a];
  const words = badgeLabel(a.replace(/_order$/, ''));
  return words === '—' ? 'Action' : words[0].toUpperCase() + words.slice(1);
}

/** isOpen says whether a confirmation still waits for someone (the customer or a supervisor). */
export function isOpen(c: Pick<Confirmation, 'state'>): boolean {
  return c.state === 'pending' || c.state === 'awaiting_approval';
}

/**
 * expiryLabel says when an open confirmation expires ("expires in 9
 * minutes") or when an expired one did ("expired 2 hours ago"); "" for the
 * others, whose expiry no longer matters.
 */
export function expiryLabel(c: Pick<Confirmation, 'state' | 'expires_at' | 'resolved_at'>, now: Date = new Date(), locale?: string): string {
  if (isOpen(c)) {
    const rel = relativeTime(c.expires_at, now, locale);
    if (!rel) return '';
    return Date.parse(c.expires_at) <= now.getTime() ? `expiry due ${rel}` : `expires ${rel}`;
  }
  if (c.state === 'expired') {
    const rel = relativeTime(c.resolved_at || c.expires_at, now, locale);
    return rel ? `expired ${rel}` : '';
  }
  return '';
}

const STEPS: Record<string, string> = {
  'confirmation.proposed': 'Proposed; customer asked',
  'confirmation.confirmed': 'Customer said yes',
  'confirmation.declined': 'Declined',
  'confirmation.cancelled': 'Cancelled',
  'confirmation.expired': 'Expired without an answer',
  'confirmation.executed': 'Executed',
  'confirmation.execution_failed': 'Execution failed',
  // the customer's yes above the policy's limits
  'confirmation.awaiting_approval': 'Customer said yes; sent for approval',
  'confirmation.approved': 'Approved',
  'confirmation.rejected': 'Rejected',
};

/** stepLabel names a timeline step: "confirmation.confirmed" → "Customer said yes". */
export function stepLabel(action: string): string {
  return STEPS[action] ?? badgeLabel(action.replace(/^confirmation\./, ''));
}

/** stepTone colours a step's mark: execution failures bad, execution good, decisions against muted. */
export function stepTone(action: string): Tone {
  switch (action) {
    case 'confirmation.executed':
      return 'ok';
    case 'confirmation.execution_failed':
      return 'bad';
    case 'confirmation.awaiting_approval':
      return 'warn';
    case 'confirmation.declined':
    case 'confirmation.rejected':
    case 'confirmation.expired':
    case 'confirmation.cancelled':
      return 'neutral';
    default:
      return 'info';
  }
}

/**
 * actorLabel names who took a step: "AI", "Customer", "Runtime" (frontdesk
 * itself: expiry, execution), or a user's name from users (id → name; the
 * start of the id when the directory lacks it).
 */
export function actorLabel(step: Pick<ConfirmationStep, 'actor_kind' | 'actor_id'>, users: Record<string, string>): string {
  switch (step.actor_kind) {
    case 'ai':
      return 'AI';
    case 'customer':
      return 'Customer';
    case 'system':
      return 'Runtime';
    case 'user': {
      const id = (step.actor_id ?? '').replace(/^user:/, '');
      return users[id] || (id ? `user ${id.slice(0, 8)}` : 'a user');
    }
    default:
      return step.actor_kind || 'unknown';
  }
}

/**
 * stepDetails are the words a step carries: the reason (why it needs
 * approval, why it was declined), the provider's error, a supervisor's note;
 * each non-empty string once, in that order.
 */
export function stepDetails(step: Pick<ConfirmationStep, 'data'>): { key: 'reason' | 'error' | 'note'; text: string }[] {
  const d = step.data ?? {};
  const out: { key: 'reason' | 'error' | 'note'; text: string }[] = [];
  for (const key of ['reason', 'error', 'note'] as const) {
    const v = d[key];
    if (typeof v === 'string' && v.trim()) out.push({ key, text: v.trim() });
  }
  return out;
}

/** sortSteps orders a timeline oldest first (a stable sort: steps at the same instant keep the server's order). */
export function sortSteps(steps: readonly ConfirmationStep[] | null | undefined): ConfirmationStep[] {
  const at = (s: ConfirmationStep) => Date.parse(s.at) || 0;
  return [...(steps ?? [])].sort((a, b) => at(a) - at(b));
}

/** subjectLabel is what the money is about: the subject, or "the order" when there is none. */
export function subjectLabel(c: Pick<Confirmation, 'subject'>): string {
  return (c.subject ?? '').trim() || 'the order';
}

/**
 * decisionQuestion is the question a supervisor answers before a decision
 * is sent: "Refund 49.98 USD on #1001?" to approve, "Reject the refund of
 * 49.98 USD on #1001?" to reject. The amount carries its currency code, the
 * same in every locale.
 */
export function decisionQuestion(c: Pick<Confirmation, 'action' | 'subject' | 'amount_minor' | 'currency'>, decision: 'approve' | 'reject'): string {
  const money = formatMinorCode(c.amount_minor, c.currency);
  const action = actionLabel(c.action);
  if (decision === 'approve') return `${action} ${money} on ${subjectLabel(c)}?`;
  return `Reject the ${action.toLowerCase()} of ${money} on ${subjectLabel(c)}?`;
}

/** decisionOutcome says what a decision did, from the confirmation the API answered. */
export function decisionOutcome(c: Pick<Confirmation, 'action' | 'subject' | 'amount_minor' | 'currency' | 'state' | 'last_error'>, decision: 'approve' | 'reject'): string {
  const what = `${actionLabel(c.action)} of ${formatMinorCode(c.amount_minor, c.currency)} on ${subjectLabel(c)}`;
  if (decision === 'reject') return `Rejected: ${what}. The customer is told.`;
  const s = displayState(c);
  if (s === 'executed') return `Approved and executed: ${what}. The customer is told.`;
  if (s === 'failed') return `Approved, but the provider refused: ${c.last_error.trim()} (${what}).`;
  return `Approved: ${what}; it is being carried out. The customer is told.`;
}

function newestFirst(a: Confirmation, b: Confirmation): number {
  const d = (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0);
  return d || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * mergeConfirmation puts c (a live frame's copy, without its timeline, or a
 * REST copy) into list, newest first: a confirmation seen before is replaced
 * in place, keeping the timeline it had when c brings none.
 */
export function mergeConfirmation(list: readonly Confirmation[], c: Confirmation): Confirmation[] {
  const prev = list.find((x) => x.id === c.id);
  const next: Confirmation = prev && !c.timeline ? { ...c, timeline: prev.timeline } : c;
  return [...list.filter((x) => x.id !== c.id), next].sort(newestFirst);
}

/**
 * applyToQueue applies a confirmation's change to the approval queue
 * (oldest first): one no longer awaiting approval leaves it; one awaiting
 * approval is updated in place (keeping its customer's name) or, new,
 * added with the name unknown until the queue is reloaded.
 */
export function applyToQueue(queue: readonly Approval[], c: Confirmation): Approval[] {
  if (c.state !== 'awaiting_approval') return queue.filter((a) => a.id !== c.id);
  const prev = queue.find((a) => a.id === c.id);
  const next: Approval = { ...c, customer_name: (c as Partial<Approval>).customer_name || prev?.customer_name || '' };
  return [...queue.filter((a) => a.id !== c.id), next].sort((a, b) => -newestFirst(a, b));
}
