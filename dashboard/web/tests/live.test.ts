import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveClient, backoffMs, wsURL, type LiveState } from '../src/live';

// FakeSocket stands in for the browser WebSocket.
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.onopen?.();
  }
  send(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  close() {
    this.onclose?.();
  }
}

const loc = { protocol: 'http:', host: 'x:1' };

describe('backoff and url', () => {
  it('grows and caps', () => {
    const r = () => 1;
    expect(backoffMs(0, r)).toBe(500);
    expect(backoffMs(1, r)).toBe(1000);
    expect(backoffMs(20, r)).toBe(15000);
    expect(backoffMs(0, () => 0)).toBe(400);
  });
  it('resumes with last_event_id', () => {
    expect(wsURL(loc, 't k', 0, false)).toBe('ws://x:1/ws?ticket=t+k');
    expect(wsURL({ protocol: 'https:', host: 'h' }, 't', 42, true)).toBe('wss://h/ws?ticket=t&last_event_id=42');
  });
});

describe('LiveClient', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  /** server fakes /ws/probe and /ws/poll over a stream of events (ids 1..n). */
  function server() {
    const srv = {
      stream: [] as number[],
      verdict: 'unseen',
      requests: [] as string[],
      tickets: 0,
      ticketStatus: 200,
      fetch: vi.fn(async (path: string, init?: RequestInit) => {
        expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
        const u = new URL(path, 'http://x');
        if (u.pathname === '/api/v1/ws/tickets') {
          expect(init?.method).toBe('POST');
          if (srv.ticketStatus !== 200) return new Response('{}', { status: srv.ticketStatus });
          srv.tickets++;
          return new Response(JSON.stringify({ ticket: `tk${srv.tickets}`, expires_in: 30 }), { status: 200 });
        }
        srv.requests.push(path);
        expect(path).not.toContain('token');
        let body: unknown;
        if (u.pathname === '/ws/probe') body = { probe: u.searchParams.get('probe'), verdict: srv.verdict, fallback: '/ws/poll' };
        else if (!u.searchParams.has('after')) body = { events: [], last_event_id: srv.stream.length, more: false };
        else {
          const after = Number(u.searchParams.get('after'));
          const ids = srv.stream.filter((id) => id > after).slice(0, 2);
          body = {
            events: ids.map((id) => ({ id, type: 'message.created', conversation_id: 'c', data: {}, time: '' })),
            last_event_id: ids.at(-1) ?? after,
            more: srv.stream.some((id) => id > (ids.at(-1) ?? after)),
          };
        }
        return new Response(JSON.stringify(body), { status: 200 });
      }),
    };
    return srv;
  }

  function client(srv = server(), poll = vi.fn(async () => undefined)) {
    let last = 0;
    const states: LiveState[] = [];
    const frames: number[] = [];
    const c = new LiveClient({
      token: 'tok',
      lastEventId: () => last,
      onFrame: (f) => {
        frames.push(f.id);
        last = Math.max(last, f.id);
      },
      onState: (s) => states.push(s),
      poll,
      pollMs: 1000,
      retryWsMs: 10000,
      location: loc,
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      fetchImpl: srv.fetch as unknown as typeof fetch,
    });
    return { c, states, frames, poll, srv };
  }

  const withoutProbe = (url: string) => url.replace(/&probe=[^&]+/, '').replace(/ticket=tk\d+&?/, '');

  it('reconnects after a drop with the last event id and shows reconnecting', async () => {
    const { c, states, frames } = client();
    c.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all[0].url).toMatch(/^ws:\/\/x:1\/ws\?ticket=tk1&probe=[a-z0-9]+$/);
    FakeSocket.all[0].open();
    FakeSocket.all[0].send({ id: 7, type: 'message.created', conversation_id: 'c', data: {}, time: '' });
    FakeSocket.all[0].close();
    expect(states).toEqual(['live', 'reconnecting']);
    await vi.advanceTimersByTimeAsync(15000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1].url).toContain('ticket=tk2&'); // a fresh ticket for each connect
    expect(withoutProbe(FakeSocket.all[1].url)).toBe('ws://x:1/ws?last_event_id=7');
    FakeSocket.all[1].open();
    expect(states.at(-1)).toBe('live');
    expect(frames).toEqual([7]);
    c.stop();
  });

  it('falls back to polling /ws/poll when the socket never opens, and back to live when it does', async () => {
    const { c, states, frames, poll, srv } = client();
    srv.stream = [1, 2, 3];
    c.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) {
      FakeSocket.all[i].close();
      await vi.advanceTimersByTimeAsync(i < 2 ? 15000 : 0);
    }
    expect(states).toContain('polling');
    expect(states).not.toContain('blocked');
    // No id yet: start at the newest (3), reload REST once, then follow.
    expect(poll).toHaveBeenCalledTimes(1);
    expect(frames).toEqual([]);
    srv.stream.push(4, 5, 6, 7, 8);
    await vi.advanceTimersByTimeAsync(1000);
    expect(frames).toEqual([4, 5, 6, 7, 8]); // pages of two, read at once while events come
    expect(srv.requests).toContain('/ws/poll?after=3&wait=20'); // a long poll
    await vi.advanceTimersByTimeAsync(3000);
    expect(frames).toEqual([4, 5, 6, 7, 8]); // nothing doubled
    expect(FakeSocket.all).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(6000);
    expect(FakeSocket.all).toHaveLength(4);
    const ws = FakeSocket.all.at(-1)!;
    expect(withoutProbe(ws.url)).toBe('ws://x:1/ws?last_event_id=8');
    ws.open();
    expect(states.at(-1)).toBe('live');
    const n = srv.requests.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(srv.requests.length).toBe(n);
    expect(poll).toHaveBeenCalledTimes(1);
    c.stop();
  });

  it('falls back at once when the server says the upgrade was stripped', async () => {
    const { c, states, frames, srv } = client();
    srv.verdict = 'blocked';
    c.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.all[0].close();
    await vi.advanceTimersByTimeAsync(0);
    expect(srv.requests[0]).toMatch(/^\/ws\/probe\?probe=[a-z0-9]+$/);
    expect(states).toEqual(['reconnecting', 'blocked']);
    expect(FakeSocket.all).toHaveLength(1); // no more attempts until retryWsMs
    srv.stream = [1];
    await vi.advanceTimersByTimeAsync(1000);
    expect(frames).toEqual([1]);
    await vi.advanceTimersByTimeAsync(9000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].close();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe('blocked');
    c.stop();
  });

  it('opens no socket while the ticket is refused, and counts it as a failed open', async () => {
    const { c, states, srv } = client();
    srv.ticketStatus = 401;
    c.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(0);
    expect(states).toEqual(['reconnecting']);
    srv.ticketStatus = 200;
    await vi.advanceTimersByTimeAsync(15000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeSocket.all[0].url).not.toContain('token');
    c.stop();
  });
});
