import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Api, type Session } from './api';
import {
  agentLabel,
  applyFrame,
  emptyInbox,
  markRead,
  senderKind,
  senderLabel,
  stealNotice,
  unknownAgents,
  visibleConversations,
  withConversations,
  withMessages,
  withNotes,
  withToolCalls,
  writerLabel,
  type Filter,
  type InboxState,
} from './inbox';
import type { LiveHub } from './hub';
import type { LiveState } from './live';
import { can } from './roles';
import type { Citation, Confirmation, Conversation, Message, Note, TimelineItem, ToolCall } from './types';
import { docHref, passageLabel, sortedCitations } from './knowledge';
import { safeHref } from './commerce';
import { formatMoney } from './timeline';
import { mergeConfirmation } from './confirmations';
import { ConfirmationsPanel } from './Confirmations';

/** How long a burst of confirmation frames is gathered before the timelines are read again. */
const CONFIRMATIONS_RELOAD_MS = 300;

interface Props {
  api: Api;
  session: Session;
  /** the tab's live connection */
  live: LiveHub;
  openId: string;
  onOpen: (id: string) => void;
  onUnauthorized: () => void;
}

export function Inbox({ api, session, live: hub, openId, onOpen, onUnauthorized }: Props) {
  const me = session.user;
  const [state, setState] = useState<InboxState>(emptyInbox);
  const openRef = useRef(openId);
  openRef.current = openId;
  const [live, setLive] = useState<LiveState>(hub.state);
  // Each conversation's money confirmations, newest first, once loaded; a
  // load that failed leaves an error for the panel instead.
  const [confs, setConfs] = useState<Record<string, Confirmation[]>>({});
  const [confErrors, setConfErrors] = useState<Record<string, string>>({});
  const confTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [filter, setFilter] = useState<Filter>({ status: '', mine: false, channel: '' });
  const [users, setUsers] = useState<Record<string, string>>({ [me.id]: me.name });
  // AI agent profiles, id → name (every role may read them).
  const [agents, setAgents] = useState<Record<string, string>>({});
  const [error, setError] = useState('');

  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) onUnauthorized();
    else setError((e as Error).message);
  };
  const update = (f: (s: InboxState) => InboxState) => setState((s) => f(s));
  const loadTeam = () =>
    api.team().then((r) => setUsers((u) => ({ ...u, ...Object.fromEntries(r.team.map((x) => [x.id, x.name])) })), () => undefined);
  // An agent profile id that the list does not hold maps to "" so that it is
  // asked for once, not on every render.
  const loadAgents = (want: string[] = []) =>
    api.agents().then(
      (r) => setAgents((a) => ({ ...a, ...Object.fromEntries(want.map((id) => [id, ''])), ...Object.fromEntries(r.agents.map((x) => [x.id, x.name])) })),
      () => undefined,
    );

  const loadList = () => api.conversations().then((list) => update((s) => withConversations(s, list)));
  // Confirmations load apart from the stream: their failure (an older server
  // without the route, say) shows in their panel, never as the inbox's error.
  const loadConfirmations = (id: string) =>
    api.conversationConfirmations(id).then(
      (list) => {
        setConfs((c) => ({ ...c, [id]: list }));
        setConfErrors(({ [id]: _, ...rest }) => rest);
      },
      (e) => {
        if (e instanceof ApiError && e.status === 401) return onUnauthorized();
        // A server without the route has no confirmations to show.
        if (e instanceof ApiError && e.status === 404) return setConfs((c) => ({ ...c, [id]: [] }));
        setConfErrors((c) => ({ ...c, [id]: (e as Error).message || 'could not load the confirmations' }));
      },
    );
  // A conversation's stream: messages, private notes and the tool-call log.
  const loadMessages = (id: string) =>
    Promise.all([
      api.messages(id).then((list) => update((s) => withMessages(s, id, list))),
      api.notes(id).then((list) => update((s) => withNotes(s, id, list))),
      api.toolCalls(id).then((list) => update((s) => withToolCalls(s, id, list))),
      loadConfirmations(id),
    ]);

  useEffect(() => {
    loadList().catch(fail);
    loadTeam();
    const unsubscribe = hub.subscribe({
      onFrame: (f) => {
        update((s) => applyFrame(s, f, openRef.current));
        if (f.type === 'confirmation.updated') {
          const cid = f.conversation_id || f.data?.conversation_id || '';
          // The frame's copy has no timeline: show its state at once, then read the timeline again.
          if (f.data?.id) setConfs((c) => (c[cid] ? { ...c, [cid]: mergeConfirmation(c[cid], f.data as Confirmation) } : c));
          if (cid && cid === openRef.current) {
            clearTimeout(confTimer.current);
            confTimer.current = setTimeout(() => {
              if (openRef.current === cid) loadConfirmations(cid);
            }, CONFIRMATIONS_RELOAD_MS);
          }
        }
      },
      onState: setLive,
      // The frames before now will not come: reload what came before.
      onReload: async () => {
        await loadList();
        if (openRef.current) await loadMessages(openRef.current);
      },
    });
    return () => {
      unsubscribe();
      clearTimeout(confTimer.current);
    };
  }, []);

  // A writer not on the team list yet (a user added since): reload the team.
  const unknownUsers = [
    ...new Set(
      [...Object.values(state.conversations).map((c) => c.writer ?? ''), ...Object.values(state.changes).flatMap((c) => ['user:' + c.by, c.from])]
        .filter((w) => w.startsWith('user:') && !users[w.slice(5)])
        .map((w) => w.slice(5)),
    ),
  ]
    .sort()
    .join(',');
  useEffect(() => {
    if (unknownUsers) loadTeam();
  }, [unknownUsers]);

  // An agent profile not on the agents list yet (the first load, or one created since): reload the list.
  const missingAgents = unknownAgents(Object.values(state.conversations), agents);
  useEffect(() => {
    if (missingAgents.length) loadAgents(missingAgents);
  }, [missingAgents.join(',')]);

  // Conversations first seen in a frame: fetch them in full.
  useEffect(() => {
    for (const id of state.missing) api.conversation(id).then((c) => update((s) => withConversations(s, [c])), () => undefined);
  }, [state.missing.join(',')]);

  useEffect(() => {
    if (!openId) return;
    update((s) => markRead(s, openId));
    loadMessages(openId).catch(fail);
  }, [openId]);

  const list = visibleConversations(state, filter, me.id);
  const channels = useMemo(() => [...new Set(Object.values(state.conversations).map((c) => c.channel).filter(Boolean))].sort(), [state.conversations]);
  const open = openId ? state.conversations[openId] : undefined;

  return (
    <main className="inbox">
      <section className="list">
        <ConnectionBanner state={live} />
        <div className="filters">
          <select aria-label="status" value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.target.value as Filter['status'] })}>
            <option value="">All</option>
            <option value="open">Open</option>
            <option value="waiting_human">Waiting for human</option>
            <option value="closed">Closed</option>
          </select>
          <select aria-label="channel" value={filter.channel} onChange={(e) => setFilter({ ...filter, channel: e.target.value })}>
            <option value="">All channels</option>
            {channels.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <label>
            <input type="checkbox" checked={filter.mine} onChange={(e) => setFilter({ ...filter, mine: e.target.checked })} /> Mine
          </label>
        </div>
        {error && <p className="error">{error}</p>}
        {list.length === 0 && <p className="muted">No conversations.</p>}
        {list.map((c) => (
          <div
            key={c.id}
            data-testid="conversation-item"
            data-conversation-id={c.id}
            className={'row' + (c.id === openId ? ' selected' : '')}
            onClick={() => onOpen(c.id)}
          >
            <div className="row-top">
              <strong>{c.customer?.name || c.customer?.phone || c.id}</strong>
              {(state.unread[c.id] ?? 0) > 0 && <span className="badge unread">{state.unread[c.id]}</span>}
            </div>
            <div className="muted">
              {c.channel} · <span className={'status ' + c.status}>{c.status?.replace('_', ' ')}</span> · {writerLabel(c.writer, users)}
              {c.agent_profile_id && (
                <span data-testid="conversation-agent" title="AI agent profile">
                  {' '}
                  · {agentLabel(c.agent_profile_id, agents)}
                </span>
              )}
            </div>
            <div className="muted preview">{lastText(state.messages[c.id])}</div>
          </div>
        ))}
      </section>
      {open ? (
        <Conversation_
          key={open.id}
          api={api}
          conv={open}
          me={session.user}
          users={users}
          agents={agents}
          messages={state.messages[open.id] ?? []}
          tools={state.tools[open.id] ?? []}
          notes={state.notes[open.id] ?? []}
          confirmations={confs[open.id]}
          confirmationsError={confErrors[open.id] ?? ''}
          notice={stealNotice(state.changes[open.id], me.id, users)}
          onConv={(c) => update((s) => withConversations(s, [c]))}
          onMessage={(m) => update((s) => withMessages(s, open.id, [m]))}
          onNote={(n) => update((s) => withNotes(s, open.id, [n]))}
          onError={fail}
        />
      ) : (
        <section className="conversation empty muted">{openId ? 'Loading…' : 'Select a conversation.'}</section>
      )}
    </main>
  );
}

