import { describe, expect, it } from 'vitest';
import { ApprovalCardView, ApprovalsView, type ApprovalsViewProps, type CardState } from '../src/Approvals';
import type { Approval } from '../src/types';
import { render } from './html';
import { awaiting, now } from './fixtures';

const idle: CardState = {
  stage: null,
  note: '',
  busy: null,
  error: '',
  onStage: () => undefined,
  onNote: () => undefined,
  onDecide: () => undefined,
  onOpenConversation: () => undefined,
  onOpenCustomer: () => undefined,
};
const a: Approval = { ...awaiting, amount_minor: 4998 };
const card = (s: Partial<CardState> = {}, x: Approval = a) => render(<ApprovalCardView a={x} {...idle} {...s} now={now} locale="en-US" />);
const view = (p: Partial<ApprovalsViewProps>) => render(<ApprovalsView approvals={[]} loading={false} error="" card={() => idle} now={now} locale="en-US" {...p} />);
const disabled = (tag: string) => /\sdisabled=""/.test(tag);

describe('ApprovalCardView', () => {
  it('shows the customer, subject, amount, why it needs approval and links to the conversation', () => {
    const r = card();
    expect(r.byTestId('approval-customer')).toEqual(['Grace Hopper']);
    expect(r.tags('approval-customer')[0]).toContain('href="/customers/cus_1"');
    expect(r.byTestId('approval-subject')).toEqual(['#1001']);
    expect(r.byTestId('approval-amount')).toEqual(['$49.98']);
    expect(r.byTestId('approval-reason')).toEqual(['Needs approval: above the 50.00 USD limit']);
    expect(r.tags('approval-conversation')[0]).toContain('href="/inbox/conv_1"');
    expect(r.byTestId('approval-expiry')).toEqual([' · expires in 23 hours']);
    expect(r.text).toContain('customer said yes');
    expect(r.byTestId('approval-approve')).toEqual(['Approve']);
    expect(r.byTestId('approval-reject')).toEqual(['Reject']);
    expect(r.byTestId('approval-confirm')).toEqual([]);
    expect(disabled(r.tags('approval-approve')[0])).toBe(false);
  });

  it('asks before approving: "Refund 49.98 USD on #1001?"', () => {
    const r = card({ stage: 'approve', note: 'ok by policy' });
    expect(r.byTestId('approval-question')).toEqual(['Refund 49.98 USD on #1001?']);
    expect(r.tags('approval-confirm')[0]).toContain('data-decision="approve"');
    expect(r.byTestId('approval-confirm-yes')).toEqual(['Yes, approve']);
    expect(r.byTestId('approval-confirm-cancel')).toEqual(['Cancel']);
    expect(r.byTestId('approval-approve')).toEqual([]);
    expect(r.byTestId('approval-note')).toEqual(['ok by policy']);
  });

  it('asks before rejecting', () => {
    const r = card({ stage: 'reject' });
    expect(r.byTestId('approval-question')).toEqual(['Reject the refund of 49.98 USD on #1001?']);
    expect(r.byTestId('approval-confirm-yes')).toEqual(['Yes, reject']);
  });

  it('is disabled while the decision is in flight', () => {
    const r = card({ stage: 'approve', busy: 'approve' });
    expect(r.byTestId('approval-confirm-yes')).toEqual(['Approving…']);
    expect(disabled(r.tags('approval-confirm-yes')[0])).toBe(true);
    expect(disabled(r.tags('approval-confirm-cancel')[0])).toBe(true);
    expect(disabled(r.tags('approval-note')[0])).toBe(true);
    expect(r.tags('approval')[0]).toContain('data-busy="approve"');
    expect(card({ stage: 'reject', busy: 'reject' }).byTestId('approval-confirm-yes')).toEqual(['Rejecting…']);
  });

  it('shows an error', () => {
    expect(card({ error: 'Could not approve it: boom' }).byTestId('approval-error')).toEqual(['Could not approve it: boom']);
  });

  it('copes with a queue entry a frame added before the name is known', () => {
    expect(card({}, { ...a, customer_name: '', approval_reason: '' }).byTestId('approval-customer')).toEqual(['Customer']);
    expect(card({}, { ...a, approval_reason: '' }).byTestId('approval-reason')).toEqual(['Needs approval: above the policy’s limits']);
  });
});

describe('ApprovalsView', () => {
  it('lists the queue in the order given (oldest first) with its count', () => {
    const older: Approval = { ...a, id: 'cf_0', subject: '#1000', created_at: '2025-03-01T08:00:00Z' };
    const r = view({ approvals: [older, a] });
    expect(r.tags('approval').map((t) => /data-confirmation-id="([^"]*)"/.exec(t)?.[1])).toEqual(['cf_0', 'cf_4']);
    expect(r.byTestId('approvals-count')).toEqual(['2']);
    expect(r.byTestId('approvals-empty')).toEqual([]);
  });
  it('says when nothing awaits approval, while loading, and errors', () => {
    expect(view({ approvals: [] }).byTestId('approvals-empty')).toEqual(['Nothing awaits approval.']);
    expect(view({ approvals: [] }).byTestId('approvals-count')).toEqual([]);
    expect(view({ approvals: null, loading: true }).byTestId('approvals-loading')).toEqual(['Loading the queue…']);
    expect(view({ approvals: null, error: 'Only supervisors and admins may see the approval queue.' }).byTestId('approvals-error')).toEqual([
      'Only supervisors and admins may see the approval queue.',
    ]);
  });
  it('shows what the last decision did', () => {
    const ok = view({ banner: { tone: 'notice', text: 'Approved and executed.' } });
    expect(ok.byTestId('approvals-outcome')).toEqual(['Approved and executed.']);
    expect(ok.tags('approvals-outcome')[0]).toContain('role="status"');
    const gone = view({ banner: { tone: 'error', text: 'no longer awaits approval' } });
    expect(gone.byTestId('approvals-outcome')).toEqual(['no longer awaits approval']);
    expect(gone.tags('approvals-outcome')[0]).toContain('role="alert"');
  });
});
