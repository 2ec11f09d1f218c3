import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve('.');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A checkout as `git clone && npm install` leaves it: sources and node_modules, no web/dist, no data. */
function freshClone(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-clone-'));
  dirs.push(dir);
  for (const name of ['package.json', 'bin', 'src', 'dev', 'web']) {
    cpSync(path.join(ROOT, name), path.join(dir, name), {
      recursive: true,
      filter: (source) => !source.startsWith(path.join(ROOT, 'web', 'dist')),
    });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

describe('npm run demo on a fresh clone', () => {
  it('builds the web inbox first, so the printed inbox URL serves the login page', { timeout: 240_000 }, async () => {
    const dir = freshClone();
    expect(existsSync(path.join(dir, 'web', 'dist'))).toBe(false);
    const child = spawn(process.execPath, ['bin/sparsam.js', 'demo', '--port', '0', '--simulator-port', '0'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const inboxUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no inbox URL; stderr: ${stderr}`)), 220_000);
        child.stdout.on('data', () => {
          const m = /Team inbox:\s+(http:\/\/\S+?)\/?\s/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`demo exited with ${code}; stderr: ${stderr}`)));
      });
      expect(stderr).toContain('building the web inbox');
      expect(existsSync(path.join(dir, 'web', 'dist', 'index.html'))).toBe(true);
      const page = await fetch(`${inboxUrl}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    }
  });
});
