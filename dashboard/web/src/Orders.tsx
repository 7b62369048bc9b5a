// The Orders section of Customer 360: the customer's orders from the
// connected shops (GET /api/v1/customers/{id}/orders, newest first, a page at
// a time), each with its total, refunds, payment and fulfilment badges, line
// items, tracking links and a link to the order in the shop's admin.
// OrdersSection loads; OrdersView and OrderCard only render (tests render
// them on the server). The logic lives in commerce.ts.

import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import {
  adminLinkLabel,
  badgeLabel,
  financialTone,
  formatMinor,
  fulfillmentStatus,
  fulfillmentTone,
  isCancelled,
  lineTotalMinor,
  mergeOrders,
  orderLabel,
  safeHref,
  sourceLabel,
} from './commerce';
import { Badge, When } from './ui';
import type { Order } from './types';

/** ORDERS_PAGE is how many orders one request (and one "Load more") brings. */
export const ORDERS_PAGE = 20;

interface SectionProps {
  api: Api;
  customerId: string;
  /** signs out on a 401 and answers true; false for any other error */
  isAuthError: (e: unknown) => boolean;
}

/** OrdersSection loads the customer's orders and renders them with OrdersView. */
export function OrdersSection({ api, customerId, isAuthError }: SectionProps) {
  const [orders, setOrders] = useState<Order[]>([]);
  const [next, setNext] = useState('');
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [moreError, setMoreError] = useState('');
  const [loadingMore, setLoadingMore] = useState(false);
  // Answers for another customer, or for a load that was started over, are dropped.
  const seq = useRef(0);

  const load = () => {
    const my = ++seq.current;
    setLoading(true);
    setError('');
    setMoreError('');
    api.customerOrders(customerId, ORDERS_PAGE).then(
      (page) => {
        if (my !== seq.current) return;
        setOrders(page.orders ?? []);
        setNext(page.next_cursor ?? '');
        setLoading(false);
      },
      (e) => {
        if (my !== seq.current || isAuthError(e)) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    setOrders([]);
    setNext('');
    load();
    return () => {
      seq.current++;
    };
  }, [customerId]);

  const more = () => {
    if (!next || loadingMore) return;
    const my = seq.current;
    setLoadingMore(true);
    setMoreError('');
    api.customerOrders(customerId, ORDERS_PAGE, next).then(
      (page) => {
        if (my !== seq.current) return;
        setOrders((cur) => mergeOrders(cur, page.orders ?? []));
        setNext(page.next_cursor ?? '');
        setLoadingMore(false);
      },
      (e) => {
        if (my !== seq.current || isAuthError(e)) return;
        setMoreError(errorText(e));
        setLoadingMore(false);
      },
    );
  };

  return (
    <OrdersView
      orders={orders}
      loading={loading}
      error={error || moreError}
      hasMore={!!next}
      loadingMore={loadingMore}
      onMore={more}
      onRetry={load}
    />
  );
}

function errorText(e: unknown): string {
  if (e instanceof ApiError && e.status === 403) return 'Your role may not see orders.';
  return `Could not load orders: ${(e as Error).message || 'unknown error'}`;
}

export interface OrdersViewProps {
  orders: readonly Order[];
  loading: boolean;
  /** what went wrong loading the first page or a later one ("" when nothing did) */
  error: string;
  hasMore: boolean;
  loadingMore: boolean;
  onMore?: () => void;
  onRetry?: () => void;
  /** BCP 47 locale of money and dates (the viewer's when not given) */
  locale?: string;
}

/** OrdersView renders the Orders section: loading, error, empty, or the orders and "Load more". */
export function OrdersView({ orders, loading, error, hasMore, loadingMore, onMore, onRetry, locale }: OrdersViewProps) {
  const state = loading && orders.length === 0 ? 'loading' : error && orders.length === 0 ? 'error' : orders.length === 0 ? 'empty' : 'ready';
  return (
    <section className="orders" data-testid="orders-section" data-state={state} aria-labelledby="orders-title">
      <h3 className="section-title" id="orders-title">
        Orders {orders.length > 0 && <span className="muted small">{orders.length}{hasMore ? '+' : ''}</span>}
      </h3>
      {state === 'loading' && (
        <p className="muted" data-testid="orders-loading" role="status">
          Loading orders…
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="orders-error">
          {error}{' '}
          {onRetry && orders.length === 0 && (
            <button type="button" data-testid="orders-retry" onClick={onRetry}>
              Retry
            </button>
          )}
        </p>
      )}
      {state === 'empty' && (
        <p className="muted" data-testid="orders-empty">
          No orders from a connected shop.
        </p>
      )}
      {orders.length > 0 && (
        <ol className="order-list">
          {orders.map((o) => (
            <OrderCard key={o.id} order={o} locale={locale} />
          ))}
        </ol>
      )}
      {hasMore && orders.length > 0 && (
        <button type="button" className="more" data-testid="orders-more" disabled={loadingMore} onClick={onMore}>
          {loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

/** OrderCard renders one order. */
export function OrderCard({ order: o, locale }: { order: Order; locale?: string }) {
  const cancelled = isCancelled(o);
  const admin = safeHref(o.admin_url);
  const lines = o.line_items ?? [];
  const tracking = (o.tracking ?? []).filter((t) => t.number || t.url);
  const fulfillment = fulfillmentStatus(o.fulfillment_status);
  return (
    <li className={'order' + (cancelled ? ' cancelled' : '')} data-testid="order" data-order-id={o.id} data-source={o.source}>
      <div className="order-head">
        <strong className="order-number" data-testid="order-number">
          {orderLabel(o)}
        </strong>
        <span className="muted small">
          placed <When at={o.created_at} locale={locale} />
        </span>
        <span className="order-badges">
          {cancelled && (
            <Badge tone="bad" testid="order-cancelled" title="Order status">
              cancelled
            </Badge>
          )}
          {o.financial_status && (
            <Badge tone={financialTone(o.financial_status)} testid="order-financial" title="Payment status">
              {badgeLabel(o.financial_status)}
            </Badge>
          )}
          <Badge tone={fulfillmentTone(fulfillment)} testid="order-fulfillment" title="Fulfilment status">
            {badgeLabel(fulfillment)}
          </Badge>
        </span>
        <span className="spacer" />
        <span className="order-money">
          <span className="amount" data-testid="order-total">
            {formatMinor(o.total_minor, o.currency, locale)}
          </span>
          {o.refunded_minor > 0 && (
            <span className="refunded small" data-testid="order-refunded">
              {' '}
              refunded {formatMinor(o.refunded_minor, o.currency, locale)}
            </span>
          )}
        </span>
      </div>
      {lines.length > 0 && (
        <ul className="order-lines">
          {lines.map((l, i) => (
            <li key={l.external_id || i} data-testid="order-line">
              <span>
                {l.quantity} × {l.title || l.sku || 'item'}
              </span>
              {l.sku && <span className="muted small"> {l.sku}</span>}
              <span className="spacer" />
              {l.quantity !== 1 && <span className="muted small">{formatMinor(l.price_minor, o.currency, locale)} each · </span>}
              <span className="amount small" data-testid="order-line-total">
                {formatMinor(lineTotalMinor(l.quantity, l.price_minor), o.currency, locale)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {tracking.length > 0 && (
        <ul className="order-tracking">
          {tracking.map((t, i) => {
            const href = safeHref(t.url);
            const label = t.number || 'Track shipment';
            return (
              <li key={`${t.number}:${i}`} data-testid="order-tracking">
                <span className="muted">{t.company ? `${t.company} ` : 'Tracking '}</span>
                {href ? (
                  <a href={href} target="_blank" rel="noopener noreferrer" data-testid="order-tracking-link">
                    {label}
                  </a>
                ) : (
                  <span data-testid="order-tracking-number">{label}</span>
                )}
                {t.status && <span className="muted small"> · {badgeLabel(t.status)}</span>}
              </li>
            );
          })}
        </ul>
      )}
      <div className="order-foot muted small">
        <span data-testid="order-shop">
          {sourceLabel(o.source)}
          {o.shop && ` · ${o.shop}`}
        </span>
        {admin && (
          <>
            {' · '}
            <a href={admin} target="_blank" rel="noopener noreferrer" data-testid="order-admin-link">
              {adminLinkLabel(o.source)}
            </a>
          </>
        )}
      </div>
    </li>
  );
}
