import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./api.ts";

export type Loaded<T> = { data: T | undefined; error: string | undefined; loading: boolean; reload(): void };

/** Runs `load` now and on `reload()` (and whenever `deps` change); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => !cancelled && setState({ data, loading: false }),
      (error: unknown) => !cancelled && setState((s) => ({ data: s.data, error: describeError(error), loading: false })),
    );
    return () => {
      cancelled = true;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export type LiveStatus = "connecting" | "live" | "reconnecting";

/**
 * Server-sent events from /api/live: calls `onEvent(type, data)` for the named event types. One
 * EventSource per call; the browser reconnects by itself after a drop.
 */
export function useLive(types: readonly string[], onEvent: (type: string, data: unknown) => void): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = types.join(",");
  useEffect(() => {
    const source = new EventSource("/api/live");
    source.onopen = () => setStatus("live");
    source.onerror = () => setStatus("reconnecting");
    const listeners = key.split(",").map((type) => {
      const listener = (e: MessageEvent<string>) => {
        let data: unknown;
        try {
          data = JSON.parse(e.data);
        } catch {
          data = undefined;
        }
        handler.current(type, data);
      };
      source.addEventListener(type, listener);
      return [type, listener] as const;
    });
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.close();
    };
  }, [key]);
  return status;
}
