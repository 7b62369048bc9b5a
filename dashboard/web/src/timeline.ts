// Pure logic of the Customer 360 page (Customers.tsx): money, ordering and
// grouping of the timeline, badges, links and paths. No DOM, no network:
// tested by tests/timeline.test.ts.

import type { Customer, TimelineItem, TimelineKind } from './types';

export const KINDS: TimelineKind[] = ['conversation', 'order', 'ticket', 'payment'];

export const kindLabel: Record<TimelineKind, string> = {
  conversation: 'Conversation',
  order: 'Order',
  ticket: 'Ticket',
  payment: 'Payment',
};

// ISO 4217 currencies without minor units (amounts are still sent in the
// currency's smallest unit, so 1500 JPY is 1500 "cents"), and those with 3.
const ZERO_DECIMALS = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMALS = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

/** decimalsOf returns how many minor-unit digits currency has (2 unless known otherwise). */
export function decimalsOf(currency: string): number {
  const c = (currency ?? '').trim().toUpperCase();
  if (ZERO_DECIMALS.has(c)) return 0;
  if (THREE_DECIMALS.has(c)) return 3;
  return 2;
}

/**
 * formatMoney turns an amount in the currency's smallest unit into a readable
 * string: (1250, "eur") → "12.50 EUR", (-5, "EUR") → "-0.05 EUR",
 * (1500, "JPY") → "1500 JPY". Integer arithmetic only, so no float rounding.
 * A missing amount is "—"; a missing currency leaves just the number.
 */
export function formatMoney(cents: number | null | undefined, currency: string | null | undefined): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '—';
  const cur = (currency ?? '').trim().toUpperCase();
  const d = decimalsOf(cur);
  const neg = cents < 0;
  const abs = String(Math.abs(Math.trunc(cents)));
  let num: string;
  if (d === 0) {
    num = abs;
  } else {
    const padded = abs.padStart(d + 1, '0');
    num = `${padded.slice(0, -d)}.${padded.slice(-d)}`;
  }
  const out = (neg && Math.trunc(cents) !== 0 ? '-' : '') + num;
  return cur ? `${out} ${cur}` : out;
}

