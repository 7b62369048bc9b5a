import { describe, expect, it } from 'vitest';
import {
  channelIds,
  channelsOf,
  compareNewestFirst,
  conversationOf,
  countByKind,
  customerHref,
  customerIdFromPath,
  customerTitle,
  dayLabel,
  decimalsOf,
  filterTimeline,
  formatMoney,
  groupByDay,
  inboxHref,
  newIdempotencyKey,
  priorityTone,
  sortTimeline,
  statusLabel,
  statusTone,
} from '../src/timeline';
import type { Customer, TimelineItem } from '../src/types';

// A timeline as GET /api/v1/customers/{id}/timeline sends it, but shuffled.
const fixture: TimelineItem[] = [
  { kind: 'order', id: 'ord_1', at: '2025-03-01T09:00:00Z', title: 'Order #1001', status: 'paid', source: 'shopify', external_id: '1001', total_cents: 1250, currency: 'EUR' },
  {
    kind: 'conversation',
    id: 'conv_1',
    at: '2025-03-03T12:00:00Z',
    title: 'Where is my order?',
    status: 'open',
    channel: 'whatsapp',
    writer: 'ai',
    conversation_id: 'conv_1',
  },
  {
    kind: 'payment',
    id: 'pay_1',
    at: '2025-03-01T09:05:00Z',
    title: 'Payment for order #1001',
    status: 'succeeded',
    amount_cents: 1250,
    currency: 'eur',
    provider: 'stripe',
    order_id: 'ord_1',
    conversation_id: 'conv_1',
  },
  {
    kind: 'ticket',
    id: 'tkt_1',
    at: '2025-03-03T12:00:00Z',
    title: 'Refund request',
    status: 'open',
    priority: 'high',
    description: 'Item arrived broken',
    conversation_id: 'conv_1',
  },
  { kind: 'order', id: 'ord_0', at: '2025-02-27T23:30:00Z', title: 'Order #1000', status: 'cancelled', source: 'shopify', external_id: '1000', total_cents: 99, currency: 'USD' },
];

describe('formatMoney', () => {
  it('writes cents and currency readably', () => {
    expect(formatMoney(1250, 'EUR')).toBe('12.50 EUR');
    expect(formatMoney(1250, 'eur')).toBe('12.50 EUR');
    expect(formatMoney(5, 'USD')).toBe('0.05 USD');
    expect(formatMoney(0, 'USD')).toBe('0.00 USD');
    expect(formatMoney(100, 'GBP')).toBe('1.00 GBP');
    expect(formatMoney(123456789, 'EUR')).toBe('1234567.89 EUR');
  });
  it('handles negative amounts (refunds)', () => {
    expect(formatMoney(-1250, 'EUR')).toBe('-12.50 EUR');
    expect(formatMoney(-5, 'EUR')).toBe('-0.05 EUR');
  });
  it('knows currencies without or with three minor digits', () => {
    expect(decimalsOf('JPY')).toBe(0);
    expect(formatMoney(1500, 'JPY')).toBe('1500 JPY');
    expect(formatMoney(1500, 'KWD')).toBe('1.500 KWD');
    expect(formatMoney(7, 'BHD')).toBe('0.007 BHD');
  });
  it('avoids float rounding', () => {
    // 0.1 + 0.2 style errors would show 10.000000000000002 etc.
    expect(formatMoney(1001, 'EUR')).toBe('10.01 EUR');
    expect(formatMoney(29, 'EUR')).toBe('0.29 EUR');
    expect(formatMoney(2.9e3, 'EUR')).toBe('29.00 EUR');
  });
  it('copes with missing parts', () => {
    expect(formatMoney(1250, '')).toBe('12.50');
    expect(formatMoney(undefined, 'EUR')).toBe('—');
    expect(formatMoney(null, 'EUR')).toBe('—');
    expect(formatMoney(Number.NaN, 'EUR')).toBe('—');
  });
});

