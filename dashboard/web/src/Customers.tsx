// Customer 360: search customers, see one's profile, their shop orders
// (Orders.tsx) and a timeline of their conversations, orders, tickets and
// payments, and (roles that may write) open a ticket or a conversation. The
// logic lives in timeline.ts and commerce.ts.

import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Api } from './api';
import { writerLabel } from './inbox';
import { can } from './roles';
import {
  KINDS,
  channelIds,
  channelsOf,
  conversationOf,
  countByKind,
  customerHref,
  customerTitle,
  dayLabel,
  filterTimeline,
  formatMoney,
  groupByDay,
  inboxHref,
  kindLabel,
  localDay,
  newIdempotencyKey,
  priorityTone,
  sortTimeline,
  statusLabel,
  statusTone,
} from './timeline';
import { Badge, When } from './ui';
import { OrdersSection } from './Orders';
import { RefundsSection } from './Confirmations';
import type { LiveHub } from './hub';
import type { Customer, CustomerTimeline, TicketPriority, TimelineItem, TimelineKind, TimelinePayment, TimelineTicket, User } from './types';

const SEARCH_DEBOUNCE_MS = 250;
const PAGE = 50;

interface Props {
  api: Api;
  /** the tab's live connection (refunds refresh on their changes) */
  live?: LiveHub | null;
  me: User;
  /** the selected customer ("" for none) */
  customerId: string;
  onSelect: (id: string) => void;
  onOpenConversation: (id: string) => void;
  onUnauthorized: () => void;
}

export function Customers({ api, live = null, me, customerId, onSelect, onOpenConversation, onUnauthorized }: Props) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Customer[]>([]);
  const [next, setNext] = useState('');
  const [searching, setSearching] = useState(true);
  const [searchError, setSearchError] = useState('');
  const searchSeq = useRef(0);
  const first = useRef(true);

  const [timeline, setTimeline] = useState<CustomerTimeline | null>(null);
  const [loadError, setLoadError] = useState('');
  const [loading, setLoading] = useState(false);
  const loadSeq = useRef(0);

  const isAuthError = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) {
      onUnauthorized();
      return true;
    }
    return false;
  };

  // Debounced search: every keystroke restarts the timer; only the latest
  // request's answer is shown.
  useEffect(() => {
    const my = ++searchSeq.current;
    const delay = first.current ? 0 : SEARCH_DEBOUNCE_MS;
    first.current = false;
    const t = setTimeout(() => {
      setSearching(true);
      api.customers(query.trim(), PAGE).then(
        (page) => {
          if (my !== searchSeq.current) return;
          setResults(page.customers ?? []);
          setNext(page.next_cursor ?? '');
          setSearchError('');
          setSearching(false);
        },
        (e) => {
          if (my !== searchSeq.current || isAuthError(e)) return;
          setSearchError((e as Error).message || 'search failed');
          setSearching(false);
        },
      );
    }, delay);
    return () => clearTimeout(t);
  }, [query]);

  const loadMore = () => {
    const my = searchSeq.current;
    setSearching(true);
    api.customers(query.trim(), PAGE, next).then(
      (page) => {
        if (my !== searchSeq.current) return;
        setResults((r) => {
          const seen = new Set(r.map((c) => c.id));
          return [...r, ...(page.customers ?? []).filter((c) => !seen.has(c.id))];
        });
        setNext(page.next_cursor ?? '');
        setSearching(false);
      },
      (e) => {
        if (my !== searchSeq.current || isAuthError(e)) return;
        setSearchError((e as Error).message);
        setSearching(false);
      },
    );
  };

  const load = (id: string) => {
    const my = ++loadSeq.current;
    setLoading(true);
    return api.customerTimeline(id).then(
      (t) => {
        if (my !== loadSeq.current) return;
        setTimeline({ customer: t.customer, items: sortTimeline(t.items ?? []) });
        setLoadError('');
        setLoading(false);
      },
      (e) => {
        if (my !== loadSeq.current || isAuthError(e)) return;
        setLoadError(e instanceof ApiError && e.status === 404 ? 'No such customer.' : (e as Error).message || 'could not load the customer');
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    setTimeline(null);
    setLoadError('');
    if (customerId) load(customerId);
    else loadSeq.current++;
  }, [customerId]);

  return (
    <main className="customers">
      <section className="list customer-list">
        <div className="search">
          <input
            data-testid="customer-search"
            type="search"
            aria-label="Search customers"
            placeholder="Search name, phone, email, channel id"
            autoFocus
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
        {searchError && (
          <p className="error" role="alert">
            {searchError}
          </p>
        )}
        {!searching && !searchError && results.length === 0 && (
          <p className="muted pad" data-testid="customer-none">
            {query.trim() ? `No customer matches “${query.trim()}”.` : 'No customers yet.'}
          </p>
        )}
        {results.map((c) => (
          <a
            key={c.id}
            href={customerHref(c.id)}
            data-testid="customer-result"
            data-customer-id={c.id}
            className={'row customer-row' + (c.id === customerId ? ' selected' : '')}
            onClick={(e) => {
              e.preventDefault();
              onSelect(c.id);
            }}
          >
            <strong>{customerTitle(c)}</strong>
            <div className="muted small">{[c.phone, c.email].filter(Boolean).join(' · ') || '—'}</div>
            {channelIds(c).length > 0 && <div className="muted small ids">{channelIds(c).join(' · ')}</div>}
          </a>
        ))}
        {next && (
          <button className="more" data-testid="customer-more" disabled={searching} onClick={loadMore}>
            More
          </button>
        )}
        {searching && <p className="muted pad small">Searching…</p>}
      </section>
      {!customerId ? (
        <section className="customer-detail empty muted">Search for a customer and select one.</section>
      ) : loadError && !timeline ? (
        <section className="customer-detail empty">
          <p className="error" role="alert" data-testid="customer-error">
            {loadError}
          </p>
        </section>
      ) : !timeline ? (
        <section className="customer-detail empty muted">{loading ? 'Loading…' : ''}</section>
      ) : (
        <CustomerView
          key={timeline.customer.id}
          api={api}
          live={live}
          me={me}
          data={timeline}
          reloading={loading}
          reloadError={loadError}
          onReload={() => load(timeline.customer.id)}
          onTicket={(t) =>
            setTimeline((cur) => (cur && cur.customer.id === timeline.customer.id ? { ...cur, items: sortTimeline([...cur.items, t]) } : cur))
          }
          onOpenConversation={onOpenConversation}
          isAuthError={isAuthError}
        />
      )}
    </main>
  );
}

