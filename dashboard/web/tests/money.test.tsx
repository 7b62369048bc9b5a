import { describe, expect, it } from 'vitest';
import { ConfirmationsPanel, RefundsPaymentsView, moneyRows, type RefundsPaymentsViewProps } from '../src/Confirmations';
import { MessageRow } from '../src/Inbox';
import type { Confirmation, Message, TimelinePayment } from '../src/types';
import { render } from './html';
import { awaiting, executed, failed, now, pending, rejected } from './fixtures';

const users = { usr_sup: 'Sam Supervisor' };
const panel = (confirmations: Confirmation[] | undefined, extra: { error?: string; canApprove?: boolean } = {}) =>
  render(
    <ConfirmationsPanel
      confirmations={confirmations}
      error={extra.error ?? ''}
      users={users}
      canApprove={extra.canApprove ?? false}
      onApprovals={() => undefined}
      now={now}
      locale="en-US"
    />,
  );
const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];

describe('ConfirmationsPanel (inbox)', () => {
  it('shows nothing for a conversation without confirmations, or before they load', () => {
    expect(panel([]).html).toBe('');
    expect(panel(undefined).html).toBe('');
  });

  it('shows each confirmation: action, subject, amount from minor units, state badge, expiry', () => {
    const r = panel([pending, executed, failed, rejected]);
    // those still waiting come first, then newest first as the API sent them
    expect(r.tags('confirmation').map((t) => attr(t, 'data-confirmation-id'))).toEqual(['cf_3', 'cf_1', 'cf_2', 'cf_5']);
    expect(r.tags('confirmation').map((t) => attr(t, 'data-state'))).toEqual(['pending', 'executed', 'failed', 'declined']);
    expect(r.byTestId('confirmation-action')).toEqual(['Refund', 'Refund', 'Refund', 'Refund']);
    expect(r.byTestId('confirmation-subject')).toEqual(['#1003', '#1001', '#1002', '#1001']);
    expect(r.byTestId('confirmation-amount')).toEqual(['$25.00', '$49.98', '¥1,500', '$75.00']);
    expect(r.byTestId('confirmation-state')).toEqual(['waiting for customer', 'executed', 'failed', 'declined']);
    expect(r.tags('confirmation-state').map((t) => attr(t, 'data-tone'))).toEqual(['warn', 'ok', 'bad', 'neutral']);
    expect(r.byTestId('confirmation-expiry')).toEqual(['expires in 9 minutes']);
    expect(r.byTestId('confirmations')[0]).toMatch(/^Confirmations 4 · 1 waiting · 1 failed/);
  });

  it('shows a failure with the provider’s reason and the tries', () => {
    const r = panel([failed]);
    expect(r.byTestId('confirmation-error')).toEqual(['The provider refused: Refund amount exceeds the refundable amount (2 tries)']);
    expect(r.tags('confirmation-state')[0]).toContain('title="The provider refused: Refund amount exceeds the refundable amount"');
    expect(r.byTestId('confirmation-step-error')).toEqual(['Provider: Refund amount exceeds the refundable amount']);
  });

  it('shows the refund the provider made', () => {
    const r = panel([executed]);
    expect(r.byTestId('confirmation-refund-id')).toEqual(['gid://shopify/Refund/929361463']);
    expect(r.byTestId('confirmation-result')[0]).toBe('Refund gid://shopify/Refund/929361463 · $49.98');
    expect(panel([{ ...executed, result: { ...executed.result!, replayed: true } }]).byTestId('confirmation-result')[0]).toContain('not refunded twice');
  });

  it('lays out the timeline oldest first, with who took each step and the time', () => {
    const r = panel([executed]);
    expect(r.tags('confirmation-step').map((t) => attr(t, 'data-action'))).toEqual(['confirmation.proposed', 'confirmation.confirmed', 'confirmation.executed']);
    expect(r.byTestId('confirmation-step-label')).toEqual(['Proposed; customer asked', 'Customer said yes', 'Executed']);
    expect(r.byTestId('confirmation-step-actor')).toEqual(['AI', 'Customer', 'Runtime']);
    expect(r.byTestId('confirmation-step-reason')).toEqual(['mug arrived broken']);
    expect(r.html).toContain('dateTime="2025-03-01T11:01:00Z"');
    // steps a second apart stay apart: their times carry seconds
    for (const step of r.byTestId('confirmation-step')) expect(step).toMatch(/\d:\d\d:\d\d/);
    // collapsed until asked for: readable with many confirmations
    expect(r.tags('confirmation-timeline')[0]).not.toContain(' open');
  });

  it('names the supervisor who rejected, with the note', () => {
    const r = panel([rejected]);
    expect(r.byTestId('confirmation-step-actor')).toEqual(['AI', 'Customer', 'Sam Supervisor']);
    expect(r.byTestId('confirmation-step-label')).toEqual(['Proposed; customer asked', 'Customer said yes; sent for approval', 'Rejected']);
    expect(r.byTestId('confirmation-step-note')).toEqual(['Note: “customer already got a voucher”']);
  });

  it('says why one needs approval, linking supervisors to the queue', () => {
    const agent = panel([awaiting]);
    expect(agent.byTestId('confirmation-state')).toEqual(['needs approval']);
    expect(agent.tags('confirmation-state')[0]).toContain('tone-warn');
    expect(agent.byTestId('confirmation-approval')[0]).toBe('The customer said yes; a supervisor must approve it: above the 50.00 USD limit.');
    expect(agent.byTestId('confirmation-approvals-link')).toEqual([]);
    const sup = panel([awaiting], { canApprove: true });
    expect(sup.byTestId('confirmation-approvals-link')).toEqual(['Decide in Approvals →']);
  });

  it('says when the confirmations could not load', () => {
    expect(panel(undefined, { error: 'boom' }).byTestId('confirmations-error')).toEqual(['Could not load the confirmations: boom']);
  });
});

