import { describe, expect, it } from 'vitest';
import {
  adminLinkLabel,
  badgeLabel,
  financialTone,
  formatMinor,
  fractionDigits,
  fulfillmentStatus,
  fulfillmentTone,
  isCancelled,
  lineTotalMinor,
  mergeOrders,
  minorToDecimal,
  orderLabel,
  relativeTime,
  safeHref,
  sourceLabel,
} from '../src/commerce';
import type { Order } from '../src/types';
import css from '../src/style.css?raw';

// en-US puts a no-break space between a currency code and the number; tests read it as a space.
const fmt = (minor: number | null | undefined, currency: string | null | undefined) => formatMinor(minor, currency, 'en-US').replace(/\u00a0/g, ' ');

describe('money in minor units', () => {
  it('takes the fraction digits from Intl: USD 2, JPY 0, KWD 3', () => {
    expect(fractionDigits('USD')).toBe(2);
    expect(fractionDigits('JPY')).toBe(0);
    expect(fractionDigits('KWD')).toBe(3);
    expect(fractionDigits('not a currency')).toBeNull();
  });
  it('writes minor units as a decimal with string arithmetic', () => {
    expect(minorToDecimal(4999, 2)).toBe('49.99');
    expect(minorToDecimal(5, 2)).toBe('0.05');
    expect(minorToDecimal(-5, 2)).toBe('-0.05');
    expect(minorToDecimal(0, 2)).toBe('0.00');
    expect(minorToDecimal(1500, 0)).toBe('1500');
    expect(minorToDecimal(1234, 3)).toBe('1.234');
    expect(minorToDecimal(7, 3)).toBe('0.007');
  });
  it('formats USD', () => {
    expect(fmt(4998, 'USD')).toBe('$49.98');
    expect(fmt(4999, 'usd')).toBe('$49.99');
    expect(fmt(5, 'USD')).toBe('$0.05');
    expect(fmt(0, 'USD')).toBe('$0.00');
    expect(fmt(123456789, 'USD')).toBe('$1,234,567.89');
    expect(fmt(-1250, 'USD')).toBe('-$12.50');
  });
  it('formats JPY without minor digits: 1500 minor units are ¥1,500', () => {
    expect(fmt(1500, 'JPY')).toBe('¥1,500');
    expect(fmt(1, 'JPY')).toBe('¥1');
  });
  it('formats KWD with three digits: 1234 minor units are 1.234 dinars', () => {
    expect(fmt(1234, 'KWD')).toBe('KWD 1.234');
    expect(fmt(7, 'KWD')).toBe('KWD 0.007');
    expect(fmt(10000, 'KWD')).toBe('KWD 10.000');
  });
  it('never rounds a cent through floats', () => {
    // 0.29 * 100, 1.005 and friends are not representable; minor units are integers.
    expect(fmt(29, 'USD')).toBe('$0.29');
    expect(fmt(1005, 'USD')).toBe('$10.05');
    expect(fmt(100000000000000001, 'USD')).not.toContain('e+');
    // beyond 2^53 cents the integer itself is not exact; below it every cent is
    expect(fmt(9007199254740991, 'USD')).toBe('$90,071,992,547,409.91');
  });
  it('uses the locale given', () => {
    expect(formatMinor(4998, 'EUR', 'de-DE').replace(/\u00a0/g, ' ')).toBe('49,98 €');
  });
  it('copes with a missing amount or an unknown currency', () => {
    expect(fmt(undefined, 'USD')).toBe('—');
    expect(fmt(null, 'USD')).toBe('—');
    expect(fmt(Number.NaN, 'USD')).toBe('—');
    expect(fmt(4998, '')).toBe('49.98');
    expect(fmt(4998, 'XX')).toBe('49.98 XX');
  });
  it('multiplies line prices in integers', () => {
    expect(lineTotalMinor(2, 2499)).toBe(4998);
    expect(fmt(lineTotalMinor(3, 333), 'USD')).toBe('$9.99');
  });
});

