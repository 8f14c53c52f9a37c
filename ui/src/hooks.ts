/** Data loading and live updates for the pages. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { eventsUrl } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads `fn()` when `key` changes; `reload` loads again without clearing what is shown. */
export function useLoad<T>(fn: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // biome-ignore lint/correctness/useExhaustiveDependencies: key and tick decide when to load
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fnRef.current().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Calls `onChange` (at most every 250 ms) when runs or task instances of the DAG change. */
export function useLiveChanges(dagId: string | undefined, onChange: () => void): boolean {
  const [connected, setConnected] = useState(false);
  const cb = useRef(onChange);
  cb.current = onChange;
  useEffect(() => {
    const source = new EventSource(eventsUrl(dagId));
    let timer: number | undefined;
    source.addEventListener('ready', () => setConnected(true));
    source.addEventListener('change', () => {
      if (timer !== undefined) return;
      timer = window.setTimeout(() => {
        timer = undefined;
        cb.current();
      }, 250);
    });
    source.onerror = () => setConnected(false);
    return () => {
      window.clearTimeout(timer);
      source.close();
    };
  }, [dagId]);
  return connected;
}