describe('MessageRow', () => {
  const msg = (sender: string, direction: Message['direction'] = 'outbound'): Message => ({
    id: 'm_' + sender,
    direction,
    text: 'Refund 49.98 USD on #1001? Reply Yes or No.',
    kind: 'text',
    status: 'sent',
    sender,
    created_at: '2025-03-01T11:00:00Z',
  });
  it('shows the runtime’s messages as automated, apart from the AI’s and people’s', () => {
    const sys = render(<MessageRow m={msg('system')} users={{}} />);
    expect(sys.byTestId('message-who')).toEqual(['Runtime automated']);
    expect(sys.tags('message')[0]).toContain('data-sender="system"');
    expect(sys.tags('message')[0]).toContain('sender-system');
    const ai = render(<MessageRow m={msg('ai')} users={{}} />);
    expect(ai.byTestId('message-who')).toEqual(['AI']);
    expect(ai.tags('message')[0]).toContain('data-sender="ai"');
    expect(render(<MessageRow m={msg('user:u1')} users={{ u1: 'Ann' }} />).byTestId('message-who')).toEqual(['Ann']);
    expect(render(<MessageRow m={msg('customer', 'inbound')} users={{}} />).byTestId('message-who')).toEqual(['Customer']);
  });
});

describe('RefundsPaymentsView (Customer 360)', () => {
  const payment: TimelinePayment = {
    kind: 'payment',
    id: 'pay_1',
    at: '2025-03-01T10:30:00Z',
    title: 'Payment',
    status: 'paid',
    amount_cents: 4998,
    currency: 'USD',
    provider: 'stripe',
    order_id: '#1001',
    conversation_id: 'conv_1',
  };
  const view = (p: Partial<RefundsPaymentsViewProps>) =>
    render(<RefundsPaymentsView confirmations={[]} payments={[]} loading={false} error="" onOpenConversation={() => undefined} now={now} locale="en-US" {...p} />);

  it('lists refunds and payments newest first: state, amount, order, refund id, time', () => {
    const r = view({ confirmations: [executed, failed, awaiting], payments: [payment] });
    expect(r.tags('money-row').map((t) => `${attr(t, 'data-kind')}:${attr(t, 'data-id')}`)).toEqual(['refund:cf_4', 'refund:cf_1', 'payment:pay_1', 'refund:cf_2']);
    expect(r.byTestId('money-order')).toEqual(['#1001', '#1001', '#1001', '#1002']);
    expect(r.byTestId('money-amount')).toEqual(['$75.00', '$49.98', '$49.98', '¥1,500']);
    expect(r.byTestId('money-state')).toEqual(['needs approval', 'executed', 'paid', 'failed']);
    expect(r.byTestId('money-refund-id')).toEqual(['gid://shopify/Refund/929361463']);
    expect(r.byTestId('money-error-reason')).toEqual(['Refund amount exceeds the refundable amount']);
    expect(r.byTestId('money-provider')).toEqual(['stripe']);
    expect(r.tags('money-conversation-link')[0]).toContain('href="/inbox/conv_1"');
    // the time it was resolved, else proposed
    expect(r.html).toContain('dateTime="2025-03-01T11:02:00Z"');
    expect(r.tags('money-section')[0]).toContain('data-state="ready"');
  });

  it('says it is loading, empty, or failed', () => {
    expect(view({ confirmations: null, loading: true }).byTestId('money-loading')).toEqual(['Loading refunds…']);
    expect(view({}).byTestId('money-empty')).toEqual(['No refunds or payments.']);
    const failedLoad = view({ confirmations: null, error: 'boom', onRetry: () => undefined, payments: [payment] });
    expect(failedLoad.byTestId('money-error')[0]).toContain('Could not load the refunds: boom');
    // payments still show when the refunds failed
    expect(failedLoad.tags('money-row')).toHaveLength(1);
  });

  it('orders ties refunds first', () => {
    const rows = moneyRows([{ ...executed, created_at: payment.at }], [payment]);
    expect(rows.map((r) => r.kind)).toEqual(['refund', 'payment']);
  });
});