function lastText(ms: Message[] | undefined): string {
  const m = ms?.[ms.length - 1];
  return m ? (m.kind === 'text' ? m.text : `[${m.kind}]`) : '';
}

function ConnectionBanner({ state }: { state: LiveState }) {
  const text: Record<LiveState, string> = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    polling: 'Live connection failing: updates come over HTTP instead',
    blocked: 'A proxy blocks the live connection (WebSocket upgrade stripped): updates come over HTTP instead',
    stopped: 'Stopped',
  };
  return (
    <div data-testid="connection" data-state={state} className={'connection ' + state} role="status">
      {text[state]}
    </div>
  );
}

const ticks: Record<string, string> = { pending: '·', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

interface ConvProps {
  api: Api;
  conv: Conversation;
  me: Session['user'];
  users: Record<string, string>;
  /** AI agent profiles, id → name. */
  agents: Record<string, string>;
  messages: Message[];
  tools: ToolCall[];
  notes: Note[];
  /** The conversation's money confirmations, newest first; undefined until loaded. */
  confirmations: Confirmation[] | undefined;
  confirmationsError: string;
  /** A steal of this conversation to show (stealNotice), or "". */
  notice: string;
  onConv: (c: Conversation) => void;
  onMessage: (m: Message) => void;
  onNote: (n: Note) => void;
  onError: (e: unknown) => void;
}

/** go navigates inside the app (App listens to popstate). */
function go(path: string) {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

function Conversation_({ api, conv, me, users, agents, messages, tools, notes, confirmations, confirmationsError, notice, onConv, onMessage, onNote, onError }: ConvProps) {
  const [steal, setSteal] = useState('');
  const [handback, setHandback] = useState(false);
  const [note, setNote] = useState('');
  const [text, setText] = useState('');
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [noteText, setNoteText] = useState('');
  const [busy, setBusy] = useState(false);
  const [customer, setCustomer] = useState<any>(null);
  const [history, setHistory] = useState<TimelineItem[] | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const mine = conv.writer === `user:${me.id}`;
  const writable = can.write(me.role);

  useEffect(() => {
    const id = conv.customer?.id || conv.customer_id;
    if (!id) return;
    api.customerTimeline(id).then(
      (t) => {
        setCustomer(t.customer);
        setHistory(t.items);
      },
      () => undefined,
    );
  }, [conv.customer?.id, conv.customer_id]);
  useEffect(() => {
    // (Chromium's scrollIntoView returns a promise: never return it from an effect.)
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [messages.length, tools.length, notes.length]);

  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.code === 'writer_conflict') setSteal(e.message);
      else onError(e);
    } finally {
      setBusy(false);
    }
  };
  const takeover = (force: boolean) =>
    act(async () => {
      onConv(await api.takeover(conv.id, force));
      setSteal('');
    });

  const timeline = useMemo(() => {
    const items: ({ t: string; m: Message } | { t: string; tc: ToolCall } | { t: string; n: Note })[] = [
      ...messages.map((m) => ({ t: m.created_at, m })),
      ...tools.map((tc) => ({ t: tc.at ?? tc.time ?? '', tc })),
      ...notes.map((n) => ({ t: n.created_at, n })),
    ];
    const at = (t: string) => Date.parse(t) || 0;
    return items.sort((a, b) => at(a.t) - at(b.t));
  }, [messages, tools, notes]);

  return (
    <>
      <section className="conversation">
        <header className="conv-head">
          <div>
            <strong>{conv.customer?.name || conv.customer?.phone || conv.id}</strong>
            <span className="muted">
              {' '}
              · {conv.channel} · {conv.status?.replace('_', ' ')}
            </span>
          </div>
          <div className="writer-box">
            Writing: <span data-testid="writer" className={'writer ' + (conv.writer === 'ai' ? 'ai' : 'human')}>{writerLabel(conv.writer, users)}</span>
            {conv.agent_profile_id && (
              <span className="muted">
                {' '}
                · AI agent: <span data-testid="agent">{agentLabel(conv.agent_profile_id, agents)}</span>
              </span>
            )}
          </div>
          {writable &&
            (mine ? (
              <button data-testid="handback" disabled={busy} onClick={() => setHandback(true)}>
                Hand back to AI
              </button>
            ) : (
              <button data-testid="takeover" disabled={busy} onClick={() => takeover(false)}>
                Take over
              </button>
            ))}
        </header>
        {notice && (
          <div className="notice banner" role="status" data-testid="writer-change">
            {notice}
          </div>
        )}
        {steal && (
          <div className="dialog" role="alertdialog" data-testid="steal-dialog">
            <p>
              {writerLabel(conv.writer, users)} is writing in this conversation ({steal}). Take it from them? They will see that you did.
            </p>
            <button data-testid="steal-confirm" onClick={() => takeover(true)}>
              Take over anyway
            </button>
            <button onClick={() => setSteal('')}>Cancel</button>
          </div>
        )}
        {handback && (
          <div className="dialog" role="dialog" data-testid="handback-dialog">
            <label>
              Note for the AI (optional)
              <textarea data-testid="handback-note" value={note} maxLength={4000} onChange={(e) => setNote(e.target.value)} />
            </label>
            <button
              data-testid="handback-confirm"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  onConv(await api.handback(conv.id, note.trim()));
                  setHandback(false);
                  setNote('');
                })
              }
            >
              Hand back
            </button>
            <button onClick={() => setHandback(false)}>Cancel</button>
          </div>
        )}
        <ConfirmationsPanel
          confirmations={confirmations}
          error={confirmationsError}
          users={users}
          canApprove={can.approve(me.role)}
          onApprovals={() => go('/approvals')}
        />
        <div className="messages">
          {timeline.map((it) =>
            'm' in it ? (
              <MessageRow key={'m' + it.m.id} m={it.m} users={users} />
            ) : 'n' in it ? (
              <NoteRow key={'n' + it.n.id} n={it.n} users={users} />
            ) : (
              <ToolRow key={'t' + (it.tc.event_id ?? it.tc.call_id + it.t)} tc={it.tc} />
            ),
          )}
          <div ref={end} />
        </div>
        {writable && (
          <div className="composer-tabs" role="tablist">
            <button role="tab" data-testid="mode-reply" aria-selected={mode === 'reply'} className={mode === 'reply' ? 'active' : ''} onClick={() => setMode('reply')}>
              Reply
            </button>
            <button role="tab" data-testid="mode-note" aria-selected={mode === 'note'} className={mode === 'note' ? 'active' : ''} onClick={() => setMode('note')}>
              Private note
            </button>
          </div>
        )}
        {writable && mode === 'reply' && (
          <Composer
            className="composer"
            testid="composer"
            sendTestid="send"
            placeholder={mine ? 'Reply to the customer…' : 'Take over to reply'}
            disabled={!mine}
            maxLength={4096}
            value={text}
            onChange={setText}
            busy={busy}
            act={act}
            send={async (t) => onMessage(await api.reply(conv.id, t))}
          >
            Send
          </Composer>
        )}
        {writable && mode === 'note' && (
          <Composer
            className="composer note"
            testid="note-composer"
            sendTestid="note-send"
            placeholder="Private note for your team: never sent to the customer, never shown to the AI"
            maxLength={8192}
            value={noteText}
            onChange={setNoteText}
            busy={busy}
            act={act}
            send={async (t) => onNote(await api.createNote(conv.id, t))}
          >
            Add note
          </Composer>
        )}
      </section>
      <aside className="sidebar">
        <h3>Customer</h3>
        {customer ? (
          <dl>
            <dt>Name</dt>
            <dd>{customer.name || '—'}</dd>
            <dt>Phone</dt>
            <dd>{customer.phone || '—'}</dd>
            <dt>Email</dt>
            <dd>{customer.email || '—'}</dd>
            <dt>Language</dt>
            <dd>{customer.language || '—'}</dd>
            {(customer.identities ?? []).map((i: any) => (
              <dd key={i.id} className="muted">
                {i.channel}: {i.external_id}
              </dd>
            ))}
          </dl>
        ) : (
          <p className="muted">—</p>
        )}
        {customer && (
          <a
            href={`/customers/${encodeURIComponent(customer.id)}`}
            data-testid="customer-360"
            onClick={(e) => {
              e.preventDefault();
              go(`/customers/${encodeURIComponent(customer.id)}`);
            }}
          >
            Customer 360 →
          </a>
        )}
        <SideList title="Orders" testid="side-order" items={history?.filter((i) => i.kind === 'order')} />
        <SideList title="Tickets" testid="side-ticket" items={history?.filter((i) => i.kind === 'ticket')} />
      </aside>
    </>
  );
}

