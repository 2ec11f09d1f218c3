import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Sparsam } from '../../src/main.ts';
import { newId } from '../../src/shared/ids.ts';
import type { ConversationState } from '../../src/store/database.ts';
import type { SqlDialectName } from '../../src/store/store.ts';
import { startWebApp } from '../web/web-support.ts';

/** Two inboxes with one WhatsApp channel each: "werkstatt" (label W-…) and "verkauf" (label V-…). */
export async function startTwoInboxApp(dialect: SqlDialectName, name: string) {
  const file = path.join(tmpdir(), `sparsam-${name}-${process.pid}-${dialect}.yaml`);
  writeFileSync(
    file,
    [
      'inboxes:',
      '  - id: werkstatt',
      '    labelPrefix: Werkstatt',
      '  - id: verkauf',
      '    labelPrefix: Verkauf',
      'channels:',
      '  - id: wa-werkstatt',
      '    kind: whatsapp-cloud',
      '    inbox: werkstatt',
      '    phoneNumberId: "100000000000001"',
      '    accessToken: EAAG-werkstatt-token-1234567890',
      '    appSecret: app-secret-werkstatt-123456',
      '    verifyToken: verify-token-werkstatt-abcdef',
      '    graphBaseUrl: http://127.0.0.1:9',
      '  - id: wa-verkauf',
      '    kind: whatsapp-cloud',
      '    inbox: verkauf',
      '    phoneNumberId: "100000000000002"',
      '    accessToken: EAAG-verkauf-token-1234567890',
      '    appSecret: app-secret-verkauf-123456',
      '    verifyToken: verify-token-verkauf-abcdef',
      '    graphBaseUrl: http://127.0.0.1:9',
      '    templates:',
      '      - { name: angebot, language: de, category: MARKETING, body: "Ihr Angebot {{1}}" }',
    ].join('\n'),
  );
  return startWebApp(dialect, { SPARSAM_CONFIG: file });
}

let seq = 100;

/** A conversation in an inbox (open unless told), as consent-given conversations are stored (label number `seq`). */
export async function seedConversation(
  sparsam: Sparsam,
  inboxId: string,
  channelId: string,
  opts: { labels?: string[]; lastActivityAt?: number; unread?: number; state?: ConversationState } = {},
): Promise<{ id: string; seq: number }> {
  const db = sparsam.store.db;
  const now = opts.lastActivityAt ?? sparsam.clock.now().getTime();
  const contactId = newId();
  const labelSeq = ++seq;
  await db
    .insertInto('contacts')
    .values({
      id: contactId,
      channel_id: channelId,
      inbox_id: inboxId,
      lookup_hash: newId(),
      label_seq: labelSeq,
      address_enc: new Uint8Array([1, 2, 3]),
      profile_name_enc: null,
      created_at: now,
      last_inbound_at: now,
    })
    .execute();
  const id = newId();
  await db
    .insertInto('conversations')
    .values({
      id,
      inbox_id: inboxId,
      channel_id: channelId,
      contact_id: contactId,
      label_seq: labelSeq,
      state: opts.state ?? 'open',
      assignee_id: null,
      labels: JSON.stringify(opts.labels ?? []),
      unread: opts.unread ?? 0,
      created_at: now,
      last_activity_at: now,
      last_inbound_at: now,
      consent_requested_at: null,
      closed_at: null,
      erase_at: null,
      notice_version: null,
    })
    .execute();
  return { id, seq: labelSeq };
}
