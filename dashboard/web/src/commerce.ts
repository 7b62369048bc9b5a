// Pure logic of the shop pages (Orders.tsx, Shops.tsx): money in minor units,
// status badges, labels and relative times. No DOM, no network: tested by
// tests/commerce.test.ts.

import type { Tone } from './timeline';
import type { Order } from './types';

/**
 * fractionDigits is how many minor-unit digits currency has, as Intl knows
 * it (USD 2, JPY 0, KWD 3); null when Intl does not take the code.
 */
export function fractionDigits(currency: string): number | null {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? null;
  } catch {
    return null;
  }
}

/**
 * minorToDecimal writes an integer amount of minor units as a decimal string
 * with digits fraction digits: (4999, 2) → "49.99", (-5, 2) → "-0.05",
 * (1500, 0) → "1500", (1234, 3) → "1.234". String arithmetic only, so no
 * float ever rounds a cent.
 */
export function minorToDecimal(minor: number, digits: number): string {
  const n = Math.trunc(minor);
  const abs = String(Math.abs(n));
  const sign = n < 0 ? '-' : '';
  if (digits <= 0) return sign + abs;
  const padded = abs.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

// format with a decimal string: Intl formats it exactly where the engine
// reads numeric strings as decimals (Intl.NumberFormat v3), and as the
// Number the string parses to elsewhere: the one, final division.
type Formatter = { format: (v: number | string) => string };

/**
 * formatMinor formats an amount in the currency's minor units for people:
 * (4998, "USD") → "$49.98", (1500, "JPY") → "¥1,500", (1234, "KWD") →
 * "KWD 1.234" in en-US (locale: the viewer's when not given). An unknown
 * currency code is written as "49.98 XXQ" (2 digits); a missing amount "—".
 */
export function formatMinor(minor: number | null | undefined, currency: string | null | undefined, locale?: string): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return '—';
  const code = (currency ?? '').trim().toUpperCase();
  const digits = code ? fractionDigits(code) : null;
  if (digits === null) {
    const plain = minorToDecimal(minor, 2);
    return code ? `${plain} ${code}` : plain;
  }
  const f = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }) as unknown as Formatter;
  return f.format(minorToDecimal(minor, digits));
}

/**
 * formatMinorCode writes an amount in minor units with the currency's code
 * and no symbol, the same in every locale, for the text of a decision:
 * (4998, "USD") → "49.98 USD", (1500, "JPY") → "1500 JPY", (1234, "KWD") →
 * "1.234 KWD"; an unknown code takes 2 digits; a missing amount "—".
 */
export function formatMinorCode(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return '—';
  const code = (currency ?? '').trim().toUpperCase();
  const digits = code ? fractionDigits(code) : null;
  const plain = minorToDecimal(minor, digits ?? 2);
  return code ? `${plain} ${code}` : plain;
}

/** lineTotalMinor is quantity × unit price, in minor units (integers only). */
export function lineTotalMinor(quantity: number, priceMinor: number): number {
  return Math.trunc(quantity) * Math.trunc(priceMinor);
}

const FINANCIAL: Record<string, Tone> = {
  paid: 'ok',
  pending: 'warn',
  authorized: 'warn',
  partially_paid: 'warn',
  partially_refunded: 'warn',
  refunded: 'neutral',
  voided: 'bad',
  // Magento order states, as its webhooks send them
  processing: 'ok',
  complete: 'ok',
  pending_payment: 'warn',
  payment_review: 'warn',
  holded: 'warn',
  closed: 'neutral',
  canceled: 'bad',
  cancelled: 'bad',
};

/** financialTone colours an order's financial status: paid good, pending warning, refunded muted, voided bad. */
export function financialTone(status: string | null | undefined): Tone {
  return FINANCIAL[(status ?? '').trim().toLowerCase()] ?? 'neutral';
}

const FULFILLMENT: Record<string, Tone> = {
  fulfilled: 'ok',
  shipped: 'ok',
  delivered: 'ok',
  complete: 'ok',
  unfulfilled: 'warn',
  partial: 'warn',
  partially_fulfilled: 'warn',
  in_progress: 'warn',
  scheduled: 'warn',
  on_hold: 'warn',
  restocked: 'neutral',
  cancelled: 'bad',
  canceled: 'bad',
};

/** fulfillmentStatus names an order's fulfilment: the shop's word, "unfulfilled" when it sent none. */
export function fulfillmentStatus(status: string | null | undefined): string {
  return (status ?? '').trim().toLowerCase() || 'unfulfilled';
}

/** fulfillmentTone colours a fulfilment status: fulfilled good, unfulfilled or partial warning. */
export function fulfillmentTone(status: string | null | undefined): Tone {
  return FULFILLMENT[fulfillmentStatus(status)] ?? 'neutral';
}

/** isCancelled says whether the shop cancelled the order. */
export function isCancelled(o: Pick<Order, 'status' | 'cancelled_at'>): boolean {
  return o.status === 'cancelled' || o.status === 'canceled' || !!o.cancelled_at;
}

/** badgeLabel makes a status readable: "partially_refunded" → "partially refunded". */
export function badgeLabel(status: string | null | undefined): string {
  return (status ?? '').replace(/_/g, ' ').trim() || '—';
}

const SOURCES: Record<string, string> = { shopify: 'Shopify', magento: 'Magento' };

/** sourceLabel names a shop system: "shopify" → "Shopify". */
export function sourceLabel(source: string | null | undefined): string {
  const s = (source ?? '').trim();
  return SOURCES[s.toLowerCase()] ?? (s ? s[0].toUpperCase() + s.slice(1) : 'Shop');
}

/** adminLinkLabel is the text of the link to an order's admin page: "Open in Shopify admin". */
export function adminLinkLabel(source: string | null | undefined): string {
  return `Open in ${sourceLabel(source)} admin`;
}

/** orderLabel is what the customer calls the order: "#1001" (the shop's id when it has no number). */
export function orderLabel(o: Pick<Order, 'number' | 'external_id' | 'id'>): string {
  const n = (o.number || '').replace(/^#/, '') || o.external_id || o.id;
  return `#${n}`;
}

/** safeHref keeps http(s) URLs only, so a shop's data cannot put a javascript: link on the page. */
export function safeHref(url: string | null | undefined): string {
  const u = (url ?? '').trim();
  return /^https?:\/\//i.test(u) ? u : '';
}

/** mergeOrders appends a later page to the orders shown, each order once (the later copy wins in place). */
export function mergeOrders(shown: readonly Order[], page: readonly Order[]): Order[] {
  const byId = new Map(page.map((o) => [o.id, o]));
  const out = shown.map((o) => byId.get(o.id) ?? o);
  const seen = new Set(shown.map((o) => o.id));
  for (const o of page) {
    if (!seen.has(o.id)) {
      seen.add(o.id);
      out.push(o);
    }
  }
  return out;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/**
 * relativeTime says how long ago (or ahead) at is from now: "5 minutes ago",
 * "yesterday", "now" (locale: the viewer's when not given); "" when at is
 * not a time.
 */
export function relativeTime(at: string | null | undefined, now: Date = new Date(), locale?: string): string {
  const t = at ? Date.parse(at) : NaN;
  if (Number.isNaN(t)) return '';
  const secs = Math.round((t - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (Math.abs(secs) < 45) return rtf.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size || unit === 'second') return rtf.format(Math.trunc(secs / size), unit);
  }
  return '';
}
