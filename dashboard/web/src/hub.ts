// One live connection per signed-in tab, shared by the pages: the inbox, the
// approval queue and its count in the nav, Customer 360. LiveHub owns the
// LiveClient (live.ts) and hands each frame to every subscriber; when the
// stream cannot be resumed (a fresh subscription, or polling that starts
// without an event id), it asks every subscriber to reload its REST state,
// since the frames before it are not replayed.
//
// Protocol: subscribe(listener) delivers the current connection state at
// once, then every state change and frame in order; the function it answers
// unsubscribes. Frames are delivered once each (an id at or below the last
// delivered one is a duplicate), to the subscribers of the moment: a page
// that subscribes later loads its REST state itself.

import { LiveClient, type LiveOptions, type LiveState } from './live';
import type { Frame } from './types';

/** LiveListener is what a page wants from the live connection; every member is optional. */
export interface LiveListener {
  onFrame?: (f: Frame) => void;
  onState?: (s: LiveState) => void;
  /** reload REST state: frames before now will not come */
  onReload?: () => void | Promise<void>;
}

/** HubOptions are LiveClient's options less those the hub provides. */
export type HubOptions = Omit<LiveOptions, 'lastEventId' | 'onFrame' | 'onState' | 'onOpen' | 'poll'>;

export class LiveHub {
  private listeners = new Set<LiveListener>();
  private lastId = 0;
  readonly client: LiveClient;
  state: LiveState = 'connecting';

  constructor(o: HubOptions) {
    this.client = new LiveClient({
      ...o,
      lastEventId: () => this.lastId,
      onFrame: (f) => this.frame(f),
      onState: (s) => {
        this.state = s;
        for (const l of [...this.listeners]) l.onState?.(s);
      },
      onOpen: (resumed) => {
        if (!resumed) void this.reload();
      },
      poll: () => this.reload(),
    });
  }

  start(): void {
    this.client.start();
  }

  stop(): void {
    this.client.stop();
    this.listeners.clear();
  }

  /** lastEventId is the id of the last frame delivered (0 before any). */
  get lastEventId(): number {
    return this.lastId;
  }

  subscribe(l: LiveListener): () => void {
    this.listeners.add(l);
    l.onState?.(this.state);
    return () => {
      this.listeners.delete(l);
    };
  }

  private frame(f: Frame) {
    if (typeof f.id === 'number') {
      if (f.id <= this.lastId) return;
      this.lastId = f.id;
    }
    for (const l of [...this.listeners]) {
      try {
        l.onFrame?.(f);
      } catch {
        /* one page's failure never starves the others */
      }
    }
  }

  private async reload(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => Promise.resolve(l.onReload?.()).catch(() => undefined)));
  }
}
