import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';
import { startWebApp } from './web-support.ts';

/**
 * The web inbox's files leave sparsam compressed without a proxy: brotli when the browser takes it, else gzip, else
 * as they are; the bytes decompress to the built file.
 */
const assets = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist/assets');

describe('web inbox compression', () => {
  let app: Awaited<ReturnType<typeof startWebApp>>;
  let entry = '';
  beforeAll(async () => {
    await ensureWebBuilt();
    entry = readdirSync(assets).find((f) => /^index-.*\.js$/.test(f))!;
    app = await startWebApp('sqlite');
  }, 120_000);
  afterAll(async () => app?.close());

  const get = (url: string, acceptEncoding?: string) =>
    app.sparsam.http.inject({
      method: 'GET',
      url,
      headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {},
    });

  it('sends the entry script as brotli, gzip or plain, as the browser accepts, each a quarter of the size or less', async () => {
    const plain = readFileSync(path.join(assets, entry));
    const br = await get(`/assets/${entry}`, 'gzip, deflate, br');
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.rawPayload).equals(plain)).toBe(true);
    expect(br.rawPayload.length).toBeLessThan(plain.length / 3);

    const gz = await get(`/assets/${entry}`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).equals(plain)).toBe(true);
    expect(gz.rawPayload.length).toBeLessThan(plain.length / 3);

    const identity = await get(`/assets/${entry}`);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.rawPayload.equals(plain)).toBe(true);
  });

  it('compresses the page a reload of a screen answers with, keeping its security headers', async () => {
    const res = await get('/compliance/audit', 'br');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(brotliDecompressSync(res.rawPayload).toString('utf8')).toContain(`/assets/${entry}`);
  });
});
