import { describe, expect, it } from 'vitest';
import { ShopsView, type ShopsViewProps } from '../src/Shops';
import type { Shop } from '../src/types';
import { render } from './html';

const now = new Date('2025-03-01T12:00:00Z');

// Shops as GET /api/v1/commerce/shops sends them.
const shopify: Shop = {
  id: 'shop_1',
  source: 'shopify',
  domain: 'acme.myshopify.com',
  status: 'connected',
  webhook_url: 'https://desk.example.com/webhooks/shopify',
  last_event_at: '2025-03-01T11:55:00Z',
  last_event_topic: 'orders/create',
  events_total: 12,
  failures_total: 1,
  last_failure: 'invalid signature',
  last_failure_at: '2025-03-01T09:00:00Z',
};
const magento: Shop = {
  id: 'shop_2',
  source: 'magento',
  domain: 'shop.example.com',
  status: 'uninstalled',
  webhook_url: 'https://desk.example.com/webhooks/magento',
  last_event_at: null,
  last_event_topic: '',
  events_total: 0,
  failures_total: 0,
  last_failure: '',
  last_failure_at: null,
};

const view = (p: Partial<ShopsViewProps>) => render(<ShopsView shops={[]} loading={false} error="" origin="https://desk.example.com" now={now} locale="en" {...p} />);

describe('ShopsView', () => {
  it('lists each shop: source, domain, status, last event, webhook URL with a copy button, events and failures', () => {
    const r = view({ shops: [shopify, magento] });
    expect(r.tags('shop-row').map((t) => /data-domain="([^"]*)"/.exec(t)?.[1])).toEqual(['acme.myshopify.com', 'shop.example.com']);
    expect(r.byTestId('shop-domain')).toEqual(['acme.myshopify.com', 'shop.example.com']);
    expect(r.byTestId('shop-status')).toEqual(['connected', 'uninstalled']);
    expect(r.tags('shop-status')[0]).toContain('tone-ok');
    expect(r.tags('shop-status')[1]).toContain('tone-bad');
    expect(r.byTestId('shop-last-event')).toEqual(['5 minutes ago · orders/create', 'no event yet']);
    expect(r.byTestId('shop-last-topic')).toEqual(['orders/create']);
    expect(r.byTestId('shop-webhook-url')).toEqual(['https://desk.example.com/webhooks/shopify', 'https://desk.example.com/webhooks/magento']);
    expect(r.byTestId('shop-webhook-copy')).toEqual(['Copy', 'Copy']);
    expect(r.byTestId('shop-events')).toEqual(['12', '0']);
    expect(r.byTestId('shop-failures')[0]).toBe('1last: invalid signature · 3 hours ago');
    expect(r.byTestId('shop-last-failure')).toEqual(['last: invalid signature · 3 hours ago']);
    expect(r.byTestId('shop-failures')[1]).toBe('0');
    expect(r.text).toContain('Shopify');
    expect(r.text).toContain('Magento');
    expect(r.byTestId('shops-failure-help')).toHaveLength(1);
    expect(r.byTestId('shops-empty')).toEqual([]);
  });

  it('explains how to connect a shop when there is none', () => {
    const r = view({ shops: [] });
    const help = r.byTestId('shops-empty')[0];
    for (const v of ['FRONTDESK_SHOPIFY_WEBHOOK_SECRET', 'FRONTDESK_SHOPIFY_SHOP', 'FRONTDESK_MAGENTO_WEBHOOK_SECRET', 'FRONTDESK_MAGENTO_BASE_URL']) expect(help).toContain(v);
    expect(help).toContain('https://desk.example.com/webhooks/shopify');
    expect(help).toContain('https://desk.example.com/webhooks/magento');
    expect(r.tags('shop-row')).toEqual([]);
    expect(r.byTestId('shops-failure-help')).toEqual([]);
  });

  it('says it is loading before the first answer, and shows errors', () => {
    const loading = view({ shops: null, loading: true });
    expect(loading.byTestId('shops-loading')).toEqual(['Loading shops…']);
    expect(loading.byTestId('shops-empty')).toEqual([]);
    const failed = view({ shops: null, error: 'Only supervisors and admins may see the shops.' });
    expect(failed.byTestId('shops-error')).toEqual(['Only supervisors and admins may see the shops.']);
    expect(failed.byTestId('shops-empty')).toEqual([]);
  });
});