interface ViewProps {
  api: Api;
  live: LiveHub | null;
  me: User;
  data: CustomerTimeline;
  reloading: boolean;
  reloadError: string;
  onReload: () => Promise<void>;
  onTicket: (t: TimelineTicket) => void;
  onOpenConversation: (id: string) => void;
  isAuthError: (e: unknown) => boolean;
}

function CustomerView({ api, live, me, data, reloading, reloadError, onReload, onTicket, onOpenConversation, isAuthError }: ViewProps) {
  const c = data.customer;
  const writable = can.write(me.role);
  const [kinds, setKinds] = useState<TimelineKind[]>([]);
  const [ticketOpen, setTicketOpen] = useState(false);
  const [opening, setOpening] = useState(false);
  const [actionError, setActionError] = useState('');
  const [notice, setNotice] = useState('');
  const channels = channelsOf(c);
  const [channel, setChannel] = useState('');

  const counts = useMemo(() => countByKind(data.items), [data.items]);
  const groups = useMemo(() => groupByDay(filterTimeline(data.items, kinds)), [data.items, kinds]);
  const today = localDay(new Date().toISOString());
  const users = useMemo(() => ({ [me.id]: me.name }), [me.id, me.name]);
  const conversations = data.items.filter((i) => i.kind === 'conversation');
  const payments = useMemo(() => data.items.filter((i): i is TimelinePayment => i.kind === 'payment'), [data.items]);

  const openConversation = async () => {
    setOpening(true);
    setActionError('');
    setNotice('');
    try {
      const conv = await api.openCustomerConversation(c.id, channel || undefined);
      onOpenConversation(conv.id);
    } catch (e) {
      if (isAuthError(e)) return;
      if (e instanceof ApiError && e.code === 'no_channel') {
        setActionError(
          `${customerTitle(c)} has never written to us${channel ? ` on ${channel}` : ''}, so there is no channel to reach them on: a conversation can only start once they write first.`,
        );
      } else {
        setActionError(`Could not open a conversation: ${(e as Error).message}`);
      }
      setOpening(false);
    }
  };

  const toggle = (k: TimelineKind) => setKinds((ks) => (ks.includes(k) ? ks.filter((x) => x !== k) : [...ks, k]));

  return (
    <section className="customer-detail">
      <header className="customer-head" data-testid="customer-profile" data-customer-id={c.id}>
        <div className="cust-who">
          <h2 data-testid="customer-name">{customerTitle(c)}</h2>
          <dl className="facts">
            <div>
              <dt>Phone</dt>
              <dd>{c.phone || '—'}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd>{c.email || '—'}</dd>
            </div>
            <div>
              <dt>Language</dt>
              <dd>{c.language || '—'}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>{c.last_seen_at ? <When at={c.last_seen_at} /> : '—'}</dd>
            </div>
            <div>
              <dt>Customer since</dt>
              <dd>
                <When at={c.created_at} />
              </dd>
            </div>
          </dl>
          <ul className="identities">
            {(c.identities ?? []).map((i) => (
              <li key={i.id} data-testid="customer-identity" data-channel={i.channel}>
                <span className="chip">{i.channel}</span> {i.external_id}
                {i.display_name && i.display_name !== c.name && <span className="muted"> · {i.display_name}</span>}
              </li>
            ))}
            {(c.identities ?? []).length === 0 && <li className="muted">No channel identities.</li>}
          </ul>
        </div>
        {writable ? (
          <div className="actions">
            <button data-testid="ticket-create" onClick={() => (setTicketOpen(true), setNotice(''), setActionError(''))} disabled={ticketOpen}>
              Create ticket
            </button>
            {channels.length > 1 && (
              <select data-testid="conversation-channel" aria-label="channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
                <option value="">Latest channel</option>
                {channels.map((ch) => (
                  <option key={ch}>{ch}</option>
                ))}
              </select>
            )}
            <button data-testid="conversation-open" onClick={openConversation} disabled={opening}>
              {opening ? 'Opening…' : 'Open conversation'}
            </button>
          </div>
        ) : (
          <p className="muted small" data-testid="read-only">
            Read only: your role ({me.role}) cannot create tickets or open conversations.
          </p>
        )}
      </header>
      {actionError && (
        <p className="error banner" role="alert" data-testid="action-error">
          {actionError}
        </p>
      )}
      {notice && (
        <p className="notice banner" role="status" data-testid="action-notice">
          {notice}
        </p>
      )}
      {writable && ticketOpen && (
        <TicketForm
          api={api}
          customerId={c.id}
          conversations={conversations}
          isAuthError={isAuthError}
          onCancel={() => setTicketOpen(false)}
          onCreated={(t) => {
            setTicketOpen(false);
            setNotice(`Ticket “${t.title}” created.`);
            onTicket(t);
            onReload();
          }}
        />
      )}
      <OrdersSection api={api} customerId={c.id} isAuthError={isAuthError} />
      <RefundsSection api={api} customerId={c.id} payments={payments} live={live} isAuthError={isAuthError} onOpenConversation={onOpenConversation} />
      <h3 className="section-title">Timeline</h3>
      <div className="tl-filters" role="group" aria-label="Show">
        {KINDS.map((k) => (
          <label key={k} className={'chip toggle' + (kinds.includes(k) ? ' on' : '')}>
            <input type="checkbox" data-testid={`timeline-filter-${k}`} checked={kinds.includes(k)} onChange={() => toggle(k)} />
            {kindLabel[k]}s <span className="muted">{counts[k]}</span>
          </label>
        ))}
        {reloading && <span className="muted small">Refreshing…</span>}
        {reloadError && <span className="error small">{reloadError}</span>}
      </div>
      <div className="timeline" data-testid="timeline">
        {groups.length === 0 && <p className="muted">{data.items.length ? 'Nothing of this kind.' : 'Nothing yet: no conversations, orders, tickets or payments.'}</p>}
        {groups.map((g) => (
          <section key={g.day || 'unknown'} className="tl-day">
            <h4 data-testid="timeline-day">{dayLabel(g.day, today)}</h4>
            <ol>
              {g.items.map((it) => (
                <TimelineRow key={`${it.kind}:${it.id}`} it={it} users={users} onOpenConversation={onOpenConversation} />
              ))}
            </ol>
          </section>
        ))}
      </div>
    </section>
  );
}

