// Confirmations as the API sends them (GET /api/v1/conversations/{id}/confirmations,
// /customers/{id}/confirmations, /approvals), shared by the tests.

import type { Approval, Confirmation, KnowledgeDocument } from '../src/types';

/** now is the instant the tests read relative times from. */
export const now = new Date('2025-03-01T12:00:00Z');

/** executed: a refund the customer said yes to, carried out by Shopify. */
export const executed: Confirmation = {
  id: 'cf_1',
  customer_id: 'cus_1',
  conversation_id: 'conv_1',
  action: 'refund_order',
  subject: '#1001',
  amount_minor: 4998,
  currency: 'USD',
  state: 'executed',
  expires_at: '2025-03-01T11:10:00Z',
  created_at: '2025-03-01T11:00:00Z',
  resolved_at: '2025-03-01T11:02:00Z',
  approval_reason: '',
  result: { refund_id: 'gid://shopify/Refund/929361463', amount_minor: 4998, currency: 'USD', replayed: false },
  last_error: '',
  failed_executions: 0,
  timeline: [
    // out of order on purpose: the view sorts oldest first
    { action: 'confirmation.executed', at: '2025-03-01T11:02:00Z', actor_kind: 'system', actor_id: '', data: { refund_id: 'gid://shopify/Refund/929361463' } },
    { action: 'confirmation.proposed', at: '2025-03-01T11:00:00Z', actor_kind: 'ai', actor_id: 'agent_1', data: { reason: 'mug arrived broken' } },
    { action: 'confirmation.confirmed', at: '2025-03-01T11:01:00Z', actor_kind: 'customer', actor_id: 'cus_1', data: {} },
  ],
};

/** failed: confirmed, but the provider refused twice. */
export const failed: Confirmation = {
  ...executed,
  id: 'cf_2',
  subject: '#1002',
  amount_minor: 1500,
  currency: 'JPY',
  state: 'confirmed',
  created_at: '2025-03-01T10:00:00Z',
  resolved_at: '2025-03-01T10:01:00Z',
  result: null,
  last_error: 'Refund amount exceeds the refundable amount',
  failed_executions: 2,
  timeline: [
    { action: 'confirmation.proposed', at: '2025-03-01T10:00:00Z', actor_kind: 'ai', actor_id: '', data: null },
    { action: 'confirmation.confirmed', at: '2025-03-01T10:01:00Z', actor_kind: 'customer', actor_id: 'cus_1' },
    { action: 'confirmation.execution_failed', at: '2025-03-01T10:01:05Z', actor_kind: 'system', actor_id: '', data: { error: 'Refund amount exceeds the refundable amount' } },
  ],
};

/** pending: asked, waiting for the customer, expires in 9 minutes. */
export const pending: Confirmation = {
  ...executed,
  id: 'cf_3',
  subject: '#1003',
  amount_minor: 2500,
  state: 'pending',
  expires_at: '2025-03-01T12:09:00Z',
  created_at: '2025-03-01T11:59:00Z',
  resolved_at: null,
  result: null,
  timeline: [{ action: 'confirmation.proposed', at: '2025-03-01T11:59:00Z', actor_kind: 'ai', actor_id: '' }],
};

/** awaiting: the customer said yes above the limit. */
export const awaiting: Approval = {
  ...executed,
  id: 'cf_4',
  customer_name: 'Grace Hopper',
  subject: '#1001',
  amount_minor: 7500,
  state: 'awaiting_approval',
  expires_at: '2025-03-02T11:00:00Z',
  created_at: '2025-03-01T11:30:00Z',
  resolved_at: null,
  approval_reason: 'above the 50.00 USD limit',
  result: null,
  timeline: [
    { action: 'confirmation.proposed', at: '2025-03-01T11:30:00Z', actor_kind: 'ai', actor_id: '' },
    // the customer's yes above the limit is one step, taken by the customer
    { action: 'confirmation.awaiting_approval', at: '2025-03-01T11:31:00Z', actor_kind: 'customer', actor_id: 'cus_1', data: {} },
  ],
};

/** rejected: a supervisor said no, with a note. */
export const rejected: Confirmation = {
  ...awaiting,
  id: 'cf_5',
  state: 'declined',
  created_at: '2025-03-01T09:00:00Z',
  resolved_at: '2025-03-01T09:30:00Z',
  timeline: [
    { action: 'confirmation.proposed', at: '2025-03-01T09:00:00Z', actor_kind: 'ai', actor_id: '' },
    { action: 'confirmation.awaiting_approval', at: '2025-03-01T09:01:00Z', actor_kind: 'customer', actor_id: 'cus_1', data: {} },
    { action: 'confirmation.rejected', at: '2025-03-01T09:30:00Z', actor_kind: 'user', actor_id: 'usr_sup', data: { note: 'customer already got a voucher' } },
  ],
};

/** knowledgeDoc is a document as GET /api/v1/knowledge/documents/{id} sends it. */
export const knowledgeDoc = (over: Partial<KnowledgeDocument> = {}): KnowledgeDocument => ({
  id: 'kd_1',
  title: 'Returns policy',
  kind: 'policy',
  tags: ['returns'],
  language: 'en',
  source_url: 'https://help.example.com/returns',
  valid_from: null,
  valid_until: null,
  format: 'markdown',
  source: 'upload',
  size_bytes: 1234,
  status: 'ready',
  error: '',
  version: 1,
  chunk_count: 3,
  created_at: '2025-03-01T10:00:00Z',
  updated_at: '2025-03-01T11:00:00Z',
  ...over,
});
