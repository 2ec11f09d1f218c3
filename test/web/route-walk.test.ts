import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sparsam } from '../../src/main.ts';
import { describeEachStore } from '../support/stores.ts';
import { ensureWebBuilt } from '../../web/build.mjs';
import { SPA_ROUTES } from '../../src/shared/spa-routes.ts';
import { nextIp, startWebApp } from './web-support.ts';

/** The only /api/v1 routes open without credentials: the login page's calls and the OpenAPI document (no data). */
const PUBLIC_ROUTES = new Set([
  'GET /api/v1/openapi.json',
  'HEAD /api/v1/openapi.json',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/invitations/lookup',
  'POST /api/v1/auth/invitations/accept',
]);

/** Every registered route as "METHOD /path", read from Fastify's route tree (printRoutes without prefix merging). */
export function registeredRoutes(sparsam: Sparsam): string[] {
  const tree = sparsam.http.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(',').map((s) => s.trim())) out.push(`${method} ${stack.join('')}`);
  }
  return out;
}

describeEachStore('every /api/v1 route needs credentials', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  beforeAll(async () => {
    app = await startWebApp(dialect);
  });
  afterAll(async () => app?.close());

  it('answers 401 without a session or token on every route but login, invitation acceptance and the API document', async () => {
    const routes = registeredRoutes(app.sparsam).filter((r) => r.split(' ')[1]!.startsWith('/api/v1/'));
    // The walk must see the routes it guards, or it proves nothing.
    for (const known of [
      'GET /api/v1/users',
      'POST /api/v1/auth/login',
      'GET /api/v1/events',
      'POST /api/v1/conversations/:id/notes',
    ]) {
      expect(routes).toContain(known);
    }
    expect(routes.length).toBeGreaterThan(25);
    const open: string[] = [];
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      if (PUBLIC_ROUTES.has(route) || method === 'OPTIONS') continue;
      const url = path.replace(/:[A-Za-z0-9_]+/g, '00000000-0000-4000-8000-000000000000').replace(/\*$/, 'x');
      const res = await app.sparsam.http.inject({
        method: method as 'GET',
        url,
        remoteAddress: nextIp(),
        ...(['POST', 'PUT', 'PATCH'].includes(method) ? { payload: {} } : {}),
      });
      if (res.statusCode !== 401) open.push(`${route} -> ${res.statusCode}`);
    }
    expect(open).toEqual([]);
  });

  it('also refuses a forged cookie and a wrong bearer token', async () => {
    const forged = await app.sparsam.http.inject({
      url: '/api/v1/me',
      headers: { cookie: 'sparsam_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(forged.statusCode).toBe(401);
    const bearer = await app.sparsam.http.inject({
      url: '/api/v1/users',
      headers: { authorization: 'Bearer spt_nope' },
    });
    expect(bearer.statusCode).toBe(401);
  });
});

describeEachStore('the web inbox is served from web/dist', (dialect) => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  beforeAll(async () => {
    await ensureWebBuilt();
    app = await startWebApp(dialect);
  });
  afterAll(async () => app?.close());

  it('answers the inbox paths with index.html, hashed assets as immutable, and unknown paths with 404', async () => {
    for (const url of ['/', '/inbox', '/inbox/8f1c', '/admin/channels', '/account', '/invite']) {
      const res = await app.sparsam.http.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const index = (await app.sparsam.http.inject({ url: '/' })).body;
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(asset).toBeDefined();
    const js = await app.sparsam.http.inject({ url: asset! });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.sparsam.http.inject({ url: '/nope' })).statusCode).toBe(404);
    expect((await app.sparsam.http.inject({ url: '/api/v1/nope' })).statusCode).toBe(404);
  });

  it('reloads every client route, the DPO landing page and the campaigns page included, to index.html', async () => {
    const urls = [
      ...SPA_ROUTES.map((route) => route.replace(/:[A-Za-z]+/g, 'x1')),
      '/compliance/audit',
      '/compliance/dsar',
      '/marketing',
      '/admin/quick-replies',
    ];
    expect(urls).toContain('/compliance/x1');
    for (const url of urls) {
      const res = await app.sparsam.http.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toContain('text/html');
      expect(res.body, url).toContain('<div id="root">');
    }
    for (const url of ['/compliance/audit/extra', '/marketingx', '/admin/users/x/y']) {
      expect((await app.sparsam.http.inject({ url })).statusCode, url).toBe(404);
    }
  });
});
