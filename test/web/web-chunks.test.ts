import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../../web/build.mjs';

/**
 * The web inbox's bundle: what an agent loads carries the inbox only; the admin, data protection and marketing areas
 * come as their own chunks when a user opens them.
 */
const assets = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist/assets');

describe('web inbox chunks', () => {
  let files: string[] = [];
  const read = (prefix: string) => {
    const name = files.find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.js'));
    expect(name, `a ${prefix} chunk in web/dist/assets`).toBeDefined();
    return readFileSync(path.join(assets, name!), 'utf8');
  };

  beforeAll(async () => {
    await ensureWebBuilt();
    files = readdirSync(assets);
  }, 120_000);

  it('keeps the admin, compliance and marketing screens out of the entry chunk', () => {
    const entry = read('index');
    // One API path that only each area's code uses.
    for (const [area, apiPath] of [
      ['Admin', '/admin/inboxes'],
      ['Compliance', '/compliance/audit/verify'],
      ['Marketing', '/marketing/broadcasts'],
    ] as const) {
      expect(entry, `${apiPath} in the entry chunk`).not.toContain(apiPath);
      expect(read(area), `${apiPath} in the ${area} chunk`).toContain(apiPath);
    }
  });
});
