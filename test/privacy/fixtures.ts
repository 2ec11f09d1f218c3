import { randomBytes } from 'node:crypto';
import { sealField } from '../../src/core/privacy/keys/field-cipher.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';
import type { ConversationRow, ConversationState } from '../../src/store/database.ts';
import type { Store } from '../../src/store/store.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';

export interface RetentionSettings {
  consentTimeoutHours: number;
  autoCloseAfterDays: number;
  eraseAfterCloseDays: number;
  auditRetentionDays: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  consentTimeoutHours: 24,
  autoCloseAfterDays: 14,
  eraseAfterCloseDays: 0,
  auditRetentionDays: 365,
};

/** Inserts an inbox and a WhatsApp channel the way InboxStore mirrors them from the configuration. */
export async function addInbox(
  store: Store,
  opts: {
    id?: string;
    language?: 'de' | 'en';
    labelPrefix?: string;
    channelId?: string;
    retention?: Partial<RetentionSettings>;
  } = {},
): Promise<{ inboxId: string; channelId: string }> {
  const inboxId = opts.id ?? 'service';
  const channelId = opts.channelId ?? `wa-${inboxId}`;
  const language = opts.language ?? 'de';
  await store.db
    .insertInto('inboxes')
    .values({
      id: inboxId,
      label_prefix: opts.labelPrefix ?? (language === 'de' ? 'Anfrage' : 'Request'),
      language,
      next_seq: 1,
      settings: JSON.stringify({ retention: { ...DEFAULT_RETENTION, ...opts.retention }, media: 'strip' }),
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  await store.db
    .insertInto('channels')
    .values({
      id: channelId,
      kind: 'whatsapp-cloud',
      inbox_id: inboxId,
      enabled: 1,
      settings: '{}',
      secrets_enc: null,
      source: 'config',
      created_at: 0,
      updated_at: 0,
    })
    .execute();
  return { inboxId, channelId };
}

export function keyServiceFor(store: Store, clock: Clock, master: Buffer = randomBytes(32)): KeyService {
  return new KeyService(new KeyStore(store.keys), master, clock);
}

export function directoryFor(store: Store, keys: KeyService, clock: Clock): ContactDirectory {
  return new ContactDirectory(new ContactStore(store.db), keys, clock, channelKindFacts);
}

/**
 * A contact with a conversation and messages, sealed exactly as the inbox core does (brief, "Message content"):
 * body_enc = sealField(conversationKey, JSON.stringify({ text }), { table: 'messages', rowId, column: 'body_enc' }).
 */
export async function addConversation(
  store: Store,
  keys: KeyService,
  directory: ContactDirectory,
  clock: Clock,
  opts: {
    inboxId: string;
    channelId: string;
    phone: string;
    texts: string[];
    profileName?: string;
    state?: ConversationState;
    lastActivityAt?: number;
    closedAt?: number | null;
    eraseAt?: number | null;
    withMedia?: boolean;
  },
): Promise<{ conversation: ConversationRow; contactId: string; messageIds: string[]; mediaIds: string[] }> {
  const { contact } = await directory.findOrCreate({
    inboxId: opts.inboxId,
    channelId: opts.channelId,
    channelKind: 'whatsapp-cloud',
    address: opts.phone,
    profileName: opts.profileName,
  });
  const now = clock.now().getTime();
  const state = opts.state ?? 'open';
  const conversation: ConversationRow = {
    id: newId(),
    inbox_id: opts.inboxId,
    channel_id: opts.channelId,
    contact_id: contact.id,
    label_seq: contact.label_seq,
    state,
    assignee_id: null,
    labels: '[]',
    unread: 0,
    created_at: now,
    last_activity_at: opts.lastActivityAt ?? now,
    last_inbound_at: now,
    consent_requested_at: state === 'pending_consent' ? now : null,
    closed_at: opts.closedAt ?? (state === 'closed' ? now : null),
    erase_at: opts.eraseAt ?? null,
    notice_version: null,
  };
  await store.db.insertInto('conversations').values(conversation).execute();
  const key = await keys.dataKeyFor('conversation', conversation.id);
  const messageIds: string[] = [];
  const mediaIds: string[] = [];
  for (const text of opts.texts) {
    const id = newId();
    messageIds.push(id);
    let mediaId: string | null = null;
    if (opts.withMedia) {
      mediaId = newId();
      mediaIds.push(mediaId);
      await store.db
        .insertInto('media')
        .values({
          id: mediaId,
          conversation_id: conversation.id,
          message_id: id,
          mime_type: 'image/jpeg',
          size: 4,
          data_enc: sealField(key, Buffer.from(`IMG:${text}`), { table: 'media', rowId: mediaId, column: 'data_enc' }),
          state: 'stored',
          created_at: now,
        })
        .execute();
    }
    await store.db
      .insertInto('messages')
      .values({
        id,
        conversation_id: conversation.id,
        channel_id: opts.channelId,
        direction: 'in',
        kind: 'text',
        provider_message_id: `wamid.${id}`,
        status: 'received',
        body_enc: sealField(key, JSON.stringify({ text }), { table: 'messages', rowId: id, column: 'body_enc' }),
        media_id: mediaId,
        author_id: null,
        error_code: null,
        error_reason: null,
        edited: 0,
        deleted: 0,
        handled: 1,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  return { conversation, contactId: contact.id, messageIds, mediaIds };
}
