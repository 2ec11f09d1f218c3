import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { ErasureService } from '../../src/core/privacy/erasure/erasure.service.ts';
import { openFieldText } from '../../src/core/privacy/keys/field-cipher.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { DataKeyRow } from '../../src/store/database.ts';
import { openStore } from '../../src/store/open-store.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { ErasureStore } from '../../src/store/sql/erasure.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { createPgDatabase, describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addConversation, addInbox } from './fixtures.ts';

/*
 * "Erasure reaches every copy": physical copies of the databases are taken BEFORE an erasure (SQLite: the .db and
 * -wal files of the main database and of the key store; PostgreSQL: a pg_dump of the database, key-store schema
 * included, standing for any heap file, pg_wal segment, WAL archive or base backup), then the person is erased and
 * the next key epoch runs. The attacker holds those copies and every secret that exists afterwards (master key,
 * today's key store, today's epoch file) and uses sparsam's own code: the count of erased keys opened and erased
 * lookup hashes matched must be 0, and the live conversation must stay readable.
 */

const ERASED_PHONE = '+49 151 23456789';
const LIVE_PHONE = '+49 160 98765432';

// Key epochs, loaded so that the attack also runs (and fails) on a sparsam without them.
const epochModule = await import('../../src/core/privacy/keys/epoch-secrets.ts').catch(() => undefined);
const epochServiceModule = await import('../../src/core/privacy/keys/key-epoch.service.ts').catch(() => undefined);

interface Copy {
  dataKeys: DataKeyRow[];
  lookupHashes: { id: string; hash: string }[];
  /** Opens the copied key store with sparsam's KeyService (SQLite: the copied files; PostgreSQL: the dump restored). */
  openKeyStore(): Promise<{ keys: KeyStore; close(): Promise<void> }>;
  cleanup(): Promise<void>;
}

