import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openField, openFieldText, sealField } from '../../src/core/privacy/keys/field-cipher.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { loadOrCreateMasterKey } from '../../src/core/privacy/keys/master-key.ts';
import { LocalCacheSignals } from '../../src/shared/cache-signals.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';

const aad = { table: 'messages', rowId: 'm1', column: 'body_enc' };

describe('master key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sparsam-mk-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates <dataDir>/master.key with mode 0600 on first start and reads the same key afterwards', async () => {
    const first = await loadOrCreateMasterKey({ dataDir: dir });
    const file = path.join(dir, 'master.key');
    expect(first.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateMasterKey({ dataDir: dir })).toEqual(first);
  });

  it('takes SPARSAM_MASTER_KEY (base64) over the file and refuses a key of the wrong length', async () => {
    const key = randomBytes(32);
    expect(await loadOrCreateMasterKey({ dataDir: dir, masterKey: key.toString('base64') })).toEqual(key);
    expect(existsSync(path.join(dir, 'master.key'))).toBe(false);
    await expect(
      loadOrCreateMasterKey({ dataDir: dir, masterKey: randomBytes(16).toString('base64') }),
    ).rejects.toThrow(/SPARSAM_MASTER_KEY: must be 32 bytes in base64, got 16 bytes/);
    await expect(loadOrCreateMasterKey({ dataDir: dir, masterKey: 'not base64!' })).rejects.toThrow(/base64/);
  });

  it('refuses a key file readable by others, naming the fix', async () => {
    await loadOrCreateMasterKey({ dataDir: dir });
    chmodSync(path.join(dir, 'master.key'), 0o644);
    await expect(loadOrCreateMasterKey({ dataDir: dir })).rejects.toThrow(/chmod 600/);
  });
});

describe('field cipher', () => {
  const key = { id: 'k1', ownerType: 'conversation' as const, ownerId: 'c1', key: randomBytes(32) };

  it('round-trips text and bytes with a version byte and a fresh nonce each time', () => {
    const a = sealField(key, 'Hallo Welt', aad);
    const b = sealField(key, 'Hallo Welt', aad);
    expect(a[0]).toBe(1);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(openFieldText(key, a, aad)).toBe('Hallo Welt');
    const bytes = randomBytes(1000);
    expect(openField(key, sealField(key, bytes, aad), aad).equals(bytes)).toBe(true);
  });

  it('refuses a ciphertext moved to another row, column or table, opened with another key, or altered', () => {
    const sealed = sealField(key, 'secret', aad);
    expect(() => openField(key, sealed, { ...aad, rowId: 'm2' })).toThrow(/cannot be opened/);
    expect(() => openField(key, sealed, { ...aad, column: 'other' })).toThrow(/cannot be opened/);
    expect(() => openField(key, sealed, { ...aad, table: 'media' })).toThrow(/cannot be opened/);
    expect(() => openField({ ...key, id: 'k2' }, sealed, aad)).toThrow(/cannot be opened/);
    expect(() => openField({ ...key, key: randomBytes(32) }, sealed, aad)).toThrow(/cannot be opened/);
    const altered = Buffer.from(sealed);
    altered[20] = altered[20]! ^ 1;
    expect(() => openField(key, altered, aad)).toThrow(/cannot be opened/);
  });
});

