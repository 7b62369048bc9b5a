// Live connection to /ws with resume, backoff and a polling fallback.
//
// States: connecting -> live; on a drop: reconnecting (retry with
// ?last_event_id= after backoff). Each attempt carries a ?probe= id; when an
// attempt never opens, the client asks /ws/probe how it arrived: "blocked"
// (a proxy stripped the upgrade; the server saw a plain GET) -> blocked at
// once; after failOpenLimit consecutive attempts that never opened ->
// polling. In both fallback states the client long-polls /ws/poll (the
// server holds a request up to pollWaitS seconds until an event comes, and
// the client asks again at once after events, or after pollMs after an empty
// answer): the same event stream as the socket, after the last id it has, so
// nothing is missed or doubled; a client that has no id yet takes the newest
// id as its start and reloads REST state once (the caller's poll). A
// WebSocket attempt is retried every retryWsMs; when one opens, the poll in
// flight is abandoned.

import type { Frame } from './types';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'blocked' | 'stopped';

/** backoffMs is the delay before reconnect attempt n (0-based): 0.5s doubling to 15s, with up to 20% jitter. */
export function backoffMs(attempt: number, rand: () => number = Math.random): number {
  const base = Math.min(15000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.2 * rand()));
}

/**
 * wsURL returns the /ws address for location base, a single-use ticket (POST /api/v1/ws/tickets; the session
 * token never goes in a URL) and the last event id (resume when true), with a probe id when given.
 */
export function wsURL(base: { protocol: string; host: string }, ticket: string, lastEventId: number, resume: boolean, probe = ''): string {
  const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ ticket });
  if (resume) q.set('last_event_id', String(lastEventId));
  if (probe) q.set('probe', probe);
  return `${scheme}//${base.host}/ws?${q.toString()}`;
}

/** One answer of GET /ws/poll (dashboard/fallback.go). */
export interface PollPage {
  events: Frame[];
  last_event_id: number;
  more: boolean;
}

function newProbeId(): string {
  return Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
}

