import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { SPA_ROUTES } from '../shared/spa-routes.ts';
import type { RouteModule } from './app.ts';

/** The client-side routes of the inbox (the table web/src/router.ts shares); each answers with index.html. */
export const SPA_PATHS: readonly string[] = SPA_ROUTES;

/** Content security policy of the inbox: own scripts only, images from self and data: URLs (the 2FA QR code). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Serves the built web inbox from web/dist: hashed assets (/assets/*) cached for a year as immutable, everything
 * else revalidated; text files precompressed (brotli or gzip, as the browser accepts); the inbox's client-side paths (SPA_PATHS) answer with index.html.
 */
export function webRoutes(distDir: string): RouteModule {
  return async (app: FastifyInstance) => {
    const index = path.join(distDir, 'index.html');
    if (!existsSync(index)) {
      app.log.warn({ distDir }, 'the web inbox is not built; run  npm run build:web');
      return;
    }
    await app.register(fastifyStatic, {
      root: distDir,
      prefix: '/',
      wildcard: false,
      index: false,
      cacheControl: false,
      // web/build.mjs writes a .br and a .gz beside each text file; the smaller one the browser accepts is sent.
      preCompressed: true,
      setHeaders(res, filePath) {
        const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
        // The same address answers brotli, gzip or plain bytes: caches keep one copy per encoding.
        res.setHeader('vary', 'accept-encoding');
      },
    });
    const sendIndex = (reply: import('fastify').FastifyReply) =>
      reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-frame-options', 'DENY')
        .type('text/html; charset=utf-8')
        .sendFile('index.html');
    // The inbox's own client-side paths get index.html; anything else stays a 404 (no page for typos or probes).
    for (const url of SPA_PATHS) app.get(url, (_request, reply) => sendIndex(reply));
  };
}
