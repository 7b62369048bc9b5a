import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveHub } from '../src/hub';
import type { LiveState } from '../src/live';
import type { Frame } from '../src/types';

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

const frame = (id: number, type = 'confirmation.updated'): Frame => ({ id, type, conversation_id: 'c1', data: { id: 'cf_' + id }, time: '' });

describe('LiveHub', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  const hub = () =>
    new LiveHub({
      token: 'tok',
      location: { protocol: 'http:', host: 'x:1' },
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      fetchImpl: (async (path: string) =>
        path === '/api/v1/ws/tickets'
          ? new Response(JSON.stringify({ ticket: 'tk', expires_in: 30 }), { status: 200 })
          : new Response('{}', { status: 404 })) as typeof fetch,
    });

  it('opens one socket and hands every frame to every subscriber, once each', async () => {
    const h = hub();
    const a: number[] = [];
    const b: number[] = [];
    h.subscribe({ onFrame: (f) => a.push(f.id) });
    const unsubscribe = h.subscribe({ onFrame: (f) => b.push(f.id) });
    h.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(1);
    const ws = FakeSocket.all[0];
    ws.open();
    ws.send(frame(1));
    ws.send(frame(2));
    ws.send(frame(2));
    unsubscribe();
    ws.send(frame(3));
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([1, 2]);
    expect(h.lastEventId).toBe(3);
    h.stop();
  });

  it('tells a subscriber the state at once and on every change', async () => {
    const h = hub();
    const states: LiveState[] = [];
    h.subscribe({ onState: (s) => states.push(s) });
    h.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.all[0].open();
    expect(states).toEqual(['connecting', 'live']);
    const late: LiveState[] = [];
    h.subscribe({ onState: (s) => late.push(s) });
    expect(late).toEqual(['live']);
    h.stop();
  });

  it('asks every subscriber to reload on a fresh subscription, not on a resume', async () => {
    const h = hub();
    const reloads = { a: 0, b: 0 };
    h.subscribe({ onReload: () => void reloads.a++ });
    h.subscribe({
      onReload: async () => {
        reloads.b++;
        throw new Error('one failing page does not stop the others');
      },
    });
    h.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.all[0].open();
    await Promise.resolve();
    expect(reloads).toEqual({ a: 1, b: 1 });
    FakeSocket.all[0].send(frame(7));
    FakeSocket.all[0].close();
    await vi.advanceTimersByTimeAsync(20000);
    const again = FakeSocket.all[1];
    expect(again.url).toContain('last_event_id=7');
    again.open();
    await Promise.resolve();
    expect(reloads).toEqual({ a: 1, b: 1 });
    h.stop();
  });
});
