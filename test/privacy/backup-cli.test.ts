import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { ErasureService } from '../../src/core/privacy/erasure/erasure.service.ts';
import { FileEpochSecretStore } from '../../src/core/privacy/keys/epoch-secrets.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { ErasureStore } from '../../src/store/sql/erasure.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addConversation, addInbox } from './fixtures.ts';
import { runCli as run } from '../support/cli.ts';

describeEachStore('sparsam backup create / verify-erasure', (dialect) => {
  let t: TestStore;
  let out: string;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    out = mkdtempSync(path.join(tmpdir(), 'sparsam-backup-'));
  });
  afterEach(async () => {
    await t.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it(
    'snapshots the main database without key material, and proves after the next epoch that an erasure reached it',
    { timeout: 120_000 },
    async () => {
      const master = randomBytes(32);
      const env = { ...t.env, SPARSAM_MASTER_KEY: master.toString('base64') };
      const clock = new ManualClock(Date.UTC(2026, 11, 1, 9));
      const keys = new KeyService(new KeyStore(t.store.keys), master, clock, {
        epochs: new FileEpochSecretStore(path.join(t.dataDir, 'epoch.key'), master),
      });
      await keys.init();
      const directory = new ContactDirectory(new ContactStore(t.store.db), keys, clock, channelKindFacts);
      const { inboxId, channelId } = await addInbox(t.store);
      const erased = await addConversation(t.store, keys, directory, clock, {
        inboxId,
        channelId,
        phone: '+49 151 23456789',
        texts: ['bitte löschen'],
      });
      await addConversation(t.store, keys, directory, clock, {
        inboxId,
        channelId,
        phone: '+49 160 98765432',
        texts: ['bleibt'],
      });

      const created = await run(['backup', 'create', '--out', out], env);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/holds no key material/);
      expect(created.stdout).toMatch(/within one key epoch/);
      if (dialect === 'sqlite') {
        const copy = new BetterSqlite3(path.join(out, 'sparsam.db'), { readonly: true });
        const tables = copy.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
        copy.close();
        expect(tables.map((r) => r.name)).toContain('contacts');
        expect(tables.map((r) => r.name)).not.toContain('data_keys');
      } else {
        const dump = readFileSync(path.join(out, 'sparsam.sql'), 'utf8');
        expect(dump).toMatch(/COPY public\.contacts/);
        expect(dump).not.toMatch(/sparsam_keys|data_keys/);
      }
      expect(existsSync(path.join(out, 'epoch.key'))).toBe(false);

      const audit = new AuditLog(new AuditStore(t.store.db), keys, clock);
      const erasure = new ErasureService(new ErasureStore(t.store.db, () => t.store.scrub()), keys, audit, clock);
      await erasure.eraseContact(erased.contactId, { actor: 'system', reason: 'dsar' });

      // Within the epoch of the erasure the backup's lookup hash is still under a live pepper.
      const within = await run(['backup', 'verify-erasure', out, '--json'], env);
      expect(within.stderr).toBe('');
      const before = JSON.parse(within.stdout) as Record<string, number>;
      expect(before).toMatchObject({ erased: 2, erasedButOpenable: 0, erasedButReidentifiable: 1, live: 2 });
      expect(within.code).toBe(1);

      const rotated = await run(['keys', 'rotate'], env);
      expect(rotated.stderr).toBe('');
      expect(rotated.code).toBe(0);

      const after = await run(['backup', 'verify-erasure', out, '--json'], env);
      expect(after.stderr).toBe('');
      expect(JSON.parse(after.stdout)).toMatchObject({
        erased: 2,
        erasedButOpenable: 0,
        erasedButReidentifiable: 0,
        live: 2,
        copyPepperLive: false,
      });
      expect(after.code).toBe(0);
    },
  );
});
