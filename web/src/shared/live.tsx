import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

/** A content-free inbox event from GET /api/v1/events. */
export interface LiveEvent {
  type:
    | 'conversation.created'
    | 'conversation.updated'
    | 'conversation.erased'
    | 'message.created'
    | 'message.updated'
    | 'user.notified';
  inboxId: string;
  conversationId: string;
  messageId?: string;
  status?: string;
  /** user.notified: what happened to this user (a mention, a conversation given to them). */
  kind?: 'mention' | 'assigned';
}

type Listener = (event: LiveEvent) => void;
interface Live {
  connected: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<Live>({ connected: false, subscribe: () => () => undefined });
const TYPES: LiveEvent['type'][] = [
  'conversation.created',
  'conversation.updated',
  'conversation.erased',
  'message.created',
  'message.updated',
  'user.notified',
];

/** One EventSource per tab; the browser reconnects by itself and the server re-checks the session. */
export function LiveEventsProvider({ enabled = true, children }: { enabled?: boolean; children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled) return undefined;
    const source = new EventSource('/api/v1/events', { withCredentials: true });
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    const handler = (e: MessageEvent<string>) => {
      try {
        const event = JSON.parse(e.data) as LiveEvent;
        for (const l of listeners.current) l(event);
      } catch {
        // A malformed event is ignored; the next list refresh corrects any gap.
      }
    };
    for (const type of TYPES) source.addEventListener(type, handler as EventListener);
    return () => source.close();
  }, [enabled]);
  const value = useRef<Live>({
    connected: false,
    subscribe(listener) {
      listeners.current.add(listener);
      return () => listeners.current.delete(listener);
    },
  });
  return <LiveContext.Provider value={{ ...value.current, connected }}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls `fn` on each live event (latest closure, no re-subscription per render). */
export function useLiveEvents(fn: Listener): boolean {
  const live = useLive();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.subscribe((e) => ref.current(e)), [live.subscribe]);
  return live.connected;
}