interface ComposerProps {
  /** the form's class */
  className: string;
  /** the data-testid of the textarea, and of the submit button */
  testid: string;
  sendTestid: string;
  placeholder: string;
  maxLength: number;
  /** turns the textarea and the button off */
  disabled?: boolean;
  value: string;
  onChange: (text: string) => void;
  busy: boolean;
  /** runs a request as the conversation's actions do (busy, errors, steal dialog) */
  act: (f: () => Promise<void>) => Promise<void>;
  /** sends the trimmed text; once it succeeded the text is cleared */
  send: (text: string) => Promise<void>;
  /** the button's label */
  children: ReactNode;
}

/** Composer is the form under a conversation that sends what is typed (Enter sends, Shift+Enter breaks the line). */
function Composer({ className, testid, sendTestid, placeholder, maxLength, disabled = false, value, onChange, busy, act, send, children }: ComposerProps) {
  return (
    <form
      className={className}
      onSubmit={(e) => {
        e.preventDefault();
        const t = value.trim();
        if (!t) return;
        act(async () => {
          await send(t);
          onChange('');
        });
      }}
    >
      <textarea
        data-testid={testid}
        placeholder={placeholder}
        disabled={disabled}
        value={value}
        maxLength={maxLength}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={submitOnEnter}
      />
      <button data-testid={sendTestid} type="submit" disabled={disabled || busy || !value.trim()}>
        {children}
      </button>
    </form>
  );
}

