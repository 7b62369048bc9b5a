// The Shops settings page (admins and supervisors): each connected shop
// (GET /api/v1/commerce/shops) with its status, last event, the webhook URL
// to give the shop (with a copy button), events received and refused
// deliveries. Shops loads; ShopsView only renders (tests render it on the
// server). The logic lives in commerce.ts.

import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from './api';
import { relativeTime, sourceLabel } from './commerce';
import { can } from './roles';
import { Badge } from './ui';
import type { Role, Shop } from './types';

interface Props {
  api: Api;
  role: Role;
  onUnauthorized: () => void;
}

/** Shops loads the shops and renders them with ShopsView; Refresh loads them again. */
export function Shops({ api, role, onUnauthorized }: Props) {
  const [shops, setShops] = useState<Shop[] | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const seq = useRef(0);
  const allowed = can.viewShops(role);

  const load = () => {
    const my = ++seq.current;
    setLoading(true);
    setError('');
    api.shops().then(
      (s) => {
        if (my !== seq.current) return;
        setShops(s);
        setLoading(false);
      },
      (e) => {
        if (my !== seq.current) return;
        if (e instanceof ApiError && e.status === 401) return onUnauthorized();
        setError(e instanceof ApiError && e.status === 403 ? 'Only supervisors and admins may see the shops.' : `Could not load the shops: ${(e as Error).message}`);
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    if (allowed) load();
    return () => {
      seq.current++;
    };
  }, [allowed]);

  if (!allowed) {
    return (
      <main className="shops detail">
        <p className="muted">The shops page is for supervisors and admins.</p>
      </main>
    );
  }
  return <ShopsView shops={shops} loading={loading} error={error} onRefresh={load} origin={window.location.origin} />;
}

export interface ShopsViewProps {
  /** null until the first answer */
  shops: readonly Shop[] | null;
  loading: boolean;
  error: string;
  onRefresh?: () => void;
  /** this app's origin, for the webhook URLs of the empty state */
  origin: string;
  /** the time relative times are from (now when not given) */
  now?: Date;
  locale?: string;
}

/** ShopsView renders the shops table, or how to connect a shop when there is none. */
export function ShopsView({ shops, loading, error, onRefresh, origin, now, locale }: ShopsViewProps) {
  const at = now ?? new Date();
  return (
    <main className="shops detail" data-testid="shops-page">
      <div className="page-head">
        <h2>Shops</h2>
        {onRefresh && (
          <button type="button" data-testid="shops-refresh" onClick={onRefresh} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        )}
      </div>
      <p className="muted">Orders and customers reach frontdesk through each shop's webhooks; a shop's orders show on its customers' pages.</p>
      {error && (
        <p className="error" role="alert" data-testid="shops-error">
          {error}
        </p>
      )}
      {shops === null && loading && (
        <p className="muted" role="status" data-testid="shops-loading">
          Loading shops…
        </p>
      )}
      {shops !== null && shops.length === 0 && <ConnectHelp origin={origin} />}
      {shops !== null && shops.length > 0 && (
        <table className="shops-table">
          <thead>
            <tr>
              <th>Source</th>
              <th>Shop</th>
              <th>Status</th>
              <th>Last event</th>
              <th>Webhook URL</th>
              <th className="num">Events</th>
              <th className="num">Failures</th>
            </tr>
          </thead>
          <tbody>
            {shops.map((s) => (
              <tr key={s.id || `${s.source}:${s.domain}`} data-testid="shop-row" data-domain={s.domain} data-source={s.source}>
                <td>{sourceLabel(s.source)}</td>
                <td data-testid="shop-domain">{s.domain}</td>
                <td>
                  <Badge tone={s.status === 'connected' ? 'ok' : s.status === 'uninstalled' ? 'bad' : 'neutral'} testid="shop-status" title="Shop status">
                    {s.status || 'unknown'}
                  </Badge>
                </td>
                <td data-testid="shop-last-event">
                  {s.last_event_at ? (
                    <>
                      <span title={new Date(s.last_event_at).toISOString()}>{relativeTime(s.last_event_at, at, locale)}</span>
                      {s.last_event_topic && (
                        <>
                          {' · '}
                          <code data-testid="shop-last-topic">{s.last_event_topic}</code>
                        </>
                      )}
                    </>
                  ) : (
                    <span className="muted">no event yet</span>
                  )}
                </td>
                <td className="webhook">
                  <code data-testid="shop-webhook-url">{s.webhook_url}</code> {s.webhook_url && <CopyButton text={s.webhook_url} />}
                </td>
                <td className="num" data-testid="shop-events">
                  {s.events_total}
                </td>
                <td className="num" data-testid="shop-failures">
                  <span className={s.failures_total > 0 ? 'error' : ''}>{s.failures_total}</span>
                  {s.last_failure && (
                    <div className="small" data-testid="shop-last-failure">
                      last: {s.last_failure}
                      {s.last_failure_at && (
                        <>
                          {' · '}
                          <span title={new Date(s.last_failure_at).toISOString()}>{relativeTime(s.last_failure_at, at, locale)}</span>
                        </>
                      )}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shops !== null && shops.some((s) => s.failures_total > 0) && (
        <p className="muted small" data-testid="shops-failure-help">
          A failure is a delivery frontdesk refused (a wrong signature, a body it could not read, an unknown shop); the shop retries it. A wrong signature usually
          means the webhook secret set in frontdesk is not the shop's.
        </p>
      )}
    </main>
  );
}

/** ConnectHelp says how to connect a shop: the environment to set and the webhook URL to give it. */
function ConnectHelp({ origin }: { origin: string }) {
  return (
    <div className="connect-help" data-testid="shops-empty">
      <p>
        <strong>No shop is connected yet.</strong> frontdesk connects to the shops set in its environment; restart it after setting them.
      </p>
      <ul>
        <li>
          <strong>Shopify</strong>: set <code>FRONTDESK_SHOPIFY_WEBHOOK_SECRET</code> (the app's webhook signing secret) and <code>FRONTDESK_SHOPIFY_SHOP</code>{' '}
          (the shop's domain, e.g. <code>acme.myshopify.com</code>), then point the shop's order and customer webhooks at{' '}
          <code data-testid="shops-empty-url">{origin}/webhooks/shopify</code>.
        </li>
        <li>
          <strong>Magento / Adobe Commerce</strong>: set <code>FRONTDESK_MAGENTO_WEBHOOK_SECRET</code> and <code>FRONTDESK_MAGENTO_BASE_URL</code> (the store's
          URL), then point its webhooks at <code>{origin}/webhooks/magento</code>.
        </li>
      </ul>
      <p className="muted small">Once a shop is set, it is listed here with its webhook URL, its last event and any refused deliveries.</p>
    </div>
  );
}

/** copyText puts text on the clipboard: the Clipboard API, else a selected textarea and execCommand. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below (no permission, insecure context)
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    ta.remove();
  }
}

function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      className="copy small"
      data-testid="shop-webhook-copy"
      data-state={state}
      aria-label={`Copy webhook URL ${text}`}
      onClick={async () => {
        const ok = await copyText(text);
        setState(ok ? 'copied' : 'failed');
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setState('idle'), 2000);
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the URL' : 'Copy'}
    </button>
  );
}