function ConvLink({ id, onOpen, children }: { id: string; onOpen: (id: string) => void; children: ReactNode }) {
  return (
    <a
      href={inboxHref(id)}
      data-testid="timeline-conversation-link"
      onClick={(e) => {
        e.preventDefault();
        onOpen(id);
      }}
    >
      {children}
    </a>
  );
}

function Amount({ cents, currency }: { cents: number; currency: string }) {
  return (
    <span data-testid="timeline-amount" className="amount">
      {formatMoney(cents, currency)}
    </span>
  );
}

function TimelineRow({ it, users, onOpenConversation }: { it: TimelineItem; users: Record<string, string>; onOpenConversation: (id: string) => void }) {
  const conv = conversationOf(it);
  // " · conversation", linking to the conversation a ticket or payment belongs to.
  const convLink = conv && (
    <>
      {' · '}
      <ConvLink id={conv} onOpen={onOpenConversation}>
        conversation
      </ConvLink>
    </>
  );
  let title: ReactNode = it.title || kindLabel[it.kind];
  let details: ReactNode = null;
  switch (it.kind) {
    case 'conversation':
      title = (
        <ConvLink id={conv} onOpen={onOpenConversation}>
          {it.title || `${it.channel} conversation`}
        </ConvLink>
      );
      details = (
        <>
          {it.channel} · {it.writer === 'ai' || !it.writer ? 'AI writing' : `${writerLabel(it.writer, users)} writing`}
        </>
      );
      break;
    case 'order':
      details = (
        <>
          <Amount cents={it.total_cents} currency={it.currency} />
          {(it.source || it.external_id) && ` · ${[it.source, it.external_id && `#${it.external_id}`].filter(Boolean).join(' ')}`}
        </>
      );
      break;
    case 'ticket':
      details = (
        <>
          <Badge tone={priorityTone(it.priority)} testid="timeline-priority">
            {it.priority || 'normal'}
          </Badge>
          {it.description && <span className="desc"> {it.description}</span>}
          {convLink}
        </>
      );
      break;
    case 'payment':
      details = (
        <>
          <Amount cents={it.amount_cents} currency={it.currency} />
          {it.provider && ` via ${it.provider}`}
          {it.order_id && <span className="muted"> · order {it.order_id}</span>}
          {convLink}
        </>
      );
      break;
  }
  return (
    <li className={'tl-item tl-' + it.kind} data-testid="timeline-item" data-kind={it.kind} data-id={it.id}>
      <span className="tl-kind">{kindLabel[it.kind]}</span>
      <div className="tl-body">
        <div className="tl-title">{title}</div>
        {details && <div className="tl-details muted">{details}</div>}
      </div>
      <Badge tone={statusTone(it.status)} testid="timeline-status">
        {statusLabel(it.status)}
      </Badge>
      <span className="tl-when muted small">
        <When at={it.at} />
      </span>
    </li>
  );
}

interface TicketFormProps {
  api: Api;
  customerId: string;
  conversations: TimelineItem[];
  isAuthError: (e: unknown) => boolean;
  onCancel: () => void;
  onCreated: (t: TimelineTicket) => void;
}

function TicketForm({ api, customerId, conversations, isAuthError, onCancel, onCreated }: TicketFormProps) {
  const [subject, setSubject] = useState('');
  const [description, setDescription] = useState('');
  const [priority, setPriority] = useState<TicketPriority>('normal');
  const [conversationId, setConversationId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  // One key per form: a double click, or a retry after a lost answer, makes one ticket.
  const key = useRef(newIdempotencyKey());
  const inFlight = useRef(false);

  const submit = async () => {
    if (inFlight.current || !subject.trim()) return;
    inFlight.current = true;
    setBusy(true);
    setError('');
    try {
      const t = await api.createTicket(
        customerId,
        { subject: subject.trim(), description: description.trim(), priority, ...(conversationId ? { conversation_id: conversationId } : {}) },
        key.current,
      );
      onCreated({
        kind: 'ticket',
        id: t.id,
        at: t.created_at,
        title: t.subject,
        status: t.status,
        priority: t.priority,
        description: t.description,
        conversation_id: t.conversation_id,
      });
    } catch (e) {
      if (isAuthError(e)) return;
      // A refused request created nothing: the corrected form is a new ticket.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) key.current = newIdempotencyKey();
      setError((e as Error).message || 'could not create the ticket');
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return (
    <form
      className="dialog ticket-form"
      data-testid="ticket-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label>
        Subject
        <input data-testid="ticket-subject" value={subject} maxLength={200} required autoFocus onChange={(e) => setSubject(e.target.value)} />
      </label>
      <label>
        Priority
        <select data-testid="ticket-priority" value={priority} onChange={(e) => setPriority(e.target.value as TicketPriority)}>
          <option value="low">Low</option>
          <option value="normal">Normal</option>
          <option value="high">High</option>
          <option value="urgent">Urgent</option>
        </select>
      </label>
      {conversations.length > 0 && (
        <label>
          Conversation
          <select data-testid="ticket-conversation" value={conversationId} onChange={(e) => setConversationId(e.target.value)}>
            <option value="">None</option>
            {conversations.map((c) => (
              <option key={c.id} value={conversationOf(c)}>
                {(c.kind === 'conversation' ? c.channel + ' · ' : '') + (c.title || c.id)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="wide">
        Description
        <textarea data-testid="ticket-description" value={description} maxLength={4000} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button data-testid="ticket-submit" type="submit" disabled={busy || !subject.trim()}>
        {busy ? 'Creating…' : 'Create ticket'}
      </button>
      <button type="button" data-testid="ticket-cancel" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      {error && (
        <p className="error" role="alert" data-testid="ticket-error">
          {error}
        </p>
      )}
    </form>
  );
}
