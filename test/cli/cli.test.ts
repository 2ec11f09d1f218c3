import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/instances.ts';

const BIN = path.resolve('bin/sparsam.js');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(args: string[], env: Record<string, string>, stdin?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (stdin !== undefined) child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sparsam command line', () => {
  it('refuses a broken configuration with exit code 2, a clear message, and writes nothing', async () => {
    const parent = tempDir();
    const dataDir = path.join(parent, 'data');
    const result = await run(['start'], {
      SPARSAM_DATA_DIR: dataDir,
      SPARSAM_PORT: 'eighty',
      SPARSAM_LOG_LEVEL: 'loud',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SPARSAM_PORT: must be a whole number between 0 and 65535 (example: 8080)');
    expect(result.stderr).toContain('SPARSAM_LOG_LEVEL:');
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('starts on a new SQLite data dir and answers /healthz within seconds', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...process.env, SPARSAM_DATA_DIR: dataDir, SPARSAM_PORT: String(port), SPARSAM_HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
    try {
      const started = Date.now();
      let status = 0;
      while (Date.now() - started < 20_000) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`)
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'sparsam.db'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'keys.db'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('creates an admin from a password on stdin and refuses a short one', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const ok = await run(
      ['admin', 'create', '--email', 'Admin@Example.org'],
      { SPARSAM_DATA_DIR: dataDir },
      'a long enough passphrase\n',
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('created admin admin@example.org');
    const again = await run(
      ['admin', 'create', '--email', 'admin@example.org'],
      { SPARSAM_DATA_DIR: dataDir },
      'another long passphrase\n',
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists already');
    const short = await run(['admin', 'create', '--email', 'b@example.org'], { SPARSAM_DATA_DIR: dataDir }, 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 12 characters');
  });

  it('admin unlock lifts a lock-out, says so, and records it in the audit log', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const created = await run(
      ['admin', 'create', '--email', 'locked@example.org'],
      { SPARSAM_DATA_DIR: dataDir },
      'a long enough passphrase\n',
    );
    expect(created.code).toBe(0);
    const db = new Database(path.join(dataDir, 'sparsam.db'));
    try {
      db.prepare('UPDATE users SET locked_until = ?, failed_logins = 5').run(Date.now() + 15 * 60_000);
    } finally {
      db.close();
    }
    const unlocked = await run(['admin', 'unlock', '--email', 'Locked@Example.org'], { SPARSAM_DATA_DIR: dataDir });
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toContain('unlocked locked@example.org');
    const check = new Database(path.join(dataDir, 'sparsam.db'), { readonly: true });
    try {
      expect(check.prepare('SELECT locked_until, failed_logins FROM users').get()).toEqual({
        locked_until: null,
        failed_logins: 0,
      });
      expect(check.prepare("SELECT actor FROM audit_log WHERE action = 'user.unlocked'").all()).toEqual([
        { actor: 'cli:admin-unlock' },
      ]);
    } finally {
      check.close();
    }
    const unknown = await run(['admin', 'unlock', '--email', 'nobody@example.org'], { SPARSAM_DATA_DIR: dataDir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account with the e-mail address nobody@example.org');
  }, 90_000);

  it('token create --expires-in, list and revoke; creating tokens and admins is audited; expired and revoked fail', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const env = { SPARSAM_DATA_DIR: dataDir };
    expect(
      (await run(['admin', 'create', '--email', 'root@example.org'], env, 'a long enough passphrase\n')).code,
    ).toBe(0);
    const created = await run(
      ['token', 'create', '--name', 'crm-import', '--role', 'agent', '--expires-in', '30d'],
      env,
    );
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^spt_/);
    expect(created.stderr).toMatch(/valid until \d{4}-/);
    const bad = await run(['token', 'create', '--name', 'x', '--role', 'agent', '--expires-in', 'soon'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--expires-in must be a duration like 30d');
    const list = await run(['token', 'list', '--json'], env);
    expect(list.code).toBe(0);
    const items = JSON.parse(list.stdout).items as { id: string; name: string; active: boolean; expiresAt: string }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: 'crm-import', active: true });
    expect(Date.parse(items[0]!.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(list.stdout).not.toContain(secret);
    const revoked = await run(['token', 'revoke', items[0]!.id], env);
    expect(revoked.stdout).toContain('revoked');
    expect(JSON.parse((await run(['token', 'list', '--json'], env)).stdout).items[0].active).toBe(false);
    const db = new Database(path.join(dataDir, 'sparsam.db'), { readonly: true });
    try {
      const actions = db.prepare('SELECT actor, action FROM audit_log ORDER BY seq').all() as { action: string }[];
      expect(actions).toEqual(
        expect.arrayContaining([
          { actor: 'cli:admin-create', action: 'user.created' },
          { actor: 'cli:token-create', action: 'token.created' },
          { actor: 'cli:token-revoke', action: 'token.revoked' },
        ]),
      );
    } finally {
      db.close();
    }
  }, 120_000);

  it('doctor reports a port in use in plain words and exits non-zero', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      const result = await run(['doctor'], {
        SPARSAM_DATA_DIR: path.join(tempDir(), 'data'),
        SPARSAM_PORT: String(port),
        SPARSAM_HOST: '127.0.0.1',
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('ok   configuration is valid');
      expect(result.stdout).toContain(`FAIL port ${port}: already in use`);
    } finally {
      blocker.close();
    }
  });

  it('doctor marks warnings WARN, not ok: a public URL without https and the placeholder controller', async () => {
    const result = await run(['doctor'], {
      SPARSAM_DATA_DIR: path.join(tempDir(), 'data'),
      SPARSAM_PORT: String(await freePort()),
      SPARSAM_HOST: '127.0.0.1',
      SPARSAM_BASE_URL: 'http://localhost:8080',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('WARN public URL: http://localhost:8080 is not https');
    expect(result.stdout).not.toMatch(/^ok\s+public URL/m);
    expect(result.stdout).toContain('WARN controller: "sparsam, datenschutz@example.org" is a placeholder');
    // A fresh install has no channel yet: doctor says where to add one.
    expect(result.stdout).toContain(
      'WARN channels: none set up yet: add one in the admin screen (Verwaltung › Kanäle)',
    );
  });

  it('start on a busy port says so in plain words and exits 1', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    try {
      const result = await run(['start'], {
        SPARSAM_DATA_DIR: path.join(tempDir(), 'data'),
        SPARSAM_PORT: String(port),
        SPARSAM_HOST: '127.0.0.1',
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `sparsam: port ${port} is already in use: stop the other program or set SPARSAM_PORT`,
      );
      expect(result.stderr).not.toContain('unexpected error');
    } finally {
      blocker.close();
    }
  });

  it('npm start stops the server when npm gets SIGTERM, and logs JSON when not on a terminal', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, SPARSAM_DATA_DIR: dataDir, SPARSAM_PORT: String(port), SPARSAM_HOST: '127.0.0.1' },
    });
    let stdout = '';
    npm.stdout.on('data', (d) => (stdout += d));
    const healthy = () =>
      fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
    try {
      const started = Date.now();
      while (!(await healthy()) && Date.now() - started < 25_000) await new Promise((r) => setTimeout(r, 200));
      expect(await healthy()).toBe(true);
      const hint = stdout.split('\n').find((line) => line.includes('no admin account yet'));
      expect(JSON.parse(hint!).msg).toBe(
        'no admin account yet: create one with: npx sparsam admin create --email you@example.org',
      );
      npm.kill('SIGTERM');
      const stopped = Date.now();
      while ((await healthy()) && Date.now() - stopped < 10_000) await new Promise((r) => setTimeout(r, 200));
      expect(await healthy()).toBe(false);
    } finally {
      npm.kill('SIGKILL');
    }
  }, 60_000);
});