describe('badges', () => {
  it('colours financial statuses by meaning', () => {
    expect(financialTone('paid')).toBe('ok');
    for (const s of ['pending', 'authorized', 'partially_paid', 'partially_refunded']) expect(financialTone(s), s).toBe('warn');
    expect(financialTone('refunded')).toBe('neutral');
    expect(financialTone('voided')).toBe('bad');
    expect(financialTone('PAID')).toBe('ok');
    expect(financialTone('something_new')).toBe('neutral');
    expect(financialTone(undefined)).toBe('neutral');
  });
  it('colours fulfilment statuses by meaning; none sent reads "unfulfilled"', () => {
    expect(fulfillmentTone('fulfilled')).toBe('ok');
    expect(fulfillmentTone('unfulfilled')).toBe('warn');
    expect(fulfillmentTone('partial')).toBe('warn');
    expect(fulfillmentStatus(null)).toBe('unfulfilled');
    expect(fulfillmentStatus('')).toBe('unfulfilled');
    expect(fulfillmentTone(null)).toBe('warn');
    expect(fulfillmentTone('restocked')).toBe('neutral');
    expect(fulfillmentTone('cancelled')).toBe('bad');
  });
  it('labels statuses with words', () => {
    expect(badgeLabel('partially_refunded')).toBe('partially refunded');
    expect(badgeLabel('')).toBe('—');
  });
  it('knows a cancelled order by its status or its cancelled_at', () => {
    expect(isCancelled({ status: 'cancelled', cancelled_at: null })).toBe(true);
    expect(isCancelled({ status: 'open', cancelled_at: '2025-03-01T09:00:00Z' })).toBe(true);
    expect(isCancelled({ status: 'open', cancelled_at: null })).toBe(false);
  });

  // WCAG 2 contrast of each badge tone's text on its background, as style.css sets them.
  it('keeps a contrast of at least 4.5:1 in every tone', () => {
    const rule = (sel: string) => {
      const m = new RegExp(sel.replace(/\./g, '\\.') + '\\s*\\{([^}]*)\\}').exec(css);
      if (!m) throw new Error(`no rule ${sel}`);
      const bg = /background:\s*(#[0-9a-f]{6})/i.exec(m[1])?.[1];
      const fg = /(?:^|;)\s*color:\s*(#[0-9a-f]{6})/i.exec(m[1])?.[1];
      if (!bg || !fg) throw new Error(`${sel} lacks a background or color: ${m[1]}`);
      return [fg, bg];
    };
    const lum = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a: string, b: string) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    for (const sel of ['.pill', '.pill.tone-ok', '.pill.tone-warn', '.pill.tone-bad', '.pill.tone-info']) {
      const [fg, bg] = rule(sel);
      expect(contrast(fg, bg), `${sel} ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('labels and links', () => {
  it('names the shop system and its admin link', () => {
    expect(sourceLabel('shopify')).toBe('Shopify');
    expect(sourceLabel('magento')).toBe('Magento');
    expect(sourceLabel('woo')).toBe('Woo');
    expect(adminLinkLabel('shopify')).toBe('Open in Shopify admin');
    expect(adminLinkLabel('magento')).toBe('Open in Magento admin');
  });
  it('writes the order number as the customer knows it', () => {
    expect(orderLabel({ id: 'o1', number: '1001', external_id: '450789469' })).toBe('#1001');
    expect(orderLabel({ id: 'o1', number: '#1001', external_id: '450789469' })).toBe('#1001');
    expect(orderLabel({ id: 'o1', number: '', external_id: '450789469' })).toBe('#450789469');
  });
  it('links only to http(s) URLs', () => {
    expect(safeHref('https://acme.myshopify.com/admin/orders/1')).toBe('https://acme.myshopify.com/admin/orders/1');
    expect(safeHref('javascript:alert(1)')).toBe('');
    expect(safeHref('')).toBe('');
    expect(safeHref(undefined)).toBe('');
  });
});

describe('relativeTime', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  it('says how long ago', () => {
    expect(relativeTime('2025-03-01T11:59:50Z', now, 'en')).toBe('now');
    expect(relativeTime('2025-03-01T11:55:00Z', now, 'en')).toBe('5 minutes ago');
    expect(relativeTime('2025-03-01T09:00:00Z', now, 'en')).toBe('3 hours ago');
    expect(relativeTime('2025-02-28T11:00:00Z', now, 'en')).toBe('yesterday');
    expect(relativeTime('2025-01-01T12:00:00Z', now, 'en')).toBe('last month');
  });
  it('answers "" for no time', () => {
    expect(relativeTime(null, now)).toBe('');
    expect(relativeTime('not a time', now)).toBe('');
  });
});

describe('mergeOrders', () => {
  const o = (id: string, status = 'open') => ({ id, status }) as Order;
  it('appends a later page, each order once, keeping the place of one seen before', () => {
    const out = mergeOrders([o('a'), o('b')], [o('b', 'cancelled'), o('c')]);
    expect(out.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    expect(out[1].status).toBe('cancelled');
  });
});
