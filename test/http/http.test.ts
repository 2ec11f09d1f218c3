import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.ts';
import { buildHttpApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createSparsam, type Sparsam } from '../../src/main.ts';
import { AppError } from '../../src/shared/app-error.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { openTestStore, type TestStore } from '../support/stores.ts';

const require = createRequire(import.meta.url);
const loaded = (suffix: string) => Object.keys(require.cache).some((id) => id.endsWith(suffix));

describe('http foundation', () => {
  let t: TestStore;
  let sparsam: Sparsam;
  const logLines: string[] = [];
  let serializerLoadedAtStart = true;
  let validatorLoadedAtStart = true;

  beforeAll(async () => {
    t = await openTestStore('sqlite');
    await t.store.close();
    const config = loadConfig({ env: { ...t.env, SPARSAM_BODY_LIMIT_BYTES: '4096' } });
    const destination = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    });
    sparsam = await createSparsam(config, { logger: createLogger({ level: 'info', destination }) });
    sparsam.http.post('/test/echo', async (request) => ({ got: request.body, raw: request.rawBody?.length }));
    serializerLoadedAtStart = loaded('/fast-json-stringify/index.js');
    validatorLoadedAtStart = loaded('/@fastify/ajv-compiler/index.js');
    sparsam.http.post(
      '/test/validated',
      { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } },
      async (request) => request.body,
    );
    sparsam.http.get(
      '/test/serialized',
      { schema: { response: { 200: { type: 'object', properties: { kept: { type: 'string' } } } } } },
      async () => ({ kept: 'yes', dropped: 'not declared' }),
    );
    sparsam.http.get('/test/app-error', async () => {
      throw new AppError('FORBIDDEN', 'agents may not do this');
    });
    sparsam.http.get('/test/crash', async () => {
      throw new Error('database said: +4915112345678 is secret');
    });
    await sparsam.http.ready();
  });
  afterAll(async () => {
    await sparsam?.close();
    await t?.cleanup();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await sparsam.http.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await sparsam.http.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('serves Prometheus metrics in text format', async () => {
    await sparsam.http.inject({ url: '/healthz' });
    const res = await sparsam.http.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('sparsam_http_request_duration_seconds_bucket{');
    expect(res.body).toContain('route="/healthz"');
  });

  it('loads the response serializer of Fastify only for a route with a response schema, which it then applies', async () => {
    expect(serializerLoadedAtStart).toBe(false);
    const res = await sparsam.http.inject({ url: '/test/serialized' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ kept: 'yes' });
    expect(loaded('/fast-json-stringify/index.js')).toBe(true);
  });

  it('loads the Ajv validator of Fastify only for a route with a JSON schema, which it then enforces', async () => {
    expect(validatorLoadedAtStart).toBe(false);
    expect(loaded('/@fastify/ajv-compiler/index.js')).toBe(true);
    const ok = await sparsam.http.inject({ method: 'POST', url: '/test/validated', payload: { n: 3 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ n: 3 });
    const bad = await sparsam.http.inject({ method: 'POST', url: '/test/validated', payload: { n: 'three' } });
    expect(bad.statusCode).toBe(400);
  });

  it('refuses a route with a JSON schema for headers at start, naming the route', async () => {
    const app = await buildHttpApp(
      {
        logger: createLogger({ level: 'silent' }),
        metrics: createMetrics(),
        bodyLimitBytes: 1024,
        ping: async () => {},
      },
      [
        (scope) => {
          scope.get('/test/headers', { schema: { headers: { type: 'object' } } }, async () => ({}));
        },
      ],
    );
    await expect(app.ready()).rejects.toThrow(/GET \/test\/headers: header schemas are not supported/);
  });

  it('keeps the raw body of JSON requests', async () => {
    const body = '{ "a" : "\\u00e4" }';
    const res = await sparsam.http.inject({
      method: 'POST',
      url: '/test/echo',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.json()).toEqual({ got: { a: 'ä' }, raw: Buffer.byteLength(body) });
  });

  it('refuses bodies over the limit with 413', async () => {
    const res = await sparsam.http.inject({
      method: 'POST',
      url: '/test/echo',
      payload: JSON.stringify({ pad: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers malformed JSON with 400 and echoes nothing of it', async () => {
    const res = await sparsam.http.inject({
      method: 'POST',
      url: '/test/echo',
      payload: '{"phone": "+4915112345678",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION');
    expect(res.body).not.toContain('4915112345678');
  });

  it('maps AppError codes to statuses', async () => {
    const res = await sparsam.http.inject({ url: '/test/app-error' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'agents may not do this' } });
  });

  it('hides unexpected errors behind a reference and never logs or returns their message', async () => {
    const res = await sparsam.http.inject({ url: '/test/crash' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.message).toMatch(/^internal error; reference /);
    expect(res.body).not.toContain('4915112345678');
    expect(logLines.join('')).not.toContain('4915112345678');
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await sparsam.http.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('never logs query strings, authorization headers or cookies', async () => {
    await sparsam.http.inject({
      url: '/healthz?hub.verify_token=supersecret',
      headers: { authorization: 'Bearer spt_abcdef', cookie: 'sparsam_session=xyz' },
    });
    const log = logLines.join('');
    expect(log).not.toContain('supersecret');
    expect(log).not.toContain('spt_abcdef');
    expect(log).not.toContain('sparsam_session=xyz');
  });
});
