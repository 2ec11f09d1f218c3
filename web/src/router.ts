import { useEffect, useState } from 'react';

/**
 * The inbox's route table, shared with the server (which answers each route with index.html, so that reloads and
 * bookmarks work): a new screen's path goes into src/shared/spa-routes.ts.
 */
export { SPA_ROUTES, isSpaRoute } from '../../src/shared/spa-routes.ts';

/** A minimal history router: the server answers every non-API path with index.html. */
export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const on = () => setPath(window.location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

/** A link that navigates without reloading; keeps real hrefs for middle-click and screen readers. */
export function linkHandler(path: string) {
  return (e: { preventDefault(): void; ctrlKey?: boolean; metaKey?: boolean; button?: number }) => {
    if (e.ctrlKey || e.metaKey || (e.button ?? 0) !== 0) return;
    e.preventDefault();
    navigate(path);
  };
}