function submitOnEnter(e: React.KeyboardEvent<HTMLTextAreaElement>) {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    (e.currentTarget.form as HTMLFormElement).requestSubmit();
  }
}

/** SideList shows a customer's orders or tickets in the sidebar, newest first. */
function SideList({ title, testid, items }: { title: string; testid: string; items: TimelineItem[] | undefined }) {
  return (
    <>
      <h4>{title}</h4>
      {items === undefined ? (
        <p className="muted small">…</p>
      ) : items.length === 0 ? (
        <p className="muted small">None</p>
      ) : (
        <ul className="side-list">
          {items.slice(0, 5).map((i) => (
            <li key={i.id} data-testid={testid}>
              <strong>{i.title}</strong> <span className={'status ' + i.status}>{i.status}</span>
              {i.kind === 'order' && <span className="muted"> · {formatMoney(i.total_cents, i.currency)}</span>}
              {i.kind === 'ticket' && <span className="muted"> · {i.priority}</span>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function NoteRow({ n, users }: { n: Note; users: Record<string, string> }) {
  return (
    <div data-testid="note" data-note-id={n.id} className="msg note">
      <div className="who muted">Private note · {writerLabel('user:' + n.author_id, users)}</div>
      <div className="text">{n.text}</div>
      <div className="meta muted">{new Date(n.created_at).toLocaleTimeString()}</div>
    </div>
  );
}

/**
 * MessageRow shows one message: the customer's on the left; on the right the
 * AI's, a user's (by name), and the runtime's own (sender "system": the
 * confirmation questions and outcomes frontdesk writes itself, neither the
 * AI nor a person), each labelled and coloured apart.
 */
export function MessageRow({ m, users }: { m: Message; users: Record<string, string> }) {
  const kind = senderKind(m);
  return (
    <div data-testid="message" data-direction={m.direction} data-sender={kind} data-message-id={m.id} className={'msg ' + m.direction + ' sender-' + kind}>
      <div className="who muted" data-testid="message-who">
        {senderLabel(m, users)}
        {kind === 'system' && (
          <span className="auto-tag" title="Written by frontdesk itself, not by the AI or a person">
            {' '}
            automated
          </span>
        )}
      </div>
      {m.kind && m.kind !== 'text' ? (
        <div className="media" data-testid="media">
          [{m.kind}
          {m.media_ref ? `: ${m.media_ref}` : ''}]{m.text ? ` ${m.text}` : ''}
        </div>
      ) : (
        <div className="text">{m.text}</div>
      )}
      {m.direction === 'outbound' && <CitationsView citations={m.citations} />}
      <div className="meta muted">
        {new Date(m.created_at).toLocaleTimeString()}
        {m.direction === 'outbound' && (
          <span data-testid="status" data-status={m.status} className={'tick ' + m.status} title={m.error || m.status}>
            {' '}
            {ticks[m.status] ?? m.status}
          </span>
        )}
      </div>
    </div>
  );
}

/**
 * CitationsView lists the knowledge passages an AI reply cites ("Sources"),
 * by number: the document's title › heading, the passage on expand, a link
 * to its source and one to the document on the Knowledge page. Documents
 * are untrusted: everything shows as text, and only http(s) sources link.
 */
export function CitationsView({ citations }: { citations: readonly Citation[] | null | undefined }) {
  const list = sortedCitations(citations);
  if (list.length === 0) return null;
  return (
    <div className="citations" data-testid="citations">
      <div className="who muted">Sources</div>
      <ol className="citation-list">
        {list.map((c) => {
          const src = safeHref(c.source_url);
          return (
            <li key={c.n} className="citation" data-testid="citation" data-n={c.n} data-document-id={c.document_id} data-chunk-id={c.chunk_id}>
              <details>
                <summary>
                  <span className="citation-n">[{c.n}]</span> <span data-testid="citation-label">{passageLabel(c)}</span>
                </summary>
                <div className="citation-snippet" data-testid="citation-snippet">
                  {c.snippet}
                </div>
                <div className="citation-links small">
                  {src && (
                    <a href={src} target="_blank" rel="noopener noreferrer" data-testid="citation-source">
                      Source
                    </a>
                  )}
                  {src && ' · '}
                  <a
                    href={docHref(c.document_id)}
                    data-testid="citation-doc"
                    onClick={(e) => {
                      e.preventDefault();
                      go(docHref(c.document_id));
                    }}
                  >
                    Open in Knowledge
                  </a>
                </div>
              </details>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function ToolRow({ tc }: { tc: ToolCall }) {
  return (
    <details className="tool" data-testid="tool-call">
      <summary>
        tool {tc.tool} {tc.error ? '✗' : '✓'} {tc.duration_ms !== undefined && <span className="muted">{tc.duration_ms.toFixed(0)} ms</span>}
      </summary>
      <pre>args: {JSON.stringify(tc.arguments, null, 2)}</pre>
      {tc.result !== undefined && <pre>result: {JSON.stringify(tc.result, null, 2)}</pre>}
      {tc.error && <pre className="error">{tc.error}</pre>}
    </details>
  );
}