describe('timeline order', () => {
  it('sorts newest first, ties by kind then id', () => {
    const ids = sortTimeline(fixture).map((i) => `${i.kind}:${i.id}`);
    expect(ids).toEqual(['conversation:conv_1', 'ticket:tkt_1', 'payment:pay_1', 'order:ord_1', 'order:ord_0']);
  });
  it('does not depend on the input order', () => {
    const a = sortTimeline(fixture).map((i) => i.id);
    const b = sortTimeline([...fixture].reverse()).map((i) => i.id);
    expect(b).toEqual(a);
  });
  it('keeps each kind+id once, the later copy winning', () => {
    const updated = { ...fixture[3], status: 'solved' } as TimelineItem;
    const out = sortTimeline([...fixture, updated]);
    expect(out).toHaveLength(fixture.length);
    expect(out.find((i) => i.id === 'tkt_1')?.status).toBe('solved');
    // the same id in two kinds is two items
    const clash = { ...fixture[0], kind: 'ticket', id: 'ord_1', priority: 'low', description: '' } as TimelineItem;
    expect(sortTimeline([...fixture, clash])).toHaveLength(fixture.length + 1);
  });
  it('puts items without a valid time last', () => {
    const bad = { ...fixture[0], id: 'ord_x', at: 'not a time' } as TimelineItem;
    const out = sortTimeline([bad, ...fixture]);
    expect(out[out.length - 1].id).toBe('ord_x');
    expect(compareNewestFirst(bad, fixture[0])).toBeGreaterThan(0);
    expect(compareNewestFirst(fixture[0], bad)).toBeLessThan(0);
  });
  it('does not change its input', () => {
    const copy = JSON.stringify(fixture);
    sortTimeline(fixture);
    groupByDay(fixture);
    expect(JSON.stringify(fixture)).toBe(copy);
  });
});

