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
    expect(wsURL(loc, 't k', 0, false)).toBe('ws://x:1/ws?token=t+k');
    expect(wsURL({ protocol: 'https:', host: 'h' }, 't', 42, true)).toBe('wss://h/ws?token=t&last_event_id=42');
  });
});

describe('LiveClient', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function client(poll = vi.fn(async () => undefined)) {
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
    });
    return { c, states, frames, poll };
  }

  it('reconnects after a drop with the last event id and shows reconnecting', () => {
    const { c, states, frames } = client();
    c.start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].send({ id: 7, type: 'message.created', conversation_id: 'c', data: {}, time: '' });
    FakeSocket.all[0].close();
    expect(states).toEqual(['live', 'reconnecting']);
    vi.advanceTimersByTime(15000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1].url).toBe('ws://x:1/ws?token=tok&last_event_id=7');
    FakeSocket.all[1].open();
    expect(states.at(-1)).toBe('live');
    expect(frames).toEqual([7]);
    c.stop();
  });

  it('falls back to polling when the socket never opens, and back to live when it does', async () => {
    const { c, states, poll } = client();
    c.start();
    for (let i = 0; i < 3; i++) {
      FakeSocket.all[i].close();
      vi.advanceTimersByTime(15000);
    }
    expect(states).toContain('polling');
    expect(poll).toHaveBeenCalled();
    const before = poll.mock.calls.length;
    vi.advanceTimersByTime(3000);
    expect(poll.mock.calls.length).toBeGreaterThan(before);
    vi.advanceTimersByTime(10000);
    const last = FakeSocket.all.at(-1)!;
    last.open();
    expect(states.at(-1)).toBe('live');
    const n = poll.mock.calls.length;
    vi.advanceTimersByTime(5000);
    expect(poll.mock.calls.length).toBe(n);
    c.stop();
  });
});
