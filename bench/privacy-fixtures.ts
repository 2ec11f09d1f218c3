/**
 * Shared set-up of the privacy benchmarks: a SQLite (or PostgreSQL) store with one inbox, the privacy services, and a
 * fast bulk loader of contacts, conversations and messages sealed exactly as the inbox core seals them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../src/core/privacy/audit/audit-log.ts';
import { ErasureService } from '../src/core/privacy/erasure/erasure.service.ts';
import { sealField } from '../src/core/privacy/keys/field-cipher.ts';
import { KeyService } from '../src/core/privacy/keys/key.service.ts';
import { channelKindFacts } from '../src/channels/registry.ts';
import { ContactDirectory } from '../src/core/privacy/pseudonym/contact-directory.ts';
import { RetentionSweeper } from '../src/core/privacy/retention/retention-sweeper.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { newId, newMessageId } from '../src/shared/ids.ts';
import type { ConversationState, MessageRow } from '../src/store/database.ts';
import { openStore } from '../src/store/open-store.ts';
import { AuditStore } from '../src/store/sql/audit.store.ts';
import { ContactStore } from '../src/store/sql/contact.store.ts';
import { ErasureStore } from '../src/store/sql/erasure.store.ts';
import { KeyStore } from '../src/store/sql/key.store.ts';
import { RetentionStore } from '../src/store/sql/retention.store.ts';
import type { Store } from '../src/store/store.ts';
import { createPgDatabase } from '../test/support/stores.ts';

export async function privacyWorld(dialect: string, retention: Record<string, number>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sparsam-bench-'));
  const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const store: Store = await openStore({ dataDir, databaseUrl: pg?.url, keystoreUrl: pg?.url });
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  for (const id of ['service', 'baseline']) {
    await store.db
      .insertInto('inboxes')
      .values({
        id,
        label_prefix: 'Anfrage',
        language: 'de',
        next_seq: 1,
        settings: JSON.stringify({ retention }),
        created_at: 0,
        updated_at: 0,
      })
      .execute();
    await store.db
      .insertInto('channels')
      .values({
        id: `wa-${id}`,
        kind: 'whatsapp-cloud',
        inbox_id: id,
        enabled: 1,
        settings: '{}',
        secrets_enc: null,
        source: 'config',
        created_at: 0,
        updated_at: 0,
      })
      .execute();
  }
  const keys = new KeyService(new KeyStore(store.keys), randomBytes(32), clock);
  await keys.init();
  const directory = new ContactDirectory(new ContactStore(store.db), keys, clock, channelKindFacts);
  const audit = new AuditLog(new AuditStore(store.db), keys, clock);
  const erasure = new ErasureService(new ErasureStore(store.db, () => store.scrub()), keys, audit, clock);
  const sweeper = new RetentionSweeper(new RetentionStore(store.db), erasure, audit, clock, { batchSize: 200 });
  let phone = 491700000000;

  /** One contact with one conversation of `messages` sealed messages; returns the ids. */
  async function addConversation(inboxId: string, messages: number, state: ConversationState, at: number) {
    const { contact } = await directory.findOrCreate({
      inboxId,
      channelId: `wa-${inboxId}`,
      channelKind: 'whatsapp-cloud',
      address: String(phone++),
    });
    const conversationId = newId();
    await store.db
      .insertInto('conversations')
      .values({
        id: conversationId,
        inbox_id: inboxId,
        channel_id: `wa-${inboxId}`,
        contact_id: contact.id,
        label_seq: contact.label_seq,
        state,
        assignee_id: null,
        labels: '[]',
        unread: 0,
        created_at: at,
        last_activity_at: at,
        last_inbound_at: at,
        consent_requested_at: null,
        closed_at: state === 'closed' ? at : null,
        erase_at: state === 'closed' ? at : null,
        notice_version: null,
      })
      .execute();
    const key = await keys.dataKeyFor('conversation', conversationId);
    const CHUNK = 500;
    for (let i = 0; i < messages; i += CHUNK) {
      const rows: MessageRow[] = [];
      for (let j = i; j < Math.min(messages, i + CHUNK); j++) {
        const id = newMessageId();
        rows.push({
          id,
          conversation_id: conversationId,
          channel_id: `wa-${inboxId}`,
          direction: j % 2 ? 'out' : 'in',
          kind: 'text',
          // As stored: a keyed hash of the provider's id ("r1:" + 32 characters), random to the index.
          provider_message_id: `r1:${randomBytes(24).toString('base64url')}`,
          status: 'received',
          body_enc: sealField(key, JSON.stringify({ text: `Nachricht ${j}: Ihr Termin ist am Dienstag um 10 Uhr.` }), {
            table: 'messages',
            rowId: id,
            column: 'body_enc',
          }),
          media_id: null,
          author_id: null,
          error_code: null,
          error_reason: null,
          edited: 0,
          deleted: 0,
          handled: 1,
          created_at: at + j,
          updated_at: at + j,
        });
      }
      await store.db.transaction().execute((tx) => tx.insertInto('messages').values(rows).execute());
    }
    return { conversationId, contactId: contact.id };
  }

  return {
    store,
    clock,
    keys,
    directory,
    audit,
    erasure,
    sweeper,
    addConversation,
    async close() {
      await store.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
