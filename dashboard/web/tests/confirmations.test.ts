import { describe, expect, it } from 'vitest';
import { formatMinorCode } from '../src/commerce';
import {
  actionLabel,
  actorLabel,
  applyToQueue,
  decisionOutcome,
  decisionQuestion,
  displayState,
  expiryLabel,
  mergeConfirmation,
  sortSteps,
  stateBadge,
  stepDetails,
  stepLabel,
  stepTone,
} from '../src/confirmations';
import { senderKind, senderLabel } from '../src/inbox';
import type { Approval, Confirmation } from '../src/types';
import { awaiting, executed, failed, now, pending, rejected } from './fixtures';

describe('formatMinorCode', () => {
  it('writes the amount with its code and the currency’s digits, the same in every locale', () => {
    expect(formatMinorCode(4998, 'USD')).toBe('49.98 USD');
    expect(formatMinorCode(4998, 'usd')).toBe('49.98 USD');
    expect(formatMinorCode(1500, 'JPY')).toBe('1500 JPY');
    expect(formatMinorCode(1234, 'KWD')).toBe('1.234 KWD');
    expect(formatMinorCode(5, 'EUR')).toBe('0.05 EUR');
    expect(formatMinorCode(4998, 'XXQ')).toBe('49.98 XXQ');
    expect(formatMinorCode(4998, '')).toBe('49.98');
    expect(formatMinorCode(null, 'USD')).toBe('—');
  });
});

describe('state badges', () => {
  const badge = (c: Partial<Confirmation>) => stateBadge({ state: 'pending', last_error: '', ...c });
  it('maps each state to its tone and words', () => {
    expect(badge({ state: 'pending' })).toMatchObject({ tone: 'warn', label: 'waiting for customer' });
    expect(badge({ state: 'awaiting_approval' })).toMatchObject({ tone: 'warn', label: 'needs approval' });
    expect(badge({ state: 'confirmed' })).toMatchObject({ tone: 'info', label: 'confirmed' });
    expect(badge({ state: 'executed' })).toMatchObject({ tone: 'ok', label: 'executed' });
    expect(badge({ state: 'declined' })).toMatchObject({ tone: 'neutral', label: 'declined' });
    expect(badge({ state: 'expired' })).toMatchObject({ tone: 'neutral', label: 'expired' });
    expect(badge({ state: 'something_new' })).toMatchObject({ tone: 'neutral', label: 'something new' });
  });
  it('says "needs approval" apart from waiting for the customer, though both are warnings', () => {
    expect(badge({ state: 'awaiting_approval' }).label).not.toBe(badge({ state: 'pending' }).label);
  });
  it('shows a failure (last_error, never executed) as bad with the provider’s reason', () => {
    expect(displayState(failed)).toBe('failed');
    expect(stateBadge(failed)).toEqual({ tone: 'bad', label: 'failed', title: 'The provider refused: Refund amount exceeds the refundable amount' });
    expect(badge({ state: 'pending', last_error: '  ' }).label).toBe('waiting for customer');
  });
  it('shows an executed confirmation as executed even after a failed try', () => {
    expect(displayState({ state: 'executed', last_error: 'timeout' })).toBe('executed');
    expect(badge({ state: 'executed', last_error: 'timeout' }).tone).toBe('ok');
  });
});

describe('labels', () => {
  it('names actions', () => {
    expect(actionLabel('refund_order')).toBe('Refund');
    expect(actionLabel('cancel_order')).toBe('Cancel');
    expect(actionLabel('')).toBe('Action');
  });
  it('names every step of the timeline', () => {
    expect(stepLabel('confirmation.proposed')).toBe('Proposed; customer asked');
    expect(stepLabel('confirmation.confirmed')).toBe('Customer said yes');
    expect(stepLabel('confirmation.execution_failed')).toBe('Execution failed');
    expect(stepLabel('confirmation.awaiting_approval')).toBe('Customer said yes; sent for approval');
    expect(stepLabel('confirmation.approved')).toBe('Approved');
    expect(stepLabel('confirmation.rejected')).toBe('Rejected');
    expect(stepLabel('confirmation.something_else')).toBe('something else');
    expect(stepTone('confirmation.executed')).toBe('ok');
    expect(stepTone('confirmation.execution_failed')).toBe('bad');
  });
  it('names who took a step: AI, customer, the runtime, or a user from the team directory', () => {
    const users = { usr_sup: 'Sam Supervisor' };
    expect(actorLabel({ actor_kind: 'ai', actor_id: 'agent_1' }, users)).toBe('AI');
    expect(actorLabel({ actor_kind: 'customer', actor_id: 'cus_1' }, users)).toBe('Customer');
    expect(actorLabel({ actor_kind: 'system', actor_id: '' }, users)).toBe('Runtime');
    expect(actorLabel({ actor_kind: 'user', actor_id: 'usr_sup' }, users)).toBe('Sam Supervisor');
    expect(actorLabel({ actor_kind: 'user', actor_id: 'user:usr_sup' }, users)).toBe('Sam Supervisor');
    expect(actorLabel({ actor_kind: 'user', actor_id: 'usr_0123456789' }, users)).toBe('user usr_0123');
  });
  it('reads a step’s reason, provider error and note', () => {
    expect(stepDetails({ data: { reason: 'above the 50.00 USD limit', error: 'declined by bank', note: ' ok ', other: 1 } })).toEqual([
      { key: 'reason', text: 'above the 50.00 USD limit' },
      { key: 'error', text: 'declined by bank' },
      { key: 'note', text: 'ok' },
    ]);
    expect(stepDetails({ data: null })).toEqual([]);
    expect(stepDetails({ data: { reason: 5 } })).toEqual([]);
  });
  it('sorts steps oldest first', () => {
    expect(sortSteps(executed.timeline).map((s) => s.action)).toEqual(['confirmation.proposed', 'confirmation.confirmed', 'confirmation.executed']);
    expect(sortSteps(undefined)).toEqual([]);
  });
  it('says when an open confirmation expires, and when an expired one did', () => {
    expect(expiryLabel(pending, now, 'en')).toBe('expires in 9 minutes');
    expect(expiryLabel({ ...pending, expires_at: '2025-03-01T11:50:00Z' }, now, 'en')).toBe('expiry due 10 minutes ago');
    expect(expiryLabel({ ...pending, state: 'expired', resolved_at: '2025-03-01T10:00:00Z' }, now, 'en')).toBe('expired 2 hours ago');
    expect(expiryLabel(executed, now, 'en')).toBe('');
  });
});