describe('grouping and filtering', () => {
  const utcDay = (at: string) => at.slice(0, 10);
  it('groups by day, newest day first, items newest first', () => {
    const g = groupByDay(fixture, utcDay);
    expect(g.map((d) => d.day)).toEqual(['2025-03-03', '2025-03-01', '2025-02-27']);
    expect(g[0].items.map((i) => i.id)).toEqual(['conv_1', 'tkt_1']);
    expect(g[1].items.map((i) => i.id)).toEqual(['pay_1', 'ord_1']);
    expect(g[2].items.map((i) => i.kind)).toEqual(['order']);
  });
  it('groups by the local day by default', () => {
    const g = groupByDay(fixture);
    expect(g.flatMap((d) => d.items)).toHaveLength(fixture.length);
    for (const d of g) expect(d.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
  it('names today and yesterday', () => {
    expect(dayLabel('2025-03-03', '2025-03-03')).toBe('Today');
    expect(dayLabel('2025-02-28', '2025-03-01')).toBe('Yesterday');
    expect(dayLabel('2024-12-31', '2025-01-01')).toBe('Yesterday');
    expect(dayLabel('2025-02-27', '2025-03-01')).toBe('2025-02-27');
    expect(dayLabel('', '2025-03-01')).toBe('Unknown date');
  });
  it('filters and counts by kind', () => {
    expect(filterTimeline(fixture, []).length).toBe(fixture.length);
    expect(filterTimeline(fixture, ['order']).map((i) => i.id)).toEqual(['ord_1', 'ord_0']);
    expect(filterTimeline(fixture, ['ticket', 'payment']).map((i) => i.kind).sort()).toEqual(['payment', 'ticket']);
    expect(countByKind(fixture)).toEqual({ conversation: 1, order: 2, ticket: 1, payment: 1 });
    expect(countByKind([])).toEqual({ conversation: 0, order: 0, ticket: 0, payment: 0 });
  });
});

describe('badges and links', () => {
  it('colours statuses and priorities', () => {
    expect(statusTone('waiting_human')).toBe('warn');
    expect(statusTone('succeeded')).toBe('ok');
    expect(statusTone('cancelled')).toBe('bad');
    expect(statusTone('PAID')).toBe('ok');
    expect(statusTone('something_new')).toBe('neutral');
    expect(statusTone(undefined)).toBe('neutral');
    expect(statusLabel('waiting_human')).toBe('waiting human');
    expect(statusLabel('')).toBe('—');
    expect(priorityTone('urgent')).toBe('bad');
    expect(priorityTone('high')).toBe('warn');
    expect(priorityTone('normal')).toBe('info');
  });
  it('links items to their conversation', () => {
    const [order, conv, pay, ticket] = fixture;
    expect(conversationOf(conv)).toBe('conv_1');
    expect(conversationOf({ ...conv, conversation_id: '' } as TimelineItem)).toBe('conv_1');
    expect(conversationOf(ticket)).toBe('conv_1');
    expect(conversationOf(pay)).toBe('conv_1');
    expect(conversationOf(order)).toBe('');
    expect(inboxHref('conv 1/x')).toBe('/inbox/conv%201%2Fx');
  });
  it('reads and writes customer paths', () => {
    expect(customerIdFromPath('/customers')).toBe('');
    expect(customerIdFromPath('/customers/')).toBe('');
    expect(customerIdFromPath('/customers/cus_1')).toBe('cus_1');
    expect(customerIdFromPath('/customers/cus%201/')).toBe('cus 1');
    expect(customerIdFromPath('/inbox/cus_1')).toBe('');
    expect(customerIdFromPath(customerHref('a/b c'))).toBe('a/b c');
    expect(customerHref('')).toBe('/customers');
  });
});

describe('customers', () => {
  const ada: Customer = {
    id: 'cus_1',
    name: 'Ada Lovelace',
    email: '',
    phone: '+15550001111',
    language: 'en',
    last_seen_at: null,
    created_at: '2025-03-01T09:00:00Z',
    updated_at: '2025-03-01T09:00:00Z',
    identities: [
      { id: 'id_1', channel: 'whatsapp', external_id: '15550001111', display_name: 'Ada', created_at: '2025-03-01T09:00:00Z' },
      { id: 'id_2', channel: 'telegram', external_id: '42', display_name: 'Ada', created_at: '2025-03-01T09:00:00Z' },
      { id: 'id_3', channel: 'whatsapp', external_id: '15550002222', display_name: 'Ada', created_at: '2025-03-01T09:00:00Z' },
    ],
  };
  it('names a customer by the best field there is', () => {
    expect(customerTitle(ada)).toBe('Ada Lovelace');
    expect(customerTitle({ ...ada, name: '' })).toBe('+15550001111');
    expect(customerTitle({ ...ada, name: '', phone: '', email: 'a@b.c' })).toBe('a@b.c');
    expect(customerTitle({ ...ada, name: '', phone: '' })).toBe('15550001111');
    expect(customerTitle({ ...ada, name: '', phone: '', identities: [] })).toBe('cus_1');
  });
  it('lists channel ids and distinct channels', () => {
    expect(channelIds(ada)).toEqual(['whatsapp: 15550001111', 'telegram: 42', 'whatsapp: 15550002222']);
    expect(channelsOf(ada)).toEqual(['whatsapp', 'telegram']);
    expect(channelsOf({ identities: [] })).toEqual([]);
  });
  it('does not offer a shop account as a channel to open a conversation on', () => {
    const shop = { id: 'id_4', channel: 'shopify', external_id: 'acme.myshopify.com/207119551', display_name: '', created_at: '2025-03-01T09:00:00Z' };
    const magento = { ...shop, id: 'id_5', channel: 'magento', external_id: 'shop.example.com/7' };
    expect(channelsOf({ identities: [shop, ...ada.identities, magento] })).toEqual(['whatsapp', 'telegram']);
    expect(channelsOf({ identities: [shop] })).toEqual([]);
  });
  it('makes a fresh idempotency key each time', () => {
    const a = newIdempotencyKey();
    const b = newIdempotencyKey();
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
  });
});