describeEachStore('KeyService', (dialect) => {
  let t: TestStore;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await openTestStore(dialect);
  });
  afterEach(async () => t.cleanup());

  it('creates one data key per owner on first use, stores it only wrapped, and returns it again', async () => {
    const master = randomBytes(32);
    const keys = new KeyService(new KeyStore(t.store.keys), master, clock);
    const [a, b] = await Promise.all([keys.dataKeyFor('conversation', 'c1'), keys.dataKeyFor('conversation', 'c1')]);
    expect(a.id).toBe(b.id);
    const other = await keys.dataKeyFor('contact', 'c1');
    expect(other.id).not.toBe(a.id);
    const rows = await t.store.keys.selectFrom('data_keys').selectAll().execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(Buffer.from(row.wrapped).includes(a.key)).toBe(false);
    // A second service (another instance) with the same master key reads the same key.
    const again = new KeyService(new KeyStore(t.store.keys), master, clock);
    const sealed = sealField(a, 'Termin am Dienstag', aad);
    expect(openFieldText(await again.dataKeyFor('conversation', 'c1'), sealed, aad)).toBe('Termin am Dienstag');
    // The pepper and audit MAC key are stable across instances and differ from each other.
    await again.init();
    await keys.init();
    expect(again.pepper.equals(keys.pepper)).toBe(true);
    expect(keys.pepper.equals(keys.auditMacKey)).toBe(false);
  });

  it('dataKeysFor creates the missing keys of many owners in one key-store transaction, the same keys as dataKeyFor', async () => {
    const master = randomBytes(32);
    const port = new KeyStore(t.store.keys);
    const keys = new KeyService(port, master, clock);
    const other = new KeyService(new KeyStore(t.store.keys), master, clock);
    const existing = await keys.dataKeyFor('conversation', 'c1');
    const batchInserts = vi.spyOn(port, 'insertDataKeysIfAbsent');
    const singleInserts = vi.spyOn(port, 'insertDataKeyIfAbsent');
    // A single caller here and a batch on another instance ask for some of the same owners at the same time.
    const [batch, single, elsewhere] = await Promise.all([
      keys.dataKeysFor('conversation', ['c1', 'c2', 'c3', 'c2']),
      keys.dataKeyFor('conversation', 'c3'),
      other.dataKeysFor('conversation', ['c3', 'c4']),
    ]);
    expect([...batch.keys()].sort()).toEqual(['c1', 'c2', 'c3']);
    expect(batch.get('c1')!.id).toBe(existing.id);
    expect(single.id).toBe(batch.get('c3')!.id);
    expect(elsewhere.get('c3')!.key).toEqual(batch.get('c3')!.key);
    // One transaction for the batch's new keys (the single caller joined it), none per key; c3 is in it unless the
    // other instance stored it first.
    expect(batchInserts).toHaveBeenCalledTimes(1);
    const inserted = batchInserts.mock.calls[0]![0].map((r) => r.owner_id).sort();
    expect([['c2'], ['c2', 'c3']]).toContainEqual(inserted);
    expect(singleInserts).not.toHaveBeenCalled();
    const rows = await t.store.keys.selectFrom('data_keys').selectAll().execute();
    expect(rows.map((r) => r.owner_id).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    for (const row of rows) {
      for (const k of [...batch.values(), ...elsewhere.values()]) {
        expect(Buffer.from(row.wrapped).includes(k.key)).toBe(false);
      }
    }
    // A fresh instance reads the same keys; a destroyed key is not served from the batch's cache.
    const fresh = new KeyService(new KeyStore(t.store.keys), master, clock);
    expect((await fresh.dataKeyFor('conversation', 'c2')).key).toEqual(batch.get('c2')!.key);
    await keys.destroy('conversation', 'c2');
    expect((await keys.dataKeysFor('conversation', ['c2'])).get('c2')!.id).not.toBe(batch.get('c2')!.id);
  });

  it('refuses a wrong master key with a clear error', async () => {
    const keys = new KeyService(new KeyStore(t.store.keys), randomBytes(32), clock);
    await keys.dataKeyFor('conversation', 'c1');
    const wrong = new KeyService(new KeyStore(t.store.keys), randomBytes(32), clock);
    await expect(wrong.init()).rejects.toThrow(/master key does not match the key store/);
    await expect(wrong.dataKeyFor('conversation', 'c1')).rejects.toThrow(/master key does not match/);
    expect(await t.store.keys.selectFrom('data_keys').selectAll().execute()).toHaveLength(1);
  });

  it('destroy() makes sealed content unreadable, also for a fresh instance, and creates a new key on next use', async () => {
    const master = randomBytes(32);
    const keys = new KeyService(new KeyStore(t.store.keys), master, clock);
    const key = await keys.dataKeyFor('conversation', 'c1');
    const sealed = sealField(key, 'Rechnung 4711', aad);
    expect(await keys.destroy('conversation', 'c1')).toBe(1);
    expect(await keys.destroy('conversation', 'c1')).toBe(0);
    const fresh = new KeyService(new KeyStore(t.store.keys), master, clock);
    expect(await fresh.existingDataKey('conversation', 'c1')).toBeUndefined();
    const replacement = await keys.dataKeyFor('conversation', 'c1');
    expect(replacement.id).not.toBe(key.id);
    expect(() => openField(replacement, sealed, aad)).toThrow(/cannot be opened/);
  });

  it('a key destroyed by another process sharing the key store is forgotten on its signal, or after the cache TTL', async () => {
    const master = randomBytes(32);
    const signals = new LocalCacheSignals();
    const here = new KeyService(new KeyStore(t.store.keys), master, clock, { signals, cacheTtlMs: 60_000 });
    const elsewhere = new KeyService(new KeyStore(t.store.keys), master, clock);
    await here.dataKeyFor('conversation', 'c1');
    await here.dataKeyFor('conversation', 'c2');
    await elsewhere.destroy('conversation', 'c1');
    await elsewhere.destroy('conversation', 'c2');
    // Until told, `here` still holds both unwrapped keys in memory.
    expect(await here.existingDataKey('conversation', 'c1')).toBeDefined();
    signals.deliver({ type: 'keys.destroyed', ownerType: 'conversation', ownerIds: ['c1'] });
    expect(await here.existingDataKey('conversation', 'c1')).toBeUndefined();
    // No signal for c2 (a missed one): the bounded time to live ends it.
    expect(await here.existingDataKey('conversation', 'c2')).toBeDefined();
    clock.advance(60_000);
    expect(await here.existingDataKey('conversation', 'c2')).toBeUndefined();
    // A resync (the listening connection came back) drops everything cached.
    const c3 = await here.dataKeyFor('conversation', 'c3');
    await elsewhere.destroy('conversation', 'c3');
    signals.resync();
    expect(await here.existingDataKey('conversation', 'c3')).toBeUndefined();
    expect((await here.dataKeyFor('conversation', 'c3')).id).not.toBe(c3.id);
  });

  it('rotation re-wraps every key: content stays readable with the new master key, the old one is refused', async () => {
    const oldMaster = randomBytes(32);
    const newMaster = randomBytes(32);
    const keys = new KeyService(new KeyStore(t.store.keys), oldMaster, clock);
    const sealedByOwner = new Map<string, Uint8Array>();
    for (let i = 0; i < 5; i++) {
      const k = await keys.dataKeyFor('conversation', `c${i}`);
      sealedByOwner.set(`c${i}`, sealField(k, `Nachricht ${i}`, aad));
    }
    await keys.init();
    const pepper = Buffer.from(keys.pepper);
    const mac = Buffer.from(keys.auditMacKey);
    const before = await t.store.keys.selectFrom('data_keys').selectAll().orderBy('id').execute();
    expect(await keys.rotateMaster(newMaster)).toEqual({ rewrapped: 5 });
    const after = await t.store.keys.selectFrom('data_keys').selectAll().orderBy('id').execute();
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    after.forEach((r, i) => expect(Buffer.from(r.wrapped).equals(Buffer.from(before[i]!.wrapped))).toBe(false));

    const withNew = new KeyService(new KeyStore(t.store.keys), newMaster, clock);
    for (const [owner, sealed] of sealedByOwner) {
      const k = await withNew.dataKeyFor('conversation', owner);
      expect(openFieldText(k, sealed, aad)).toBe(`Nachricht ${owner.slice(1)}`);
    }
    await withNew.init();
    expect(withNew.pepper.equals(pepper)).toBe(true);
    expect(withNew.auditMacKey.equals(mac)).toBe(true);
    const withOld = new KeyService(new KeyStore(t.store.keys), oldMaster, clock);
    await expect(withOld.dataKeyFor('conversation', 'c0')).rejects.toThrow(/master key does not match/);
    await expect(keys.rotateMaster(newMaster)).rejects.toThrow(/same as the current/);
  });
});

describe('master key file content', () => {
  it('is base64 of 32 bytes on one line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-mk-'));
    try {
      await loadOrCreateMasterKey({ dataDir: dir });
      const text = readFileSync(path.join(dir, 'master.key'), 'utf8');
      expect(Buffer.from(text.trim(), 'base64')).toHaveLength(32);
      writeFileSync(path.join(dir, 'master.key'), 'short\n', { mode: 0o600 });
      await expect(loadOrCreateMasterKey({ dataDir: dir })).rejects.toThrow(/must be 32 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
