/**
 * Hash routing: `#/dags/<id>?tab=grid`. The server serves one page; every view is a
 * hash, so reloads and bookmarks work without server-side fallbacks.
 */
import { useEffect, useState } from 'react';

export interface Route {
  /** Decoded path segments, e.g. ['dags', 'etl']. */
  segments: string[];
  query: URLSearchParams;
}

function current(): Route {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?');
  return {
    segments: path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s)),
    query: new URLSearchParams(search),
  };
}

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A hash link built from path segments (each encoded) and query parameters. */
export function href(
  segments: string[],
  query: Record<string, string | number | undefined> = {},
): string {
  const path = segments.map((s) => encodeURIComponent(s)).join('/');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== '') params.set(k, String(v));
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ''}`;
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}
