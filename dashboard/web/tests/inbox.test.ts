import { describe, expect, it } from 'vitest';
import {
  agentLabel,
  applyFrame,
  applyFrames,
  emptyInbox,
  forwardStatus,
  markRead,
  stealNotice,
  unknownAgents,
  visibleConversations,
  withConversations,
  withMessages,
  withNotes,
  withToolCalls,
  writerLabel,
} from '../src/inbox';
import type { Conversation, Frame, Message } from '../src/types';

const conv = (id: string, over: Partial<Conversation> = {}): Conversation => ({
  id,
  status: 'open',
  channel: 'whatsapp',
  customer: { id: 'cu_' + id, name: 'Ada', phone: '', email: '' },
  assigned_user_id: '',
  writer: 'ai',
  last_message_at: '2026-01-01T00:00:00Z',
  ...over,
});
const msg = (id: string, t: string, over: Partial<Message> = {}): Message => ({
  id,
  direction: 'inbound',
  text: 'hi ' + id,
  kind: 'text',
  status: 'received',
  sender: 'customer',
  created_at: t,
  ...over,
});
const created = (id: number, cid: string, m: Message): Frame => ({ id, type: 'message.created', conversation_id: cid, data: m, time: m.created_at });

describe('applyFrame', () => {
  it('adds a live message once and advances lastEventId', () => {
    let s = withConversations(emptyInbox, [conv('c1')]);
    const f = created(5, 'c1', msg('m1', '2026-01-01T00:00:01Z'));
    s = applyFrame(s, f);
    expect(s.lastEventId).toBe(5);
    expect(s.messages.c1.map((m) => m.id)).toEqual(['m1']);
    expect(s.unread.c1).toBe(1);
    expect(s.conversations.c1.last_message_at).toBe('2026-01-01T00:00:01Z');
  });

  it('ignores a frame whose id was already applied (resume overlap)', () => {
    let s = applyFrame(emptyInbox, created(5, 'c1', msg('m1', '2026-01-01T00:00:01Z')));
    const again = applyFrame(s, created(5, 'c1', msg('m1', '2026-01-01T00:00:01Z')));
    expect(again).toBe(s);
    const older = applyFrame(s, created(3, 'c1', msg('m0', '2026-01-01T00:00:00Z')));
    expect(older).toBe(s);
  });

  it('does not double a message seen over REST and then live', () => {
    let s = withMessages(emptyInbox, 'c1', [msg('m1', '2026-01-01T00:00:01Z')]);
    s = applyFrame(s, created(9, 'c1', msg('m1', '2026-01-01T00:00:01Z')));
    expect(s.messages.c1).toHaveLength(1);
    expect(s.unread.c1 ?? 0).toBe(0);
  });

  it('does not count messages of the open conversation as unread', () => {
    const s = applyFrame(emptyInbox, created(1, 'c1', msg('m1', '2026-01-01T00:00:01Z')), 'c1');
    expect(s.unread.c1 ?? 0).toBe(0);
    const r = markRead(applyFrame(emptyInbox, created(1, 'c1', msg('m1', '2026-01-01T00:00:01Z'))), 'c1');
    expect(r.unread.c1).toBe(0);
  });

  it('moves delivery status forward only', () => {
    let s = withMessages(emptyInbox, 'c1', [msg('m1', '2026-01-01T00:00:01Z', { direction: 'outbound', status: 'pending' })]);
    const st = (id: number, status: string): Frame => ({ id, type: 'message.status', conversation_id: 'c1', data: { id: 'm1', status }, time: '' });
    s = applyFrame(s, st(1, 'read'));
    s = applyFrame(s, st(2, 'delivered'));
    expect(s.messages.c1[0].status).toBe('read');
    expect(forwardStatus('sent', 'delivered')).toBe('delivered');
    expect(forwardStatus('delivered', 'sent')).toBe('delivered');
  });

  it('updates writer and status from conversation.updated and notes unknown conversations', () => {
    let s = withConversations(emptyInbox, [conv('c1')]);
    s = applyFrame(s, { id: 1, type: 'conversation.updated', conversation_id: 'c1', data: { status: 'waiting_human', writer: 'user:u1', assigned_user_id: 'u1' }, time: '' });
    expect(s.conversations.c1.writer).toBe('user:u1');
    expect(s.conversations.c1.status).toBe('waiting_human');
    expect(s.conversations.c1.customer?.name).toBe('Ada');
    s = applyFrame(s, { id: 2, type: 'conversation.updated', conversation_id: 'c2', data: { status: 'open', writer: 'ai', channel: 'whatsapp' }, time: '' });
    expect(s.conversations.c2.status).toBe('open');
    expect(s.missing).toEqual(['c2']);
    s = withConversations(s, [conv('c2')]);
    expect(s.missing).toEqual([]);
  });

  it('logs tool calls once per live event, from frames and from the REST reload alike', () => {
    const tc: Frame = { id: 1, type: 'tool.called', conversation_id: 'c1', data: { call_id: 'k1', tool: 'create_ticket', arguments: { a: 1 }, duration_ms: 3 }, time: 't' };
    let s = applyFrame(emptyInbox, tc);
    s = applyFrame(s, tc); // the same frame replayed after a resume
    s = withToolCalls(s, 'c1', [{ call_id: 'k1', tool: 'create_ticket', arguments: { a: 1 }, event_id: 1, time: 't' }]);
    expect(s.tools.c1).toHaveLength(1);
    expect(s.tools.c1[0].tool).toBe('create_ticket');
    // A later turn may reuse a call id: a new event is a new call.
    s = applyFrame(s, { ...tc, id: 5, data: { ...tc.data, tool: 'handoff_to_human' } });
    s = withToolCalls(s, 'c1', [{ call_id: 'k0', tool: 'get_customer_profile', arguments: {}, event_id: 0 + 3 }]);
    expect(s.tools.c1.map((c) => c.event_id)).toEqual([1, 3, 5]);
  });

  it('keeps private notes once each, in time order', () => {
    const note = (id: string, at: string) => ({ id, conversation_id: 'c1', author_id: 'u1', text: 'n ' + id, created_at: at });
    let s = applyFrame(emptyInbox, { id: 1, type: 'note.created', conversation_id: 'c1', data: note('n2', '2026-01-01T00:00:02Z'), time: '' });
    s = withNotes(s, 'c1', [note('n1', '2026-01-01T00:00:01Z'), note('n2', '2026-01-01T00:00:02Z')]);
    s = applyFrame(s, { id: 1, type: 'note.created', conversation_id: 'c1', data: note('n2', '2026-01-01T00:00:02Z'), time: '' });
    expect(s.notes.c1.map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(s.lastEventId).toBe(1);
    expect(s.messages.c1).toBeUndefined(); // a note is not a message
  });
});

describe('resume after reconnect', () => {
  it('replayed frames overlapping the applied ones give the same state as one clean stream', () => {
    const frames: Frame[] = [
      created(1, 'c1', msg('m1', '2026-01-01T00:00:01Z')),
      created(2, 'c1', msg('m2', '2026-01-01T00:00:02Z', { direction: 'outbound', sender: 'ai', status: 'pending' })),
      { id: 3, type: 'message.status', conversation_id: 'c1', data: { id: 'm2', status: 'sent' }, time: '' },
      created(4, 'c1', msg('m3', '2026-01-01T00:00:03Z')),
    ];
    const clean = applyFrames(emptyInbox, frames);
    // The socket drops after frame 2; the client resumes with last_event_id=2,
    // but the server's replay (and a slow old socket) also re-send 2.
    let s = applyFrames(emptyInbox, frames.slice(0, 2));
    expect(s.lastEventId).toBe(2);
    s = applyFrames(s, [frames[1], frames[2], frames[3], frames[3]]);
    expect(s).toEqual(clean);
    expect(s.messages.c1.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(s.messages.c1[1].status).toBe('sent');
  });

  it('orders messages by time whatever the arrival order', () => {
    let s = withMessages(emptyInbox, 'c1', [msg('m3', '2026-01-01T00:00:03Z'), msg('m1', '2026-01-01T00:00:01Z')]);
    s = applyFrame(s, created(7, 'c1', msg('m2', '2026-01-01T00:00:02Z')));
    expect(s.messages.c1.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    const same = withMessages(emptyInbox, 'c1', [msg('b', '2026-01-01T00:00:01Z'), msg('a', '2026-01-01T00:00:01Z')]);
    expect(same.messages.c1.map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('applies out-of-order frames in id order', () => {
    const s = applyFrames(emptyInbox, [created(2, 'c1', msg('m2', '2026-01-01T00:00:02Z')), created(1, 'c1', msg('m1', '2026-01-01T00:00:01Z'))]);
    expect(s.messages.c1.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(s.lastEventId).toBe(2);
  });
});

describe('views', () => {
  it('filters by status, mine and channel, most recent first', () => {
    const s = withConversations(emptyInbox, [
      conv('a', { last_message_at: '2026-01-01T00:00:01Z' }),
      conv('b', { status: 'waiting_human', last_message_at: '2026-01-01T00:00:02Z' }),
      conv('c', { assigned_user_id: 'me', writer: 'user:me', channel: 'email', last_message_at: '2026-01-01T00:00:03Z' }),
    ]);
    const all = { status: '' as const, mine: false, channel: '' };
    expect(visibleConversations(s, all, 'me').map((c) => c.id)).toEqual(['c', 'b', 'a']);
    expect(visibleConversations(s, { ...all, status: 'waiting_human' }, 'me').map((c) => c.id)).toEqual(['b']);
    expect(visibleConversations(s, { ...all, mine: true }, 'me').map((c) => c.id)).toEqual(['c']);
    expect(visibleConversations(s, { ...all, channel: 'whatsapp' }, 'me').map((c) => c.id)).toEqual(['b', 'a']);
  });

  it('labels the writer', () => {
    expect(writerLabel('ai', {})).toBe('AI');
    expect(writerLabel('user:u1', { u1: 'Demo Admin' })).toBe('Demo Admin');
    expect(writerLabel('user:u2', {})).toBe('u2');
  });
});

describe('writer changes', () => {
  it('tells the agent a conversation was stolen from, the one who stole it, and others', () => {
    const frame = (id: number, data: object): Frame => ({ id, type: 'conversation.updated', conversation_id: 'c1', data, time: 't' + id });
    let s = applyFrame(emptyInbox, frame(1, { writer: 'user:ann', change: 'conversation.takeover', by: 'ann', previous_writer: 'ai' }));
    expect(stealNotice(s.changes.c1, 'ann', {})).toBe('');
    s = applyFrame(s, frame(2, { writer: 'user:bob', change: 'conversation.steal', by: 'bob', previous_writer: 'user:ann' }));
    const users = { ann: 'Ann', bob: 'Bob', eve: 'Eve' };
    expect(s.conversations.c1.writer).toBe('user:bob');
    expect(s.changes.c1).toMatchObject({ change: 'conversation.steal', by: 'bob', from: 'user:ann', to: 'user:bob' });
    expect(stealNotice(s.changes.c1, 'ann', users)).toBe('Bob took this conversation over from you.');
    expect(stealNotice(s.changes.c1, 'bob', users)).toBe('You took this conversation over from Ann.');
    expect(stealNotice(s.changes.c1, 'eve', users)).toBe('Bob took this conversation over from Ann.');
    // A status change without a human's change keeps the notice.
    s = applyFrame(s, frame(3, { status: 'open' }));
    expect(s.changes.c1.change).toBe('conversation.steal');
    s = applyFrame(s, frame(4, { writer: 'ai', change: 'conversation.handback', by: 'bob', previous_writer: 'user:bob' }));
    expect(stealNotice(s.changes.c1, 'ann', users)).toBe('');
  });
});

describe('agent profile', () => {
  const agents = { a1: 'German desk', a2: '' };

  it('names the agent profile, or the start of an unknown id, or nothing', () => {
    expect(agentLabel('a1', agents)).toBe('German desk');
    expect(agentLabel('0123456789abcdef', agents)).toBe('agent 01234567');
    expect(agentLabel('a2', agents)).toBe('agent a2');
    expect(agentLabel('', agents)).toBe('');
    expect(agentLabel(undefined, agents)).toBe('');
  });

  it('lists the agent profiles of conversations not named yet, once', () => {
    const list = [conv('c1', { agent_profile_id: 'a9' }), conv('c2', { agent_profile_id: 'a1' }), conv('c3', { agent_profile_id: 'a9' }), conv('c4', { agent_profile_id: 'a2' }), conv('c5')];
    expect(unknownAgents(list, agents)).toEqual(['a9']);
    expect(unknownAgents(list, { ...agents, a9: 'VIP' })).toEqual([]);
  });

  it('keeps the agent profile from REST and takes a live change of it', () => {
    let s = withConversations(emptyInbox, [conv('c1', { agent_profile_id: 'a1' })]);
    s = applyFrame(s, { id: 1, type: 'conversation.updated', conversation_id: 'c1', data: { status: 'waiting_human' }, time: '2026-01-01T00:00:02Z' });
    expect(s.conversations.c1.agent_profile_id).toBe('a1');
    s = applyFrame(s, { id: 2, type: 'conversation.updated', conversation_id: 'c1', data: { agent_profile_id: 'a2' }, time: '2026-01-01T00:00:03Z' });
    expect(s.conversations.c1.agent_profile_id).toBe('a2');
    s = withConversations(s, [conv('c1', { agent_profile_id: 'a1' })]);
    expect(s.conversations.c1.agent_profile_id).toBe('a1');
  });
});
