import { describe, expect, it } from 'vitest';
import { OrderCard, OrdersView, type OrdersViewProps } from '../src/Orders';
import type { Order } from '../src/types';
import { render } from './html';

// An order as GET /api/v1/customers/{id}/orders sends it.
const order: Order = {
  id: 'ord_1',
  customer_id: 'cus_1',
  source: 'shopify',
  shop: 'acme.myshopify.com',
  external_id: '450789469',
  number: '1001',
  status: 'open',
  financial_status: 'paid',
  fulfillment_status: null,
  total_minor: 4998,
  refunded_minor: 0,
  currency: 'USD',
  line_items: [{ external_id: '1', title: 'Blue mug', sku: 'MUG-B', quantity: 2, price_minor: 2499 }],
  tracking: [{ company: 'UPS', number: '1Z999', url: 'https://www.ups.com/track?tracknum=1Z999', status: 'in_transit' }],
  admin_url: 'https://acme.myshopify.com/admin/orders/450789469',
  created_at: '2025-03-01T09:00:00Z',
  updated_at: '2025-03-01T09:05:00Z',
  cancelled_at: null,
};

const view = (p: Partial<OrdersViewProps>) => render(<OrdersView orders={[]} loading={false} error="" hasMore={false} loadingMore={false} locale="en-US" {...p} />);

describe('OrderCard', () => {
  it('shows number, total, badges, line items, tracking and the admin link', () => {
    const r = render(<OrderCard order={order} locale="en-US" />);
    expect(r.byTestId('order-number')).toEqual(['#1001']);
    expect(r.byTestId('order-total')).toEqual(['$49.98']);
    expect(r.byTestId('order-refunded')).toEqual([]);
    expect(r.byTestId('order-financial')).toEqual(['paid']);
    expect(r.tags('order-financial')[0]).toContain('tone-ok');
    expect(r.byTestId('order-fulfillment')).toEqual(['unfulfilled']);
    expect(r.tags('order-fulfillment')[0]).toContain('tone-warn');
    expect(r.byTestId('order-cancelled')).toEqual([]);
    expect(r.byTestId('order-line')[0]).toMatch(/^2 × Blue mug MUG-B\$24\.99 each · \$49\.98$/);
    expect(r.byTestId('order-tracking-link')).toEqual(['1Z999']);
    expect(r.tags('order-tracking-link')[0]).toContain('href="https://www.ups.com/track?tracknum=1Z999"');
    expect(r.byTestId('order-admin-link')).toEqual(['Open in Shopify admin']);
    const admin = r.tags('order-admin-link')[0];
    expect(admin).toContain('href="https://acme.myshopify.com/admin/orders/450789469"');
    expect(admin).toContain('target="_blank"');
    expect(admin).toMatch(/rel="[^"]*noopener/);
    expect(r.byTestId('order-shop')).toEqual(['Shopify · acme.myshopify.com']);
    // the date placed, as a machine-readable time
    expect(r.html).toContain('dateTime="2025-03-01T09:00:00Z"');
  });

  it('shows refunds, cancellation and a Magento admin link', () => {
    const r = render(
      <OrderCard
        order={{
          ...order,
          source: 'magento',
          shop: 'shop.example.com',
          status: 'cancelled',
          cancelled_at: '2025-03-02T10:00:00Z',
          financial_status: 'refunded',
          fulfillment_status: 'fulfilled',
          refunded_minor: 1500,
          total_minor: 1500,
          currency: 'JPY',
          line_items: [{ title: 'Tea', quantity: 1, price_minor: 1500 }],
          admin_url: 'https://shop.example.com/admin/sales/order/view/order_id/7/',
        }}
        locale="en-US"
      />,
    );
    expect(r.byTestId('order-total')).toEqual(['¥1,500']);
    expect(r.byTestId('order-refunded')).toEqual([' refunded ¥1,500']);
    expect(r.byTestId('order-cancelled')).toEqual(['cancelled']);
    expect(r.tags('order-cancelled')[0]).toContain('tone-bad');
    expect(r.tags('order-financial')[0]).toContain('tone-neutral');
    expect(r.tags('order-fulfillment')[0]).toContain('tone-ok');
    expect(r.byTestId('order-line')).toEqual(['1 × Tea¥1,500']);
    expect(r.byTestId('order-admin-link')).toEqual(['Open in Magento admin']);
  });

  it('writes KWD with three digits', () => {
    const r = render(<OrderCard order={{ ...order, currency: 'KWD', total_minor: 12345, refunded_minor: 5, line_items: [] }} locale="en-US" />);
    expect(r.byTestId('order-total')).toEqual(['KWD 12.345']);
    expect(r.byTestId('order-refunded')).toEqual([' refunded KWD 0.005']);
  });

  it('shows a tracking number without a URL as text, and no admin link without admin_url', () => {
    const r = render(<OrderCard order={{ ...order, tracking: [{ company: 'DHL', number: 'JD0001' }], admin_url: '' }} locale="en-US" />);
    expect(r.byTestId('order-tracking-link')).toEqual([]);
    expect(r.byTestId('order-tracking-number')).toEqual(['JD0001']);
    expect(r.byTestId('order-admin-link')).toEqual([]);
  });

  it('never links to a javascript: URL from the shop', () => {
    const r = render(<OrderCard order={{ ...order, admin_url: 'javascript:alert(1)', tracking: [{ number: 'X1', url: 'javascript:alert(2)' }] }} locale="en-US" />);
    expect(r.html).not.toContain('javascript:');
    expect(r.byTestId('order-tracking-number')).toEqual(['X1']);
  });
});

describe('OrdersView', () => {
  it('says it is loading', () => {
    const r = view({ loading: true });
    expect(r.tags('orders-section')[0]).toContain('data-state="loading"');
    expect(r.byTestId('orders-loading')).toEqual(['Loading orders…']);
    expect(r.byTestId('orders-empty')).toEqual([]);
  });
  it('says when there are no orders', () => {
    const r = view({});
    expect(r.byTestId('orders-empty')).toEqual(['No orders from a connected shop.']);
    expect(r.byTestId('orders-more')).toEqual([]);
  });
  it('shows an error with a retry', () => {
    const r = view({ error: 'Could not load orders: boom', onRetry: () => undefined });
    expect(r.tags('orders-section')[0]).toContain('data-state="error"');
    expect(r.byTestId('orders-error')[0]).toContain('Could not load orders: boom');
    expect(r.byTestId('orders-retry')).toEqual(['Retry']);
    expect(r.byTestId('orders-empty')).toEqual([]);
  });
  it('lists the orders in the order given, with "Load more" while there is a next page', () => {
    const second = { ...order, id: 'ord_0', number: '1000', created_at: '2025-02-01T09:00:00Z' };
    const r = view({ orders: [order, second], hasMore: true });
    expect(r.byTestId('order-number')).toEqual(['#1001', '#1000']);
    expect(r.byTestId('orders-more')).toEqual(['Load more']);
    expect(view({ orders: [order], hasMore: true, loadingMore: true }).tags('orders-more')[0]).toContain('disabled');
    expect(view({ orders: [order], hasMore: false }).byTestId('orders-more')).toEqual([]);
  });
  it('keeps the orders shown when a later page fails', () => {
    const r = view({ orders: [order], error: 'Could not load orders: boom', hasMore: true });
    expect(r.tags('orders-section')[0]).toContain('data-state="ready"');
    expect(r.byTestId('order-number')).toEqual(['#1001']);
    expect(r.byTestId('orders-error')[0]).toContain('boom');
  });
});