function time(at: string): number {
  const t = Date.parse(at);
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * compareNewestFirst orders timeline items newest first; items at the same
 * instant are ordered by kind (conversation, order, ticket, payment) and then
 * by id, so the order is stable whatever order the server sent them in.
 * Items without a valid time go last.
 */
export function compareNewestFirst(a: TimelineItem, b: TimelineItem): number {
  const ta = time(a.at);
  const tb = time(b.at);
  if (ta !== tb) return ta === -Infinity ? 1 : tb === -Infinity ? -1 : tb - ta;
  const ka = KINDS.indexOf(a.kind);
  const kb = KINDS.indexOf(b.kind);
  if (ka !== kb) return ka - kb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** itemKey identifies an item across kinds (a ticket and an order may share an id). */
export function itemKey(it: Pick<TimelineItem, 'kind' | 'id'>): string {
  return `${it.kind}:${it.id}`;
}

/** sortTimeline returns items newest first, each kind+id once (the later copy wins). */
export function sortTimeline(items: readonly TimelineItem[]): TimelineItem[] {
  const byKey = new Map<string, TimelineItem>();
  for (const it of items) byKey.set(itemKey(it), it);
  return [...byKey.values()].sort(compareNewestFirst);
}

/** filterTimeline keeps the items of the given kinds (all when kinds is empty). */
export function filterTimeline(items: readonly TimelineItem[], kinds: readonly TimelineKind[]): TimelineItem[] {
  if (kinds.length === 0) return items.slice();
  return items.filter((it) => kinds.includes(it.kind));
}

/** countByKind counts items per kind (every kind present, 0 when none). */
export function countByKind(items: readonly TimelineItem[]): Record<TimelineKind, number> {
  const out: Record<TimelineKind, number> = { conversation: 0, order: 0, ticket: 0, payment: 0 };
  for (const it of items) if (it.kind in out) out[it.kind]++;
  return out;
}

/** localDay is the viewer's calendar day of an RFC 3339 time, as YYYY-MM-DD ("" when invalid). */
export function localDay(at: string): string {
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
}

export interface DayGroup {
  /** YYYY-MM-DD, or "" for items without a valid time */
  day: string;
  items: TimelineItem[];
}

/**
 * groupByDay sorts items newest first and splits them into runs of the same
 * day (dayOf, the viewer's local day by default), newest day first.
 */
export function groupByDay(items: readonly TimelineItem[], dayOf: (at: string) => string = localDay): DayGroup[] {
  const out: DayGroup[] = [];
  for (const it of sortTimeline(items)) {
    const day = dayOf(it.at);
    const last = out[out.length - 1];
    if (last && last.day === day) last.items.push(it);
    else out.push({ day, items: [it] });
  }
  return out;
}

/** dayLabel names a YYYY-MM-DD day relative to today (also YYYY-MM-DD): "Today", "Yesterday" or the day. */
export function dayLabel(day: string, today: string): string {
  if (!day) return 'Unknown date';
  if (day === today) return 'Today';
  const [y, m, d] = today.split('-').map(Number);
  const yest = new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
  return day === yest ? 'Yesterday' : day;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

const TONES: Record<string, Tone> = {
  // conversations
  open: 'info',
  waiting_human: 'warn',
  closed: 'neutral',
  // tickets
  pending: 'warn',
  solved: 'ok',
  // orders
  paid: 'ok',
  fulfilled: 'ok',
  shipped: 'ok',
  delivered: 'ok',
  completed: 'ok',
  processing: 'info',
  created: 'info',
  cancelled: 'bad',
  canceled: 'bad',
  refunded: 'neutral',
  partially_refunded: 'warn',
  // payments
  requires_payment: 'warn',
  requires_action: 'warn',
  succeeded: 'ok',
  failed: 'bad',
  expired: 'neutral',
};

/** statusTone picks the badge colour of an item's status. */
export function statusTone(status: string | undefined): Tone {
  return TONES[(status ?? '').toLowerCase()] ?? 'neutral';
}

/** statusLabel makes a status readable: "waiting_human" → "waiting human". */
export function statusLabel(status: string | undefined): string {
  return (status ?? '').replace(/_/g, ' ').trim() || '—';
}

/** priorityTone colours a ticket priority. */
export function priorityTone(priority: string | undefined): Tone {
  switch (priority) {
    case 'urgent':
      return 'bad';
    case 'high':
      return 'warn';
    case 'low':
      return 'neutral';
    default:
      return 'info';
  }
}

/** conversationOf returns the conversation an item belongs to ("" when none). */
export function conversationOf(it: TimelineItem): string {
  if (it.kind === 'conversation') return it.conversation_id || it.id;
  return it.kind === 'order' ? '' : (it.conversation_id ?? '');
}

/** inboxHref is the app path of a conversation. */
export function inboxHref(conversationId: string): string {
  return `/inbox/${encodeURIComponent(conversationId)}`;
}

/** customerIdFromPath reads the customer id of /customers/{id} ("" on /customers). */
export function customerIdFromPath(path: string): string {
  const m = /^\/customers\/([^/]+)\/?$/.exec(path);
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** customerHref is the app path of a customer ("/customers" for none). */
export function customerHref(id: string): string {
  return id ? `/customers/${encodeURIComponent(id)}` : '/customers';
}

/** customerTitle names a customer: name, else phone, email, a channel id, the id. */
export function customerTitle(c: Pick<Customer, 'id' | 'name' | 'phone' | 'email'> & { identities?: Customer['identities'] }): string {
  return c.name || c.phone || c.email || c.identities?.[0]?.external_id || c.id;
}

/** channelIds lists a customer's identities as "channel: external id". */
export function channelIds(c: Pick<Customer, 'identities'>): string[] {
  return (c.identities ?? []).map((i) => `${i.channel}: ${i.external_id}`);
}

/** SHOP_SOURCES are identities of a shop's customer: no channel a conversation can be opened on. */
const SHOP_SOURCES = new Set(['shopify', 'magento']);

/** channelsOf lists the distinct channels a customer wrote on, in identity order (shop accounts are none). */
export function channelsOf(c: Pick<Customer, 'identities'>): string[] {
  return [...new Set((c.identities ?? []).map((i) => i.channel).filter((ch) => ch && !SHOP_SOURCES.has(ch)))];
}

/** newIdempotencyKey returns a random key for one submission of a form. */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
