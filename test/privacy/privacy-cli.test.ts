import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { openFieldText, sealField } from '../../src/core/privacy/keys/field-cipher.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { loadOrCreateMasterKey } from '../../src/core/privacy/keys/master-key.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openStore } from '../../src/store/open-store.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { runCli as run } from '../support/cli.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const aad = { table: 'messages', rowId: 'm1', column: 'body_enc' };

/** A data dir with a few audit entries and one sealed value, made in-process as a running sparsam would. */
async function prepare() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-pcli-'));
  dirs.push(dataDir);
  const store = await openStore({ dataDir });
  const clock = new ManualClock();
  const keys = new KeyService(new KeyStore(store.keys), await loadOrCreateMasterKey({ dataDir }), clock);
  const audit = new AuditLog(new AuditStore(store.db), keys, clock);
  for (let i = 0; i < 4; i++)
    await audit.append({ actor: 'user:u1', action: 'conversation.viewed', targetId: `c${i}` });
  const sealed = sealField(await keys.dataKeyFor('conversation', 'c1'), 'Hallo', aad);
  await store.close();
  return { dataDir, sealed };
}

// Each case starts the CLI several times (tsx start-up is seconds on a loaded machine): allow 120 s per case.
describe('sparsam audit verify / keys rotate', { timeout: 120_000 }, () => {
  it('prints the checked count, and after an edited row names the broken seq and exits 1', async () => {
    const { dataDir } = await prepare();
    const ok = await run(['audit', 'verify'], { SPARSAM_DATA_DIR: dataDir });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('audit log intact: 4 entries checked');
    expect(ok.code).toBe(0);

    const db = new BetterSqlite3(path.join(dataDir, 'sparsam.db'));
    db.prepare("update audit_log set target_id = 'c9' where seq = 3").run();
    db.close();
    const broken = await run(['audit', 'verify'], { SPARSAM_DATA_DIR: dataDir });
    expect(broken.stdout).toMatch(/audit log BROKEN at seq 3: the entry was altered/);
    expect(broken.code).toBe(1);
  });

  it('rotates the master key into the key file: content opens with the new key, not with the old', async () => {
    const { dataDir, sealed } = await prepare();
    const keyFile = path.join(dataDir, 'master.key');
    const before = readFileSync(keyFile, 'utf8');
    const help = await run(['keys', 'rotate', '--help'], { SPARSAM_DATA_DIR: dataDir });
    expect(help.stdout).toMatch(/generated into <dataDir>\/master.key/);
    expect(help.stdout).toMatch(/--stdin/);
    expect(help.stdout).toMatch(/--master/);

    const rotated = await run(['keys', 'rotate', '--master'], { SPARSAM_DATA_DIR: dataDir });
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toContain('re-wrapped 1 data keys');
    expect(rotated.code).toBe(0);
    const after = readFileSync(keyFile, 'utf8');
    expect(after).not.toBe(before);

    const store = await openStore({ dataDir });
    try {
      const clock = new ManualClock();
      const withNew = new KeyService(new KeyStore(store.keys), Buffer.from(after.trim(), 'base64'), clock);
      expect(openFieldText(await withNew.dataKeyFor('conversation', 'c1'), sealed, aad)).toBe('Hallo');
      const withOld = new KeyService(new KeyStore(store.keys), Buffer.from(before.trim(), 'base64'), clock);
      await expect(withOld.init()).rejects.toThrow(/master key does not match/);
      // The rotation is in the audit log and the chain is intact.
      expect(
        (await new AuditLog(new AuditStore(store.db), withNew, clock).list({ action: 'keys.rotated' })).length,
      ).toBe(1);
    } finally {
      await store.close();
    }
    const verify = await run(['audit', 'verify'], { SPARSAM_DATA_DIR: dataDir });
    expect(verify.stdout).toContain('5 entries checked');
  });

  it('with SPARSAM_MASTER_KEY set, takes the new key from stdin only, and refuses a wrong current key', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-pcli-'));
    dirs.push(dataDir);
    const current = Buffer.alloc(32, 7).toString('base64');
    const next = Buffer.alloc(32, 9).toString('base64');
    const env = { SPARSAM_DATA_DIR: dataDir, SPARSAM_MASTER_KEY: current };
    expect((await run(['audit', 'verify'], env)).code).toBe(0);
    const refused = await run(['keys', 'rotate', '--master'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/SPARSAM_MASTER_KEY is set: give the new key on standard input with --stdin/);
    const rotated = await run(['keys', 'rotate', '--master', '--stdin'], env, `${next}\n`);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/set SPARSAM_MASTER_KEY/);
    const old = await run(['audit', 'verify'], env);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/master key does not match the key store/);
    expect((await run(['audit', 'verify'], { ...env, SPARSAM_MASTER_KEY: next })).code).toBe(0);
  });
});
