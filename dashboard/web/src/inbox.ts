// Pure inbox state: REST pages and live frames merged into one immutable
// value. No DOM, no network: tested by tests/inbox.test.ts.
//
// Rules:
//   - live frames are applied once: a frame whose id is <= lastEventId is a
//     duplicate (ids are dense and increasing per tenant) and is ignored;
//   - messages are keyed by message id, so the same message arriving from
//     REST and from /ws (or twice from /ws after a resume) is kept once, and
//     the later copy's fields win only if they move status forward;
//   - messages are ordered by created_at, then id;
//   - delivery status never moves backwards (sent -> delivered -> read);
//   - an AI reply's citations, once known, stay: a later copy without them
//     (an older server's, say) does not drop them;
//   - tool calls are keyed by their live event id and notes by note id, so
//     the REST reload of a conversation and its live frames merge.

import type { Conversation, Frame, Message, Note, ToolCall } from './types';

/** WriterChange is who changed a conversation's writer, from whom, to whom. */
export interface WriterChange {
  change: string;
  /** the user id who made the change */
  by: string;
  /** "ai" or "user:<id>" before and after */
  from: string;
  to: string;
  time: string;
}

export interface InboxState {
  conversations: Record<string, Conversation>;
  /** Messages per conversation, ordered. */
  messages: Record<string, Message[]>;
  /** Tool calls per conversation, in event order. */
  tools: Record<string, ToolCall[]>;
  /** Private notes per conversation, ordered. */
  notes: Record<string, Note[]>;
  /** The last change a human made to each conversation's writer (takeover, steal, hand-back, open). */
  changes: Record<string, WriterChange>;
  /** Inbound messages not yet seen per conversation. */
  unread: Record<string, number>;
  /** The highest live event id applied; 0 before any. */
  lastEventId: number;
  /** Conversations referenced by a frame but not known in full yet. */
  missing: string[];
}

export const emptyInbox: InboxState = {
  conversations: {},
  messages: {},
  tools: {},
  notes: {},
  changes: {},
  unread: {},
  lastEventId: 0,
  missing: [],
};

const statusRank: Record<string, number> = {
  received: 0,
  pending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: 5,
};

/** forwardStatus returns the later of two delivery statuses. */
export function forwardStatus(a: string, b: string): string {
  return (statusRank[b] ?? -1) >= (statusRank[a] ?? -1) ? b : a;
}

