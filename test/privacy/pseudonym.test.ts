import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { ContactDirectory, formatLabel, normalizeAddress } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import type { ContactRecord, ConversationRecord, ConversationState } from '../../src/core/ports/model.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';
import { conversationRow } from '../../src/store/sql/records.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addInbox, directoryFor, keyServiceFor } from './fixtures.ts';

describe('labels and addresses', () => {
  it('formats the label staff see', () => {
    expect(formatLabel('Anfrage', 42)).toBe('Anfrage 42');
    expect(formatLabel('Request', 7)).toBe('Request 7');
  });
  it('treats the spellings of one phone number alike, but not other kinds of address', () => {
    const phone = (kind: string) => channelKindFacts(kind)?.addressIsPhoneNumber ?? false;
    expect(normalizeAddress('+49 170 123-4567', phone('whatsapp-cloud'))).toBe('491701234567');
    expect(normalizeAddress(' 12345 ', phone('telegram'))).toBe('12345');
  });
});

describeEachStore('ContactDirectory', (dialect) => {
  let t: TestStore;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await openTestStore(dialect);
  });
  afterEach(async () => t.cleanup());

  it('finds a contact by its address only through the keyed hash; the address is stored sealed', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const first = await directory.findOrCreate({
      inboxId,
      channelId,
      channelKind: 'whatsapp-cloud',
      address: '491701234567',
      profileName: 'Erika Mustermann',
    });
    expect(first.created).toBe(true);
    expect(first.contact.lookup_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(first.contact.address_enc).includes(Buffer.from('491701234567'))).toBe(false);
    const again = await directory.findOrCreate({
      inboxId,
      channelId,
      channelKind: 'whatsapp-cloud',
      address: '+49 170 1234567',
    });
    expect(again).toMatchObject({ created: false, contact: { id: first.contact.id } });
    expect(await directory.address(again.contact)).toBe('491701234567');
    expect(await directory.profileName(again.contact)).toBe('Erika Mustermann');
    expect((await directory.findByAddress(channelId, 'whatsapp-cloud', '491701234567'))?.id).toBe(first.contact.id);
    expect(await directory.findByAddress(channelId, 'whatsapp-cloud', '491709999999')).toBeUndefined();
    // The same number on another channel kind is another pseudonym.
    expect(await directory.lookupHash('sms', '491701234567')).not.toBe(first.contact.lookup_hash);
  });

  it("keeps the customer's current profile name as it changes and changes back, opening it only when needed", async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const input = (profileName: string) => ({
      inboxId,
      channelId,
      channelKind: 'whatsapp-cloud',
      address: '491701112233',
      profileName,
    });
    const stored = async () => {
      const [found] = await directory.findOrCreateMany([{ ...input('x'), profileName: undefined }]);
      return {
        sealed: Buffer.from(found!.contact.profile_name_enc!),
        name: await directory.profileName(found!.contact),
      };
    };
    await directory.findOrCreateMany([input('Erika')]);
    const first = await stored();
    expect(first.name).toBe('Erika');
    // The same name again, webhook after webhook: nothing is written, and after the first check nothing is opened.
    const opened = vi.spyOn(directory, 'profileName');
    for (let i = 0; i < 3; i++) await directory.findOrCreateMany([input('Erika')]);
    expect(opened).toHaveBeenCalledTimes(1);
    opened.mockRestore();
    expect((await stored()).sealed.equals(first.sealed)).toBe(true);
    // A new name is stored (sealed anew), and so is the old one when the customer goes back to it.
    for (const name of ['Erika M.', 'Erika M.', 'Erika', 'Erika M.']) {
      await directory.findOrCreateMany([input(name)]);
      expect((await stored()).name).toBe(name);
    }
  });

  it('numbers contacts per inbox, once each, also when the same new address arrives twice at once', async () => {
    const de = await addInbox(t.store, { id: 'service', language: 'de' });
    const en = await addInbox(t.store, { id: 'support', language: 'en' });
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const same = { inboxId: de.inboxId, channelId: de.channelId, channelKind: 'whatsapp-cloud', address: '4915111' };
    const raced = await Promise.all([directory.findOrCreate(same), directory.findOrCreate(same)]);
    expect(new Set(raced.map((r) => r.contact.id)).size).toBe(1);
    const many = await Promise.all(
      Array.from({ length: 8 }, (_, i) => directory.findOrCreate({ ...same, address: `49151${100 + i}` })),
    );
    const seqs = [raced[0]!.contact.label_seq, ...many.map((m) => m.contact.label_seq)].sort((a, b) => a - b);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const english = await directory.findOrCreate({
      inboxId: en.inboxId,
      channelId: en.channelId,
      channelKind: 'whatsapp-cloud',
      address: '4915111',
    });
    expect(english.contact.label_seq).toBe(1);
    expect(await directory.label(english.contact)).toBe('Request 1');
    expect(await directory.label(raced[0]!.contact)).toBe('Anfrage 1');
    expect(await directory.nextLabelSeq(de.inboxId)).toBe(10);
    // Only one contact key exists for the raced address; the loser's key was destroyed.
    const contactKeys = await t.store.keys
      .selectFrom('data_keys')
      .selectAll()
      .where('owner_type', '=', 'contact')
      .execute();
    expect(contactKeys).toHaveLength(10);
  });

  it('creates the new contacts of a group together, and one by one when another request created one first', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const base = { inboxId, channelId, channelKind: 'whatsapp-cloud' };
    const known = await directory.findOrCreate({ ...base, address: '4916000' });
    const group = ['4916001', '4916000', '4916002', '4916003'].map((address) => ({ ...base, address }));
    const found = await directory.findOrCreateMany(group);
    expect(found.map((f) => f.created)).toEqual([true, false, true, true]);
    expect(found[1]!.contact.id).toBe(known.contact.id);
    expect(found.map((f) => f.contact.label_seq)).toEqual([2, 1, 3, 4]);
    for (const [i, f] of found.entries()) expect(await directory.address(f.contact)).toBe(group[i]!.address);

    // Another request creates 4916005 between the group's lookup and its insert: nothing of the batch is kept, each
    // contact is then created (or found) alone, no label number is used twice and no key is left over.
    const dataKeysFor = keys.dataKeysFor.bind(keys);
    let alone: Awaited<ReturnType<typeof directory.findOrCreate>> | undefined;
    keys.dataKeysFor = async (ownerType, ids) => {
      alone ??= await directory.findOrCreate({ ...base, address: '4916005' });
      return dataKeysFor(ownerType, ids);
    };
    const batch = await directory.findOrCreateMany(
      ['4916004', '4916005', '4916006'].map((address) => ({ ...base, address })),
    );
    expect(batch.map((f) => f.created)).toEqual([true, false, true]);
    expect(batch[1]!.contact.id).toBe(alone!.contact.id);
    const contacts = await t.store.db.selectFrom('contacts').select(['id', 'label_seq']).execute();
    expect(contacts).toHaveLength(7);
    expect(new Set(contacts.map((c) => c.label_seq)).size).toBe(7);
    const contactKeys = await t.store.keys
      .selectFrom('data_keys')
      .select('owner_id')
      .where('owner_type', '=', 'contact')
      .execute();
    expect(contactKeys.map((k) => k.owner_id).sort()).toEqual(contacts.map((c) => c.id).sort());
  });

  it('reads a group ahead without creating anyone, and then creates only the contacts asked for', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const store = new ContactStore(t.store.db);
    const directory = new ContactDirectory(store, keys, clock, channelKindFacts);
    const base = { inboxId, channelId, channelKind: 'whatsapp-cloud' };
    const known = (await directory.findOrCreate({ ...base, address: '4918000' })).contact;
    const reads = vi.spyOn(store, 'findByLookupsWithCurrent');
    const group = ['4918000', '4918001', '4918002'].map((address) => ({ ...base, address }));

    const earlier = await directory.readMany(group);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await t.store.db.selectFrom('contacts').select('id').execute()).toHaveLength(1);

    // Only two of the three are kept (the third was a redelivery): no second read, one contact created.
    const found = await directory.findOrCreateMany(group.slice(0, 2), earlier);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(found.map((f) => f.created)).toEqual([false, true]);
    expect(found[0]!.contact.id).toBe(known.id);
    expect(await directory.address(found[1]!.contact)).toBe('4918001');
    expect(await t.store.db.selectFrom('contacts').select('id').execute()).toHaveLength(2);

    // An address the earlier read did not cover is read then.
    const more = await directory.findOrCreateMany([{ ...base, address: '4918003' }], earlier);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(more[0]!.created).toBe(true);
  });

  it("finds a group's known contacts together with their current conversation, and none for new or closed ones", async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const base = { inboxId, channelId, channelKind: 'whatsapp-cloud' };
    const open = (await directory.findOrCreate({ ...base, address: '4917000' })).contact;
    const closed = (await directory.findOrCreate({ ...base, address: '4917001' })).contact;
    const conversation = (contact: ContactRecord, id: string, state: ConversationState): ConversationRecord => ({
      id,
      inbox_id: inboxId,
      channel_id: channelId,
      contact_id: contact.id,
      label_seq: contact.label_seq,
      state,
      assignee_id: null,
      labels: [],
      unread: 0,
      created_at: 1,
      last_activity_at: 1,
      last_inbound_at: null,
      consent_requested_at: null,
      closed_at: state === 'closed' ? 2 : null,
      erase_at: null,
      notice_version: null,
    });
    const current = conversation(open, newId(), 'open');
    await t.store.db
      .insertInto('conversations')
      .values(
        [current, conversation(open, newId(), 'closed'), conversation(closed, newId(), 'closed')].map(conversationRow),
      )
      .execute();

    const found = await directory.findOrCreateMany(
      ['4917000', '4917001', '4917002'].map((address) => ({ ...base, address })),
    );
    expect(found.map((f) => f.created)).toEqual([false, false, true]);
    expect(found[0]!.current).toMatchObject({ id: current.id, state: 'open', contact_id: open.id, labels: [] });
    expect(found[1]!.current).toBeNull();
    expect(found[2]!.current).toBeNull();
  });

  it('updates the address and refuses an address another contact already has', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    const base = { inboxId, channelId, channelKind: 'whatsapp-cloud' };
    const a = await directory.findOrCreate({ ...base, address: '4917011' });
    await directory.findOrCreate({ ...base, address: '4917022' });
    const moved = await directory.updateAddress(a.contact, '4917033');
    expect(await directory.address(moved)).toBe('4917033');
    expect((await directory.findByAddress(channelId, 'whatsapp-cloud', '4917033'))?.id).toBe(a.contact.id);
    expect(await directory.findByAddress(channelId, 'whatsapp-cloud', '4917011')).toBeUndefined();
    await expect(directory.updateAddress(moved, '4917022')).rejects.toThrow(/already has that address/);
  });

  it('refuses a contact for an inbox that does not exist and leaves nothing behind', async () => {
    await addInbox(t.store);
    const keys = keyServiceFor(t.store, clock);
    const directory = directoryFor(t.store, keys, clock);
    await expect(
      directory.findOrCreate({
        inboxId: 'nope',
        channelId: 'wa-service',
        channelKind: 'whatsapp-cloud',
        address: '49' + '1'.repeat(9),
      }),
    ).rejects.toThrow(/inbox nope does not exist/);
    expect(await t.store.db.selectFrom('contacts').selectAll().execute()).toHaveLength(0);
    expect(await t.store.keys.selectFrom('data_keys').selectAll().execute()).toHaveLength(0);
  });
});
