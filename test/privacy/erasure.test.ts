import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/privacy/audit/audit-log.ts';
import { ConsentService, noticeVersion } from '../../src/core/privacy/consent/consent.service.ts';
import { ErasureService } from '../../src/core/privacy/erasure/erasure.service.ts';
import { openField } from '../../src/core/privacy/keys/field-cipher.ts';
import type { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { ContactRow, MediaRow, MessageRow } from '../../src/store/database.ts';
import { AuditStore } from '../../src/store/sql/audit.store.ts';
import { ConsentStore } from '../../src/store/sql/consent.store.ts';
import { ErasureStore } from '../../src/store/sql/erasure.store.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { addConversation, addInbox, directoryFor, keyServiceFor } from './fixtures.ts';

interface MainDump {
  contacts: ContactRow[];
  messages: MessageRow[];
  media: MediaRow[];
}

/** A copy of the main database as a backup would hold it: the SQLite file itself, or every row on PostgreSQL. */
async function backupMain(t: TestStore): Promise<() => MainDump> {
  if (t.dialect === 'sqlite') {
    await t.store.scrub();
    const copy = path.join(t.dataDir, 'backup-before-erasure.db');
    copyFileSync(path.join(t.dataDir, 'sparsam.db'), copy);
    return () => {
      const db = new BetterSqlite3(copy, { readonly: true });
      try {
        return {
          contacts: db.prepare('select * from contacts').all() as ContactRow[],
          messages: db.prepare('select * from messages').all() as MessageRow[],
          media: db.prepare('select * from media').all() as MediaRow[],
        };
      } finally {
        db.close();
      }
    };
  }
  const dump: MainDump = {
    contacts: await t.store.db.selectFrom('contacts').selectAll().execute(),
    messages: await t.store.db.selectFrom('messages').selectAll().execute(),
    media: await t.store.db.selectFrom('media').selectAll().execute(),
  };
  return () => dump;
}

/** Tries to open every sealed column of the dump with the keys the current key store holds. */
async function recoverable(keys: KeyService, dump: MainDump, conversationId: string, contactId: string) {
  const opened: string[] = [];
  let failed = 0;
  const tryOpen = async (
    owner: 'conversation' | 'contact',
    id: string,
    sealed: Uint8Array | null,
    aad: { table: string; rowId: string; column: string },
  ) => {
    if (!sealed) return;
    const key = await keys.existingDataKey(owner, id);
    try {
      if (!key) throw new Error('no key');
      opened.push(openField(key, sealed, aad).toString('utf8'));
    } catch {
      failed++;
    }
  };
  for (const c of dump.contacts.filter((c) => c.id === contactId)) {
    await tryOpen('contact', c.id, c.address_enc, { table: 'contacts', rowId: c.id, column: 'address_enc' });
    await tryOpen('contact', c.id, c.profile_name_enc, { table: 'contacts', rowId: c.id, column: 'profile_name_enc' });
  }
  for (const m of dump.messages.filter((m) => m.conversation_id === conversationId)) {
    await tryOpen('conversation', conversationId, m.body_enc, { table: 'messages', rowId: m.id, column: 'body_enc' });
  }
  for (const m of dump.media.filter((m) => m.conversation_id === conversationId)) {
    await tryOpen('conversation', conversationId, m.data_enc, { table: 'media', rowId: m.id, column: 'data_enc' });
  }
  return { opened, failed };
}

describeEachStore('ErasureService', (dialect) => {
  let t: TestStore;
  let clock: ManualClock;
  const master = randomBytes(32);
  beforeEach(async () => {
    t = await openTestStore(dialect);
    clock = new ManualClock();
  });
  afterEach(async () => t.cleanup());

  function services() {
    const keys = keyServiceFor(t.store, clock, master);
    const directory = directoryFor(t.store, keys, clock);
    const audit = new AuditLog(new AuditStore(t.store.db), keys, clock);
    const port = new ErasureStore(t.store.db, () => t.store.scrub());
    const erasure = new ErasureService(port, keys, audit, clock);
    const consent = new ConsentService(new ConsentStore(t.store.db), keys, clock);
    return { keys, directory, audit, erasure, consent, port };
  }

  it('an earlier backup of the main database, with the current key store and master key, recovers nothing of an erased contact', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const s = services();
    const erased = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491701110001',
      profileName: 'Erika',
      texts: ['Mein Auto ist kaputt', 'Bitte zurückrufen'],
      withMedia: true,
    });
    const kept = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491702220002',
      profileName: 'Max',
      texts: ['Termin am Montag'],
      withMedia: true,
    });
    await s.consent.grant({
      contactId: erased.contactId,
      channelId,
      purpose: 'service',
      noticeVersion: noticeVersion('n'),
      method: 'button:yes',
    });
    const readBackup = await backupMain(t);

    const receipt = await s.erasure.eraseContact(erased.contactId, { actor: 'user:dpo1', reason: 'dsar' });
    expect(receipt).toMatchObject({
      label: 'Anfrage 1',
      alreadyErased: false,
      counts: { conversations: 1, messages: 2, media: 2, consentEvents: 1, contacts: 1, keysDestroyed: 2 },
    });

    // A fresh process: the key store and master key as they are now, the main database as it was before.
    const keysNow = keyServiceFor(t.store, new ManualClock(), master);
    const dump = readBackup();
    const gone = await recoverable(keysNow, dump, erased.conversation.id, erased.contactId);
    expect(gone.opened).toEqual([]);
    expect(gone.failed).toBe(6); // address, profile name, 2 bodies, 2 media
    const still = await recoverable(keysNow, dump, kept.conversation.id, kept.contactId);
    expect(still.failed).toBe(0);
    expect(still.opened).toEqual([
      '491702220002',
      'Max',
      JSON.stringify({ text: 'Termin am Montag' }),
      'IMG:Termin am Montag',
    ]);

    // Live database: no rows of the erased contact remain; the other is untouched.
    expect(await t.store.db.selectFrom('messages').select('conversation_id').execute()).toEqual([
      { conversation_id: kept.conversation.id },
    ]);
    expect(await t.store.db.selectFrom('consent_events').selectAll().execute()).toEqual([]);
    expect((await t.store.db.selectFrom('contacts').select('id').execute()).map((r) => r.id)).toEqual([kept.contactId]);
  });

  it('erasing a conversation shreds its key and rows, leaves a content-free receipt, and a repeat is a no-op saying so', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const s = services();
    const conv = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491703330003',
      texts: ['a', 'b', 'c'],
    });
    const first = await s.erasure.eraseConversation(conv.conversation.id, { actor: 'system', reason: 'retention' });
    expect(first).toMatchObject({
      alreadyErased: false,
      label: 'Anfrage 1',
      counts: { messages: 3, conversations: 1, keysDestroyed: 1 },
    });
    const again = await s.erasure.eraseConversation(conv.conversation.id, { actor: 'system', reason: 'retention' });
    expect(again).toMatchObject({
      alreadyErased: true,
      label: null,
      counts: { messages: 0, conversations: 0, keysDestroyed: 0 },
    });
    const entries = await s.audit.list({ targetId: conv.conversation.id });
    expect(entries.map((e) => [e.action, JSON.parse(e.details).alreadyErased])).toEqual([
      ['conversation.erased', true],
      ['conversation.erased', false],
    ]);
    expect(entries[1]!.details).not.toMatch(/491703330003/);
    // The contact (its pseudonym and consent) stays when only the conversation is erased.
    expect(await s.directory.address((await s.directory.findById(conv.contactId))!)).toBe('491703330003');
    expect(await s.audit.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('finishes an erasure interrupted between key destruction and row deletion when run again', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const s = services();
    const conv = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491704440004',
      texts: ['x'],
    });
    const crashing = new ErasureService(
      Object.assign(Object.create(s.port) as ErasureStore, {
        deleteConversation: async () => {
          throw new Error('simulated crash');
        },
      }),
      s.keys,
      s.audit,
      clock,
    );
    await expect(
      crashing.eraseConversation(conv.conversation.id, { actor: 'system', reason: 'retention' }),
    ).rejects.toThrow(/simulated crash/);
    expect(await s.keys.existingDataKey('conversation', conv.conversation.id)).toBeUndefined();
    expect(await t.store.db.selectFrom('messages').selectAll().execute()).toHaveLength(1);
    const done = await s.erasure.eraseConversation(conv.conversation.id, { actor: 'system', reason: 'retention' });
    expect(done).toMatchObject({ alreadyErased: false, counts: { messages: 1, keysDestroyed: 0 } });
    expect(await t.store.db.selectFrom('messages').selectAll().execute()).toHaveLength(0);
  });

  it('erases a batch in one go with one receipt each, in one unbroken audit chain', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const s = services();
    const a = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491706660006',
      texts: ['a', 'b'],
    });
    const b = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491706660007',
      texts: ['c'],
      withMedia: true,
    });
    const keep = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491706660008',
      texts: ['d'],
    });
    const receipts = await s.erasure.eraseConversations([a.conversation.id, b.conversation.id, 'gone'], {
      actor: 'system',
      reason: 'retention',
    });
    expect(
      receipts.map((r) => [r.label, r.alreadyErased, r.counts.messages, r.counts.media, r.counts.keysDestroyed]),
    ).toEqual([
      ['Anfrage 1', false, 2, 0, 1],
      ['Anfrage 2', false, 1, 1, 1],
      [null, true, 0, 0, 0],
    ]);
    expect(receipts.map((r) => r.auditSeq)).toEqual([1, 2, 3]);
    expect(
      (await t.store.db.selectFrom('messages').select('conversation_id').execute()).map((r) => r.conversation_id),
    ).toEqual([keep.conversation.id]);
    expect(await s.keys.existingDataKey('conversation', a.conversation.id)).toBeUndefined();
    expect(await s.keys.existingDataKey('conversation', keep.conversation.id)).toBeDefined();
    expect(await s.audit.verify()).toEqual({ ok: true, checked: 3 });
  });

  it('refuses a reason that is not a short code, changing nothing', async () => {
    const { inboxId, channelId } = await addInbox(t.store);
    const s = services();
    const conv = await addConversation(t.store, s.keys, s.directory, clock, {
      inboxId,
      channelId,
      phone: '491705550005',
      texts: ['x'],
    });
    await expect(
      s.erasure.eraseConversation(conv.conversation.id, { actor: 'system', reason: 'Kunde wollte es so' }),
    ).rejects.toThrow(/short code/);
    expect(await s.keys.existingDataKey('conversation', conv.conversation.id)).toBeDefined();
    expect(await t.store.db.selectFrom('messages').selectAll().execute()).toHaveLength(1);
  });
});
