import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-teams-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configFile = path.join(dir, 'sparsam.yaml');
writeFileSync(configFile, ['inboxes:', '  - id: werkstatt', '  - id: verkauf'].join('\n'));
const env = { SPARSAM_DATA_DIR: path.join(dir, 'data'), SPARSAM_CONFIG: configFile };

it('sets an agent’s inboxes, limits an agent token to inboxes, and refuses unknown inboxes and limited admin tokens', async () => {
  const created = await runCli(
    ['admin', 'create', '--email', 'ben@example.org', '--role', 'agent', '--inbox', 'werkstatt'],
    env,
    'a long enough passphrase\n',
  );
  expect(created.code, created.stderr).toBe(0);
  expect((await runCli(['user', 'inboxes', '--email', 'ben@example.org'], env)).stdout).toContain(
    'ben@example.org: werkstatt',
  );
  const both = await runCli(
    ['user', 'inboxes', '--email', 'Ben@Example.org', '--inbox', 'werkstatt', '--inbox', 'verkauf'],
    env,
  );
  expect(both.stdout).toContain('ben@example.org: verkauf, werkstatt');
  const none = await runCli(['user', 'inboxes', '--email', 'ben@example.org', '--none'], env);
  expect(none.stdout).toContain('ben@example.org: no inbox');
  const unknown = await runCli(['user', 'inboxes', '--email', 'ben@example.org', '--inbox', 'lager'], env);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('no such inbox: lager');

  const token = await runCli(
    ['token', 'create', '--name', 'crm', '--role', 'agent', '--inbox', 'werkstatt', '--inbox', 'verkauf'],
    env,
  );
  expect(token.code, token.stderr).toBe(0);
  expect(token.stdout).toMatch(/^spt_/);
  const admin = await runCli(['token', 'create', '--name', 'x', '--role', 'admin', '--inbox', 'werkstatt'], env);
  expect(admin.code).toBe(1);
  expect(admin.stderr).toContain('only agent tokens can be limited');
  const wrong = await runCli(['token', 'create', '--name', 'y', '--role', 'agent', '--inbox', 'lager'], env);
  expect(wrong.code).toBe(1);
  const db = new Database(path.join(dir, 'data', 'sparsam.db'), { readonly: true });
  try {
    expect(db.prepare('SELECT inbox_id FROM api_token_inboxes ORDER BY inbox_id').all()).toEqual([
      { inbox_id: 'verkauf' },
      { inbox_id: 'werkstatt' },
    ]);
    // Refused tokens were not created.
    expect(db.prepare('SELECT name FROM api_tokens').all()).toEqual([{ name: 'crm' }]);
    expect(db.prepare("SELECT actor FROM audit_log WHERE action = 'user.inboxes'").all().length).toBe(2);
  } finally {
    db.close();
  }
}, 120_000);
