import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { MemoryEpochSecretStore } from '../../src/core/privacy/keys/epoch-secrets.ts';
import { KeyEpochService } from '../../src/core/privacy/keys/key-epoch.service.ts';
import { KeyService, META_EPOCH_RETIRED } from '../../src/core/privacy/keys/key.service.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addInbox } from './fixtures.ts';

/*
 * Key epochs between instances that each keep their own epoch secrets (as instances on several machines do, each
 * with its own epoch key file): the key store is the only thing they share.
 */
describeEachStore('key epochs', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  const master = randomBytes(32);
  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock(Date.UTC(2026, 11, 1, 9));
  });
  afterEach(() => t.cleanup());

  const instance = (epochs = new MemoryEpochSecretStore()) => {
    const keys = new KeyService(new KeyStore(t.store.keys), master, clock, { epochs });
    const directory = new ContactDirectory(new ContactStore(t.store.db), keys, clock, channelKindFacts);
    const service = new KeyEpochService(keys, clock, {
      graceMs: 0,
      epochMs: 24 * 3_600_000,
      repepper: () => directory.repepper(),
    });
    return { keys, directory, service, epochs };
  };

  it('an instance that has not seen the new epoch wraps no key under the old one, and follows it', async () => {
    const a = instance();
    await a.keys.init();
    // B starts with a copy of A's epoch key file, as a second machine would.
    const b = instance(a.epochs.read() ? cloneStore(a.epochs) : undefined);
    await b.keys.init();
    expect([a.keys.epoch, b.keys.epoch]).toEqual([1, 1]);

    await a.service.rotate();
    expect(a.keys.epoch).toBe(2);
    // No cache signal reaches B (separate processes on SQLite): its next new key is refused under epoch 1 and
    // wrapped again under epoch 2, which B learns from the key store's link.
    await b.keys.dataKeyFor('conversation', 'c-new');
    expect(b.keys.epoch).toBe(2);
    const row = await t.store.keys
      .selectFrom('data_keys')
      .select('kek_id')
      .where('owner_id', '=', 'c-new')
      .executeTakeFirstOrThrow();
    expect(row.kek_id).toBe('epoch:2');
    expect((await a.keys.existingDataKey('conversation', 'c-new'))?.key).toEqual(
      (await b.keys.dataKeyFor('conversation', 'c-new')).key,
    );
    // B's own epoch file now holds epoch 2 and no retired secret.
    expect(b.epochs.read()?.current.epoch).toBe(2);
    await b.keys.syncEpoch();
    expect(b.epochs.read()?.previous).toBeUndefined();
  });

  it('a batch of new keys from an instance that has not seen the new epoch is stored under the new one', async () => {
    const a = instance();
    await a.keys.init();
    const port = new KeyStore(t.store.keys);
    const b = new KeyService(port, master, clock, { epochs: cloneStore(a.epochs) });
    await b.init();
    await a.service.rotate();
    const mine = await a.keys.dataKeyFor('conversation', 'c-a');
    const inserts = vi.spyOn(port, 'insertDataKeysIfMeta');
    // B still wraps under epoch 1: the key store refuses the whole batch, B follows to epoch 2 and wraps again.
    const keys = await b.dataKeysFor('conversation', ['c-a', 'c-1', 'c-2']);
    expect(b.epoch).toBe(2);
    // A's key is read, not created. Two transactions for the others: the first (their keys wrapped under epoch 1)
    // refused as a whole, the second stores them under epoch 2.
    expect(inserts.mock.calls.map(([rows]) => rows.map((r) => r.kek_id).join())).toEqual([
      'epoch:1,epoch:1',
      'epoch:2,epoch:2',
    ]);
    expect(await inserts.mock.results[0]!.value).toBeUndefined();
    expect((await inserts.mock.results[1]!.value)?.size).toBe(2);
    expect(keys.get('c-a')!.key).toEqual(mine.key);
    const rows = await t.store.keys.selectFrom('data_keys').select(['owner_id', 'kek_id']).execute();
    expect(rows.map((r) => `${r.owner_id} ${r.kek_id}`).sort()).toEqual(['c-1 epoch:2', 'c-2 epoch:2', 'c-a epoch:2']);
    for (const id of ['c-1', 'c-2']) {
      expect((await a.keys.existingDataKey('conversation', id))?.key).toEqual(keys.get(id)!.key);
    }
  });

  it('two instances creating a batch of the same new keys at once get the same keys', async () => {
    const a = instance();
    await a.keys.init();
    const b = instance(cloneStore(a.epochs));
    await b.keys.init();
    const owners = Array.from({ length: 50 }, (_, i) => `c-${i}`);
    const [x, y] = await Promise.all([
      a.keys.dataKeysFor('conversation', owners),
      b.keys.dataKeysFor('conversation', [...owners].reverse()),
    ]);
    for (const id of owners) expect(x.get(id)!.key).toEqual(y.get(id)!.key);
    expect(await t.store.keys.selectFrom('data_keys').select('owner_id').execute()).toHaveLength(50);
  });

  it('contacts are found across the epoch, and an instance two epochs behind is refused with the fix', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const a = instance();
    await a.keys.init();
    const stale = cloneStore(a.epochs);
    const input = { inboxId, channelId, channelKind: 'whatsapp-cloud', address: '+49 170 1234567' };
    const first = await a.directory.findOrCreate(input);
    const before = first.contact.lookup_hash;
    await a.service.rotate();
    const again = await a.directory.findOrCreate({ ...input, address: '491701234567' });
    expect(again.created).toBe(false);
    expect(again.contact.id).toBe(first.contact.id);
    expect(again.contact.lookup_hash).not.toBe(before);

    await a.service.rotate();
    const behind = instance(stale);
    await expect(behind.keys.init()).rejects.toThrow(/copy the epoch key file from a running instance/);
  });

  it('an instance told that the epoch was retired while it still follows its beginning ends the transition too', async () => {
    const a = instance();
    await a.keys.init();
    // B's key store answers the read of the retired epoch only when let go, with what it read before.
    let hold: Promise<void> | undefined;
    let letGo = () => undefined as void;
    let reached = () => undefined as void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    class HeldKeyStore extends KeyStore {
      override async getMeta(key: string): Promise<string | undefined> {
        const value = await super.getMeta(key);
        if (key === META_EPOCH_RETIRED && hold) {
          reached();
          await hold;
        }
        return value;
      }
    }
    const keys = new KeyService(new HeldKeyStore(t.store.keys), master, clock, { epochs: cloneStore(a.epochs) });
    await keys.init();
    await a.keys.beginEpoch();
    hold = new Promise<void>((resolve) => (letGo = resolve));
    // The signal that epoch 2 began: B reads the key store (epoch 1 not yet retired) and is held there.
    const following = keys.syncEpoch();
    await held;
    await a.service.resume(); // A finishes the transition and retires epoch 1
    const retired = keys.syncEpoch(); // the signal that it did, while B is still held
    hold = undefined;
    letGo();
    await Promise.all([following, retired]);
    expect(a.keys.inTransition).toBe(false);
    expect(keys.epoch).toBe(2);
    expect(keys.inTransition).toBe(false);
    expect(keys.holdsEpoch(1)).toBe(false);
  });

  it('the epoch advances by itself once it is over, not before', async () => {
    const a = instance();
    await a.keys.init();
    expect(await a.service.tick()).toBeUndefined();
    clock.advance(23 * 3_600_000);
    expect(await a.service.tick()).toBeUndefined();
    clock.advance(2 * 3_600_000);
    expect((await a.service.tick())?.epoch).toBe(2);
    expect(a.keys.inTransition).toBe(false);
  });
});

function cloneStore(from: MemoryEpochSecretStore): MemoryEpochSecretStore {
  const copy = new MemoryEpochSecretStore();
  const state = from.read();
  if (state) copy.write(state);
  return copy;
}