describe('decisions', () => {
  it('asks before a decision: "Refund 49.98 USD on #1001?"', () => {
    const c = { ...awaiting, amount_minor: 4998 };
    expect(decisionQuestion(c, 'approve')).toBe('Refund 49.98 USD on #1001?');
    expect(decisionQuestion(c, 'reject')).toBe('Reject the refund of 49.98 USD on #1001?');
    expect(decisionQuestion({ ...c, subject: '', currency: 'JPY', amount_minor: 1500 }, 'approve')).toBe('Refund 1500 JPY on the order?');
  });
  it('says what a decision did', () => {
    expect(decisionOutcome({ ...awaiting, state: 'executed' }, 'approve')).toBe('Approved and executed: Refund of 75.00 USD on #1001. The customer is told.');
    expect(decisionOutcome({ ...awaiting, state: 'confirmed' }, 'approve')).toContain('being carried out');
    expect(decisionOutcome({ ...awaiting, state: 'confirmed', last_error: 'card expired' }, 'approve')).toContain('the provider refused: card expired');
    expect(decisionOutcome({ ...awaiting, state: 'declined' }, 'reject')).toBe('Rejected: Refund of 75.00 USD on #1001. The customer is told.');
  });
});

describe('live merges', () => {
  it('puts a frame’s copy in place, newest first, keeping the timeline it lacks', () => {
    const list = [pending, executed, failed];
    const frame: Confirmation = { ...executed, state: 'executed', timeline: undefined, last_error: '' };
    const out = mergeConfirmation(list, { ...failed, state: 'executed', last_error: '', timeline: undefined });
    expect(out.map((c) => c.id)).toEqual(['cf_3', 'cf_1', 'cf_2']);
    expect(out[2].state).toBe('executed');
    expect(out[2].timeline).toBe(failed.timeline);
    expect(mergeConfirmation(list, frame)).toHaveLength(3);
    // a new one goes on top; a REST copy's timeline wins
    const fresh = { ...pending, id: 'cf_9', created_at: '2025-03-01T11:59:30Z' };
    expect(mergeConfirmation(list, fresh).map((c) => c.id)).toEqual(['cf_9', 'cf_3', 'cf_1', 'cf_2']);
    const withSteps = { ...executed, timeline: [] };
    expect(mergeConfirmation(list, withSteps).find((c) => c.id === 'cf_1')!.timeline).toEqual([]);
  });
  it('keeps the approval queue oldest first: decided ones leave, new ones join', () => {
    const older: Approval = { ...awaiting, id: 'cf_0', created_at: '2025-03-01T08:00:00Z' };
    const queue = [older, awaiting];
    expect(applyToQueue(queue, { ...awaiting, state: 'executed' }).map((a) => a.id)).toEqual(['cf_0']);
    expect(applyToQueue(queue, { ...awaiting, state: 'declined' }).map((a) => a.id)).toEqual(['cf_0']);
    const { customer_name: _, ...frame } = { ...awaiting, id: 'cf_7', created_at: '2025-03-01T07:00:00Z' };
    const joined = applyToQueue(queue, frame);
    expect(joined.map((a) => a.id)).toEqual(['cf_7', 'cf_0', 'cf_4']);
    expect(joined[0].customer_name).toBe('');
    // an update keeps the name the queue knew
    const { customer_name: __, ...update } = { ...awaiting, expires_at: '2025-03-03T00:00:00Z' };
    expect(applyToQueue(queue, update)[1]).toMatchObject({ id: 'cf_4', customer_name: 'Grace Hopper', expires_at: '2025-03-03T00:00:00Z' });
    expect(applyToQueue(queue, rejected)).toEqual(queue);
  });
});

describe('message senders', () => {
  const users = { u1: 'Ann Admin' };
  it('tells the runtime (sender "system") from the AI, users and the customer', () => {
    expect(senderKind({ direction: 'outbound', sender: 'system' })).toBe('system');
    expect(senderLabel({ direction: 'outbound', sender: 'system' }, users)).toBe('Runtime');
    expect(senderLabel({ direction: 'outbound', sender: 'ai' }, users)).toBe('AI');
    expect(senderLabel({ direction: 'outbound', sender: 'user:u1' }, users)).toBe('Ann Admin');
    expect(senderLabel({ direction: 'inbound', sender: 'customer' }, users)).toBe('Customer');
    expect(senderKind({ direction: 'outbound', sender: 'bot' })).toBe('other');
    expect(senderLabel({ direction: 'outbound', sender: 'bot' }, users)).toBe('bot');
  });
});
