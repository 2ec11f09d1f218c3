import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createLogger } from '../../src/shared/logger.ts';

async function appLogging() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children += 1;
    return child(...args);
  }) as typeof logger.child;
  const app = await buildHttpApp({ logger, metrics: createMetrics(), bodyLimitBytes: 1024, ping: async () => {} }, [
    (scope) => {
      scope.get('/quiet', { logLevel: 'warn' }, async (request) => {
        request.log.info({ token: 'spt_secret' }, 'not at this level');
        return { ok: true };
      });
      scope.get('/quiet-warns', { logLevel: 'warn' }, async (request) => {
        request.log.warn({ token: 'spt_secret' }, 'something to look at');
        return { ok: true };
      });
      scope.get('/normal', async () => ({ ok: true }));
    },
  ]);
  await app.ready();
  children = 0; // Fastify makes children of its own while it sets up; only those of requests count
  return { app, lines, children: () => children };
}

describe('the logger of each request', () => {
  it('is made only when the request logs a line at a level that is on', async () => {
    const { app, lines, children } = await appLogging();
    for (let i = 0; i < 20; i++) expect((await app.inject({ url: '/quiet' })).statusCode).toBe(200);
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    await app.close();
  });

  it('logs what it logs as before: with the request id, at the route level, redacted', async () => {
    const { app, lines, children } = await appLogging();
    await app.inject({ url: '/quiet-warns' });
    expect(children()).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'something to look at', token: '[redacted]' });
    expect(lines[0]!.reqId).toEqual(expect.any(String));
    await app.inject({ url: '/normal' });
    const normal = lines.slice(1);
    expect(normal.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(normal[0]!.reqId).toBe(normal[1]!.reqId);
    expect(normal[0]!.reqId).not.toBe(lines[0]!.reqId);
    expect(normal[0]).toMatchObject({ req: { method: 'GET', route: '/normal' } });
    await app.close();
  });
});