export interface LiveOptions {
  token: string;
  /** The last event id already applied (the caller's state). */
  lastEventId: () => number;
  onFrame: (f: Frame) => void;
  onState: (s: LiveState) => void;
  /** Called once the socket opens, with whether it resumed; the first open should (re)load REST state. */
  onOpen?: (resumed: boolean) => void;
  /** Reloads state over REST; called once when polling starts without a known event id. */
  poll: () => Promise<void>;
  pollMs?: number;
  /** How long the server may hold a poll (seconds); 0 polls without waiting. */
  pollWaitS?: number;
  retryWsMs?: number;
  failOpenLimit?: number;
  location?: { protocol: string; host: string };
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private failedOpens = 0;
  private everOpened = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  /** The newest event id read from /ws/poll (the caller's state may lag a render behind). */
  private cursor = 0;
  private polling = false;
  /** Aborts the poll in flight when the socket opens or the client stops. */
  private pollAbort: AbortController | null = null;
  /** Whether polling has a starting point (an event id, or the newest id at its first poll). */
  private started = false;
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
    this.stopPolling();
  }

  private stopPolling() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.pollAbort?.abort();
    this.pollAbort = null;
  }

  /** connect asks for a fresh ticket, then opens the socket with it; a refused ticket counts as a failed open. */
  private connect() {
    if (this.stopped) return;
    this.ticket().then(
      (ticket) => this.open(ticket),
      () => this.onClose(false, ''),
    );
  }

  private async ticket(): Promise<string> {
    const res = await this.fetch('/api/v1/ws/tickets', undefined, 'POST');
    if (!res.ok) throw new Error(`ws ticket: ${res.status}`);
    const t = (await res.json()) as { ticket?: string };
    if (!t.ticket) throw new Error('ws ticket: none');
    return t.ticket;
  }

  private open(ticket: string) {
    if (this.stopped) return;
    const WS = this.o.WebSocketImpl ?? WebSocket;
    const loc = this.o.location ?? window.location;
    const last = this.lastId();
    const resume = this.everOpened || last > 0;
    const probe = newProbeId();
    let opened = false;
    let ws: WebSocket;
    try {
      ws = new WS(wsURL(loc, ticket, last, resume, probe));
    } catch {
      this.onClose(false, '');
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      this.failedOpens = 0;
      this.stopPolling();
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
      this.onClose(opened, probe);
    };
  }

  private lastId(): number {
    return Math.max(this.o.lastEventId(), this.cursor);
  }

  private onClose(opened: boolean, probe: string) {
    if (this.stopped) return;
    if (!opened) {
      this.failedOpens++;
      if (probe) this.checkProbe(probe);
    }
    const limit = this.o.failOpenLimit ?? 3;
    if (this.failedOpens >= limit || this.state === 'blocked') {
      this.fallBack(this.state === 'blocked' ? 'blocked' : 'polling');
      return;
    }
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.connect(), backoffMs(this.attempt++));
  }

  /** checkProbe asks the server how the failed attempt arrived; a stripped upgrade falls back at once. */
  private async checkProbe(probe: string) {
    try {
      const res = await this.fetch(`/ws/probe?probe=${encodeURIComponent(probe)}`);
      if (!res.ok) return;
      const v = (await res.json()) as { verdict?: string };
      if (v.verdict === 'blocked' && !this.stopped && this.state !== 'live') this.fallBack('blocked');
    } catch {
      /* the server is unreachable: the backoff goes on */
    }
  }

  /** fetch sends the session in the Authorization header, never in the URL. */
  private fetch(path: string, signal?: AbortSignal, method = 'GET'): Promise<Response> {
    const f = this.o.fetchImpl ?? window.fetch.bind(window);
    return f(path, { method, headers: { Authorization: `Bearer ${this.o.token}`, Accept: 'application/json' }, signal });
  }

  /** fallBack polls /ws/poll and retries the WebSocket every retryWsMs. */
  private fallBack(state: 'polling' | 'blocked') {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.o.retryWsMs ?? 30000);
    this.setState(state);
    if (this.pollTimer) return;
    const run = () => {
      this.pollOnce().catch(() => undefined);
    };
    run();
    this.pollTimer = setInterval(run, this.o.pollMs ?? 2000);
  }

  /**
   * pollOnce reads the events after the last id from /ws/poll, asking again
   * at once while events come, until an answer is empty (the server waited
   * pollWaitS for nothing) or the polling ends.
   */
  async pollOnce(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const abort = new AbortController();
    this.pollAbort = abort;
    try {
      if (!this.started && this.lastId() === 0) {
        // No event seen yet: start at the newest and reload what came before.
        const start = await this.page(null, 0, abort.signal);
        this.cursor = Math.max(this.cursor, start.last_event_id);
        await this.o.poll();
      }
      this.started = true;
      for (let i = 0; i < 50 && !abort.signal.aborted; i++) {
        const p = await this.page(this.lastId(), this.o.pollWaitS ?? 20, abort.signal);
        if (abort.signal.aborted) break;
        for (const f of p.events) this.o.onFrame(f);
        this.cursor = Math.max(this.cursor, p.last_event_id);
        if (p.events.length === 0) break;
      }
    } finally {
      this.polling = false;
      if (this.pollAbort === abort) this.pollAbort = null;
    }
  }

  private async page(after: number | null, waitS: number, signal: AbortSignal): Promise<PollPage> {
    const path = after === null ? '/ws/poll' : `/ws/poll?after=${after}${waitS > 0 ? `&wait=${waitS}` : ''}`;
    const res = await this.fetch(path, signal);
    if (!res.ok) throw new Error(`/ws/poll: ${res.status}`);
    return (await res.json()) as PollPage;
  }
}
