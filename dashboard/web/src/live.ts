// Live connection to /ws with resume, backoff and a polling fallback.
//
// States: connecting -> live; on a drop: reconnecting (retry with
// ?last_event_id= after backoff); after failOpenLimit consecutive attempts
// that never opened (e.g. a proxy that strips the upgrade) -> polling, where
// the caller's poll function runs every pollMs and a WebSocket attempt is
// retried every retryWsMs.

import type { Frame } from './types';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'stopped';

/** backoffMs is the delay before reconnect attempt n (0-based): 0.5s doubling to 15s, with up to 20% jitter. */
export function backoffMs(attempt: number, rand: () => number = Math.random): number {
  const base = Math.min(15000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.2 * rand()));
}

/** wsURL returns the /ws address for location base, token and the last event id (resume when > 0 or when resume is true). */
export function wsURL(base: { protocol: string; host: string }, token: string, lastEventId: number, resume: boolean): string {
  const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ token });
  if (resume) q.set('last_event_id', String(lastEventId));
  return `${scheme}//${base.host}/ws?${q.toString()}`;
}

export interface LiveOptions {
  token: string;
  /** The last event id already applied (the caller's state). */
  lastEventId: () => number;
  onFrame: (f: Frame) => void;
  onState: (s: LiveState) => void;
  /** Called once the socket opens, with whether it resumed; the first open should (re)load REST state. */
  onOpen?: (resumed: boolean) => void;
  /** Refreshes state over REST; used in polling mode. */
  poll: () => Promise<void>;
  pollMs?: number;
  retryWsMs?: number;
  failOpenLimit?: number;
  location?: { protocol: string; host: string };
  WebSocketImpl?: typeof WebSocket;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private failedOpens = 0;
  private everOpened = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  state: LiveState = 'connecting';

  constructor(private o: LiveOptions) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.ws?.close();
    this.setState('stopped');
  }

  /** drop closes the socket as a network failure would (used by tests and the "reconnect" debug hook). */
  drop(): void {
    this.ws?.close(4000, 'client drop');
  }

  private setState(s: LiveState) {
    if (this.state === s) return;
    this.state = s;
    this.o.onState(s);
  }

  private clearTimers() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private connect() {
    if (this.stopped) return;
    const WS = this.o.WebSocketImpl ?? WebSocket;
    const loc = this.o.location ?? window.location;
    const resume = this.everOpened || this.o.lastEventId() > 0;
    let opened = false;
    let ws: WebSocket;
    try {
      ws = new WS(wsURL(loc, this.o.token, this.o.lastEventId(), resume));
    } catch {
      this.onClose(false);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      this.failedOpens = 0;
      if (this.pollTimer) clearInterval(this.pollTimer);
      this.pollTimer = null;
      this.setState('live');
      this.o.onOpen?.(resume);
    };
    ws.onmessage = (ev) => {
      try {
        this.o.onFrame(JSON.parse(String(ev.data)) as Frame);
      } catch {
        /* a frame that is not JSON is ignored */
      }
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.onClose(opened);
    };
  }

  private onClose(opened: boolean) {
    if (this.stopped) return;
    if (!opened) this.failedOpens++;
    const limit = this.o.failOpenLimit ?? 3;
    if (this.failedOpens >= limit) {
      this.startPolling();
      this.timer = setTimeout(() => this.connect(), this.o.retryWsMs ?? 30000);
      return;
    }
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.connect(), backoffMs(this.attempt++));
  }

  private startPolling() {
    this.setState('polling');
    if (this.pollTimer) return;
    const run = () => {
      this.o.poll().catch(() => undefined);
    };
    run();
    this.pollTimer = setInterval(run, this.o.pollMs ?? 3000);
  }
}
