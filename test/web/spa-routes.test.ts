import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSpaRoute, SPA_ROUTES } from '../../src/shared/spa-routes.ts';

const WEB_SRC = path.resolve('web/src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.tsx?$/.test(name) ? [file] : [];
  });
}

/**
 * The client-side paths the web inbox links to, navigates to or matches on: `href`, `navigate(…)`, `startsWith(…)`
 * and a sub-navigation's `base`, as string or template literals (a `${…}` counts as one path segment).
 */
function clientPaths(): { file: string; path: string }[] {
  const found: { file: string; path: string }[] = [];
  const literal = String.raw`(['"\`])(\/[^'"\`]*)\1`;
  const patterns = [
    new RegExp(String.raw`href\s*[=:]\s*\{?\s*${literal}`, 'g'),
    new RegExp(String.raw`navigate\(\s*${literal}`, 'g'),
    new RegExp(String.raw`startsWith\(\s*${literal}`, 'g'),
    new RegExp(String.raw`base\s*=\s*\{?\s*${literal}`, 'g'),
  ];
  for (const file of sources(WEB_SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        const p = m[2]!.replace(/\$\{[^}]*\}/g, 'x1').replace(/[?#].*$/, '');
        if (p.startsWith('/api/')) continue;
        found.push({ file: path.relative(WEB_SRC, file), path: p });
      }
    }
  }
  return found;
}

describe('the route table the web inbox and the server share', () => {
  it('covers every path the web inbox links to, navigates to or matches on', () => {
    const paths = clientPaths();
    // The scan must see the paths it guards, or it proves nothing.
    expect(paths.map((p) => p.path)).toEqual(expect.arrayContaining(['/inbox', '/compliance/audit', '/marketing']));
    const missing = paths.filter((p) => !isSpaRoute(p.path)).map((p) => `${p.file}: ${p.path}`);
    expect(missing).toEqual([]);
  });

  it('is what the web inbox router exports, so the client reads the same table', () => {
    const router = readFileSync(path.join(WEB_SRC, 'router.ts'), 'utf8');
    expect(router).toMatch(/export \{[^}]*\bSPA_ROUTES\b[^}]*\} from '\.\.\/\.\.\/src\/shared\/spa-routes\.ts'/);
  });

  it('matches a parameter to exactly one non-empty segment', () => {
    expect(SPA_ROUTES).toContain('/compliance/:section');
    expect(isSpaRoute('/compliance/audit')).toBe(true);
    expect(isSpaRoute('/compliance/')).toBe(false);
    expect(isSpaRoute('/compliance/audit/x')).toBe(false);
    expect(isSpaRoute('/nope')).toBe(false);
  });
});