function compareMessages(a: Message, b: Message): number {
  if (a.created_at !== b.created_at) {
    return Date.parse(a.created_at) - Date.parse(b.created_at) || (a.created_at < b.created_at ? -1 : 1);
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** mergeMessageList merges incoming into list by id, keeping order. */
export function mergeMessageList(list: Message[], incoming: Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of list) byId.set(m.id, m);
  for (const m of incoming) {
    const prev = byId.get(m.id);
    if (!prev) {
      byId.set(m.id, m);
      continue;
    }
    const citations = m.citations?.length ? m.citations : prev.citations;
    byId.set(m.id, { ...prev, ...m, status: forwardStatus(prev.status, m.status) as Message['status'], ...(citations && { citations }) });
  }
  return [...byId.values()].sort(compareMessages);
}

/** withConversations merges a REST page of conversations. */
export function withConversations(s: InboxState, list: Conversation[]): InboxState {
  const conversations = { ...s.conversations };
  for (const c of list) conversations[c.id] = { ...conversations[c.id], ...c };
  const missing = s.missing.filter((id) => !conversations[id]?.customer);
  return { ...s, conversations, missing };
}

/** withMessages merges a REST page of one conversation's messages. */
export function withMessages(s: InboxState, conversationId: string, list: Message[]): InboxState {
  return {
    ...s,
    messages: { ...s.messages, [conversationId]: mergeMessageList(s.messages[conversationId] ?? [], list) },
  };
}

function toolKey(c: ToolCall): string {
  return c.event_id ? `e${c.event_id}` : `c${c.call_id}`;
}

/** mergeToolCalls merges incoming into list, once per live event (or call id), in event order. */
export function mergeToolCalls(list: ToolCall[], incoming: ToolCall[]): ToolCall[] {
  const out = [...list];
  for (const c of incoming) {
    const i = out.findIndex((x) => toolKey(x) === toolKey(c));
    if (i >= 0) out[i] = { ...out[i], ...c };
    else out.push(c);
  }
  return out.sort((a, b) => (a.event_id ?? 0) - (b.event_id ?? 0));
}

/** withToolCalls merges a REST page of one conversation's tool calls. */
export function withToolCalls(s: InboxState, conversationId: string, list: ToolCall[]): InboxState {
  return { ...s, tools: { ...s.tools, [conversationId]: mergeToolCalls(s.tools[conversationId] ?? [], list) } };
}

/** withNotes merges notes of one conversation, by id, ordered by time. */
export function withNotes(s: InboxState, conversationId: string, list: Note[]): InboxState {
  const byId = new Map((s.notes[conversationId] ?? []).map((n) => [n.id, n]));
  for (const n of list) byId.set(n.id, n);
  const merged = [...byId.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
  return { ...s, notes: { ...s.notes, [conversationId]: merged } };
}

/** markRead clears a conversation's unread count. */
export function markRead(s: InboxState, conversationId: string): InboxState {
  if (!s.unread[conversationId]) return s;
  return { ...s, unread: { ...s.unread, [conversationId]: 0 } };
}

function noteMissing(s: InboxState, id: string): string[] {
  if (!id || s.conversations[id]?.customer || s.missing.includes(id)) return s.missing;
  return [...s.missing, id];
}

/**
 * applyFrame applies one live frame. openId is the conversation on screen
 * (its inbound messages do not count as unread). Duplicates (id <=
 * lastEventId) return s unchanged.
 */
export function applyFrame(s: InboxState, f: Frame, openId = ''): InboxState {
  if (f.id <= s.lastEventId) return s;
  const next: InboxState = { ...s, lastEventId: f.id };
  const cid = f.conversation_id || f.data?.conversation_id || '';
  switch (f.type) {
    case 'message.created': {
      const m: Message = { ...f.data, conversation_id: cid };
      const before = s.messages[cid] ?? [];
      const isNew = !before.some((x) => x.id === m.id);
      next.messages = { ...s.messages, [cid]: mergeMessageList(before, [m]) };
      const conv = s.conversations[cid];
      if (conv) {
        const last = conv.last_message_at && conv.last_message_at > m.created_at ? conv.last_message_at : m.created_at;
        next.conversations = { ...s.conversations, [cid]: { ...conv, last_message_at: last } };
      }
      if (isNew && m.direction === 'inbound' && cid !== openId) {
        next.unread = { ...s.unread, [cid]: (s.unread[cid] ?? 0) + 1 };
      }
      next.missing = noteMissing(next, cid);
      return next;
    }
    case 'message.status': {
      const list = s.messages[cid];
      if (!list) return next;
      const d = f.data ?? {};
      next.messages = {
        ...s.messages,
        [cid]: list.map((m) =>
          m.id === d.id
            ? {
                ...m,
                status: forwardStatus(m.status, d.status) as Message['status'],
                channel_message_id: d.channel_message_id || m.channel_message_id,
                error: d.error ?? m.error,
              }
            : m,
        ),
      };
      return next;
    }
    case 'tool.called': {
      const call: ToolCall = { ...(f.data ?? {}), time: f.time, event_id: f.id };
      next.tools = { ...s.tools, [cid]: mergeToolCalls(s.tools[cid] ?? [], [call]) };
      return next;
    }
    case 'note.created':
      return withNotes(next, cid, [{ ...f.data, conversation_id: cid }]);
    case 'conversation.updated': {
      const d = f.data ?? {};
      const prev = s.conversations[cid];
      const merged: Conversation = {
        ...(prev ?? { id: cid, channel: '', last_message_at: null }),
        id: cid,
        ...(d.status !== undefined && { status: d.status }),
        ...(d.channel && { channel: d.channel }),
        ...(d.customer_id && { customer_id: d.customer_id }),
        ...(d.assigned_user_id !== undefined && { assigned_user_id: d.assigned_user_id }),
        ...(d.writer !== undefined && { writer: d.writer }),
        ...(d.agent_profile_id !== undefined && { agent_profile_id: d.agent_profile_id }),
        ...(d.last_message_at !== undefined && d.last_message_at !== null && { last_message_at: d.last_message_at }),
      } as Conversation;
      next.conversations = { ...s.conversations, [cid]: merged };
      if (d.change) {
        const change: WriterChange = { change: d.change, by: d.by ?? '', from: d.previous_writer ?? prev?.writer ?? '', to: d.writer ?? '', time: f.time };
        next.changes = { ...s.changes, [cid]: change };
      }
      next.missing = noteMissing(next, cid);
      return next;
    }
    default:
      return next;
  }
}

/** applyFrames applies frames in id order, skipping duplicates. */
export function applyFrames(s: InboxState, frames: Frame[], openId = ''): InboxState {
  return [...frames].sort((a, b) => a.id - b.id).reduce((acc, f) => applyFrame(acc, f, openId), s);
}

export interface Filter {
  status: '' | 'open' | 'waiting_human' | 'closed';
  mine: boolean;
  channel: string;
}

/** visibleConversations returns the filtered list, most recent first. */
export function visibleConversations(s: InboxState, f: Filter, meId: string): Conversation[] {
  return Object.values(s.conversations)
    .filter((c) => (!f.status || c.status === f.status) && (!f.mine || c.assigned_user_id === meId) && (!f.channel || c.channel === f.channel))
    .sort((a, b) => {
      const ta = a.last_message_at ?? a.created_at ?? '';
      const tb = b.last_message_at ?? b.created_at ?? '';
      return ta < tb ? 1 : ta > tb ? -1 : a.id < b.id ? -1 : 1;
    });
}

/**
 * stealNotice describes a steal of the conversation for user meId: to the
 * agent it was taken from, to the one who took it, or to anyone else; "" when
 * the last change was not a steal.
 */
export function stealNotice(c: WriterChange | undefined, meId: string, users: Record<string, string>): string {
  if (!c || c.change !== 'conversation.steal') return '';
  const by = c.by === meId ? 'You' : writerLabel('user:' + c.by, users);
  const from = c.from === `user:${meId}` ? 'you' : writerLabel(c.from, users);
  return `${by} took this conversation over from ${from}.`;
}

/**
 * agentLabel names a conversation's AI agent profile: its name when agents
 * (id → name, from GET /api/v1/agents) knows it, else the start of its id;
 * "" when the conversation has no agent profile yet.
 */
export function agentLabel(agentProfileId: string | undefined, agents: Record<string, string>): string {
  if (!agentProfileId) return '';
  return agents[agentProfileId] || `agent ${agentProfileId.slice(0, 8)}`;
}

/** unknownAgents returns the agent profile ids of conversations that agents does not name yet, sorted. */
export function unknownAgents(conversations: Conversation[], agents: Record<string, string>): string[] {
  const ids = new Set<string>();
  for (const c of conversations) if (c.agent_profile_id && !(c.agent_profile_id in agents)) ids.add(c.agent_profile_id);
  return [...ids].sort();
}

/** SenderKind is who wrote a message: the customer, the AI, a user, or the runtime itself. */
export type SenderKind = 'customer' | 'ai' | 'user' | 'system' | 'other';

/** senderKind tells who wrote m: inbound is the customer's; "ai", "user:<id>" and "system" (the runtime) are ours. */
export function senderKind(m: Pick<Message, 'direction' | 'sender'>): SenderKind {
  if (m.direction === 'inbound') return 'customer';
  const s = m.sender ?? '';
  if (s === 'ai') return 'ai';
  if (s === 'system') return 'system';
  if (s.startsWith('user:')) return 'user';
  return 'other';
}

/** senderLabel names a message's writer: "Customer", "AI", "Runtime" (sender "system"), a user's name, else the sender as sent. */
export function senderLabel(m: Pick<Message, 'direction' | 'sender'>, users: Record<string, string>): string {
  switch (senderKind(m)) {
    case 'customer':
      return 'Customer';
    case 'ai':
      return 'AI';
    case 'system':
      return 'Runtime';
    case 'user':
      return writerLabel(m.sender, users);
    default:
      return m.sender || 'Unknown';
  }
}

/** writerLabel names who writes: "AI", the caller's or a known user's name, else the id. */
export function writerLabel(writer: string | undefined, users: Record<string, string>): string {
  if (!writer || writer === 'ai') return 'AI';
  const id = writer.startsWith('user:') ? writer.slice(5) : writer;
  return users[id] ?? id;
}
