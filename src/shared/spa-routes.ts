/**
 * The web inbox's client-side routes (Fastify-style `:param` patterns). One table for both sides: the web inbox's
 * router (web/src/router.ts) re-exports it, and the server (src/http/web.routes.ts) answers each with index.html, so
 * that a reload or a bookmark of any screen opens the inbox instead of a 404. Add a screen here, or a reload of it
 * breaks; test/web/spa-routes.test.ts fails when a path the web inbox links to or matches is missing.
 */
export const SPA_ROUTES = [
  '/',
  '/login',
  '/invite',
  '/inbox',
  '/inbox/:id',
  '/account',
  '/admin',
  '/admin/:section',
  '/compliance',
  '/compliance/:section',
  '/marketing',
] as const;

/** True when `path` (no query, no hash) is one of {@link SPA_ROUTES}; a `:param` matches one non-empty segment. */
export function isSpaRoute(path: string): boolean {
  return SPA_ROUTES.some((route) => {
    const want = route.split('/');
    const have = path.split('/');
    return (
      want.length === have.length && want.every((part, i) => (part.startsWith(':') ? have[i] !== '' : part === have[i]))
    );
  });
}