async function takeCopy(t: TestStore): Promise<Copy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-copy-'));
  if (t.dialect === 'sqlite') {
    for (const name of ['sparsam.db', 'sparsam.db-wal', 'keys.db', 'keys.db-wal']) {
      const from = path.join(t.dataDir, name);
      if (existsSync(from)) copyFileSync(from, path.join(dir, name));
    }
    // Read copies of the copies, so that opening them (which applies the WAL) leaves the copy as taken.
    const read = mkdtempSync(path.join(tmpdir(), 'sparsam-copy-read-'));
    for (const name of ['sparsam.db', 'sparsam.db-wal', 'keys.db', 'keys.db-wal']) {
      if (existsSync(path.join(dir, name))) copyFileSync(path.join(dir, name), path.join(read, name));
    }
    const keysDb = new BetterSqlite3(path.join(read, 'keys.db'));
    const mainDb = new BetterSqlite3(path.join(read, 'sparsam.db'));
    const dataKeys = keysDb.prepare('SELECT * FROM data_keys').all() as DataKeyRow[];
    const lookupHashes = (
      mainDb.prepare('SELECT id, lookup_hash FROM contacts').all() as { id: string; lookup_hash: string }[]
    ).map((r) => ({ id: r.id, hash: r.lookup_hash }));
    keysDb.close();
    mainDb.close();
    rmSync(read, { recursive: true, force: true });
    return {
      dataKeys,
      lookupHashes,
      async openKeyStore() {
        const attackDir = mkdtempSync(path.join(tmpdir(), 'sparsam-attack-'));
        for (const name of ['sparsam.db', 'sparsam.db-wal', 'keys.db', 'keys.db-wal']) {
          if (existsSync(path.join(dir, name))) copyFileSync(path.join(dir, name), path.join(attackDir, name));
        }
        const store = await openStore({ dataDir: attackDir });
        return {
          keys: new KeyStore(store.keys),
          async close() {
            await store.close();
            rmSync(attackDir, { recursive: true, force: true });
          },
        };
      },
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // PostgreSQL: a pg_dump of the database (main tables and the key-store schema), restored into a fresh database.
  const dump = path.join(dir, 'dump.sql');
  execFileSync('pg_dump', [
    '--no-owner',
    '--no-privileges',
    `--file=${dump}`,
    `--dbname=${t.env.SPARSAM_DATABASE_URL}`,
  ]);
  const restored = await createPgDatabase();
  execFileSync('psql', ['--quiet', '--set=ON_ERROR_STOP=1', `--dbname=${restored.url}`, `--file=${dump}`], {
    stdio: 'ignore',
  });
  const client = new pg.Client({ connectionString: restored.url });
  await client.connect();
  const dataKeys = (await client.query('SELECT * FROM sparsam_keys.data_keys')).rows.map((r) => ({
    ...r,
    created_at: Number(r.created_at),
  })) as DataKeyRow[];
  const lookupHashes = (await client.query('SELECT id, lookup_hash FROM contacts')).rows.map((r) => ({
    id: r.id as string,
    hash: r.lookup_hash as string,
  }));
  await client.end();
  return {
    dataKeys,
    lookupHashes,
    async openKeyStore() {
      const attackDir = mkdtempSync(path.join(tmpdir(), 'sparsam-attack-'));
      const store = await openStore({ dataDir: attackDir, databaseUrl: restored.url, keystoreUrl: restored.url });
      return {
        keys: new KeyStore(store.keys),
        async close() {
          await store.close();
          rmSync(attackDir, { recursive: true, force: true });
        },
      };
    },
    async cleanup() {
      await restored.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeEachStore('erasure reaches every copy', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  let master: Buffer;
  let epochFile: string;
  let copies: Copy[];

  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock(Date.UTC(2026, 11, 1, 9));
    master = randomBytes(32);
    epochFile = path.join(t.dataDir, 'epoch.key');
    copies = [];
  });
  afterEach(async () => {
    for (const c of copies) await c.cleanup();
    await t.cleanup();
  });

  /** Today's KeyService, as `sparsam start` builds it (with key epochs when this sparsam has them). */
  function todaysKeys(port: KeyStore = new KeyStore(t.store.keys)): KeyService {
    const epochs = epochModule ? new epochModule.FileEpochSecretStore(epochFile, master) : undefined;
    return new KeyService(port, master, clock, epochs ? { epochs } : {});
  }

  async function nextEpoch(keys: KeyService, directory: ContactDirectory): Promise<void> {
    if (!epochServiceModule) return; // No key epochs: nothing to start.
    const epochs = new epochServiceModule.KeyEpochService(keys, clock, {
      graceMs: 0,
      repepper: () => directory.repepper(),
    });
    await epochs.rotate();
  }

  /** The attack on the copied key store: every old wrapped key tried with today's secrets. */
  async function openedFromCopy(copy: Copy, keys: KeyService, owners: Set<string>): Promise<number> {
    const erasedRows = copy.dataKeys.filter((r) => owners.has(r.owner_id));
    expect(erasedRows.length).toBeGreaterThan(0);
    let opened = 0;
    // 1. Raw: each wrapped key with every key-encryption key today's secrets give.
    const raw = (keys as { canOpenWrapped?: (row: DataKeyRow) => boolean }).canOpenWrapped;
    if (raw) for (const row of erasedRows) if (raw.call(keys, row)) opened++;
    // 2. Through sparsam's KeyService over the copied key store, with today's master key and epoch file.
    const copied = await copy.openKeyStore();
    try {
      const service = todaysKeys(copied.keys);
      for (const row of erasedRows) {
        const key = await service
          .existingDataKey(row.owner_type as 'contact' | 'conversation', row.owner_id)
          .catch(() => undefined);
        if (key) opened++;
      }
    } finally {
      await copied.close();
    }
    return opened;
  }

  /** The attack on the copied lookup hashes: today's peppers applied to the erased person's number. */
  async function matchedFromCopy(copy: Copy, directory: ContactDirectory, contactId: string): Promise<number> {
    const old = copy.lookupHashes.find((h) => h.id === contactId);
    expect(old).toBeDefined();
    const withAll = (directory as { lookupHashes?: (k: string, a: string) => Promise<string[]> }).lookupHashes;
    const today = withAll
      ? await withAll.call(directory, 'whatsapp-cloud', ERASED_PHONE)
      : [await directory.lookupHash('whatsapp-cloud', ERASED_PHONE)];
    return today.filter((h) => h === old!.hash).length;
  }

  it('after an erasure and the next key epoch, no copy taken before opens or re-identifies the erased person', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = todaysKeys();
    await keys.init();
    const directory = new ContactDirectory(new ContactStore(t.store.db), keys, clock, channelKindFacts);
    const audit = new AuditLog(new AuditStore(t.store.db), keys, clock);
    const erasure = new ErasureService(new ErasureStore(t.store.db, () => t.store.scrub()), keys, audit, clock);
    const erased = await addConversation(t.store, keys, directory, clock, {
      inboxId,
      channelId,
      phone: ERASED_PHONE,
      texts: ['my IBAN is DE00 1234'],
      profileName: 'Erika',
    });
    const live = await addConversation(t.store, keys, directory, clock, {
      inboxId,
      channelId,
      phone: LIVE_PHONE,
      texts: ['still here'],
    });

    const copy = await takeCopy(t);
    copies.push(copy);
    await erasure.eraseContact(erased.contactId, { actor: 'system', reason: 'dsar' });
    const owners = new Set([erased.contactId, erased.conversation.id]);

    // Within the epoch of the erasure, the copy still opens (this is the attack the epoch defeats).
    expect(await openedFromCopy(copy, keys, owners)).toBeGreaterThan(0);

    await nextEpoch(keys, directory);

    const attack = {
      erasedKeysOpened: await openedFromCopy(copy, keys, owners),
      erasedLookupHashesMatched: await matchedFromCopy(copy, directory, erased.contactId),
    };
    expect(attack).toEqual({ erasedKeysOpened: 0, erasedLookupHashesMatched: 0 });

    // A fresh start with today's secrets reads the live conversation, finds its contact, and takes new ones.
    const restarted = todaysKeys();
    await restarted.init();
    const again = new ContactDirectory(new ContactStore(t.store.db), restarted, clock, channelKindFacts);
    const found = await again.findOrCreate({ inboxId, channelId, channelKind: 'whatsapp-cloud', address: LIVE_PHONE });
    expect(found.created).toBe(false);
    expect(found.contact.id).toBe(live.contactId);
    expect(await again.address(found.contact)).toBe(LIVE_PHONE);
    const message = await t.store.db
      .selectFrom('messages')
      .select(['id', 'body_enc'])
      .where('conversation_id', '=', live.conversation.id)
      .executeTakeFirstOrThrow();
    const conversationKey = await restarted.existingDataKey('conversation', live.conversation.id);
    expect(
      JSON.parse(
        openFieldText(conversationKey!, message.body_enc!, {
          table: 'messages',
          rowId: message.id,
          column: 'body_enc',
        }),
      ),
    ).toEqual({ text: 'still here' });
  });
});
