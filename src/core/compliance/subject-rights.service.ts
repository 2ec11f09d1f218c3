import { AppError } from '../../shared/app-error.ts';
import { inScope, type InboxScope } from '../teams/inbox-scope.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ContactRecord, ConversationRecord, MessageRecord } from '../ports/model.ts';
import type { InboxEventBus } from '../inbox/inbox-events.ts';
import type { SubjectRightsPort } from '../ports/compliance.port.ts';
import {
  openMediaBytes,
  openMessageContent,
  sealMessageContent,
  type MessageContent,
} from '../inbox/message-content.ts';
import type { AuditLog, AuditRecord } from '../privacy/audit/audit-log.ts';
import type { ConsentHistoryEntry, ConsentService } from '../privacy/consent/consent.service.ts';
import type { ErasureReceipt, ErasureService } from '../privacy/erasure/erasure.service.ts';
import type { KeyService } from '../privacy/keys/key.service.ts';
import type { DataKey } from '../privacy/keys/data-key.ts';
import { openFieldText } from '../privacy/keys/field-cipher.ts';
import { formatLabel, type ContactDirectory } from '../privacy/pseudonym/contact-directory.ts';

/** Who asks, as written to the audit log ('user:<id>', 'token:<id>', 'cli:<verb>'), and with which role. */
export interface ComplianceActor {
  actor: string;
  role: 'admin' | 'agent' | 'dpo' | 'cli';
  /** The inboxes the caller may see (an agent allowed to reveal: only conversations of their inboxes); absent = all. */
  scope?: InboxScope;
}

/** The person a request is about: the channel they wrote on and their address there (phone number, chat id). */
export interface SubjectRef {
  channelId: string;
  address: string;
}

export interface DsarMessage {
  id: string;
  direction: MessageRecord['direction'];
  kind: string;
  status: string;
  text: string | null;
  buttons?: { id: string; title: string }[];
  template?: { name: string; language: string; parameters: string[] };
  extra?: Record<string, unknown>;
  /** True when the content could not be opened (its key is gone). */
  unreadable?: boolean;
  edited: boolean;
  deleted: boolean;
  error: { code: string; reason: string } | null;
  author: { id: string; name: string | null } | null;
  mediaId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DsarMedia {
  id: string;
  messageId: string | null;
  mimeType: string;
  size: number;
  state: string;
  createdAt: string;
  /** The stored (sanitised) file, base64; null when nothing is stored (rejected, failed or still pending). */
  dataBase64: string | null;
}

export interface DsarConversation {
  id: string;
  label: string;
  inboxId: string;
  channelId: string;
  state: ConversationRecord['state'];
  labels: string[];
  createdAt: string;
  lastActivityAt: string;
  closedAt: string | null;
  eraseAt: string | null;
  noticeVersion: string | null;
  messages: DsarMessage[];
  media: DsarMedia[];
}

export interface DsarAuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  result: string;
  details: Record<string, unknown>;
}

/**
 * Everything sparsam holds about one person (Art. 15 and 20 GDPR), machine-readable. Format 'sparsam.dsar.v1'.
 * Times are ISO strings; texts decrypted; files base64.
 */
export interface DsarBundle {
  format: 'sparsam.dsar.v1';
  generatedAt: string;
  /** timeZone: the zone the readable summary shows times in (IANA name). */
  organisation: { name: string; contact: string; dpo: string | null; timeZone: string };
  subject: {
    contactId: string;
    label: string;
    channelId: string;
    channelKind: string;
    inboxId: string;
    address: string;
    profileName: string | null;
    createdAt: string;
    lastInboundAt: string | null;
  };
  conversations: DsarConversation[];
  consent: (Omit<ConsentHistoryEntry, 'at'> & { at: string })[];
  audit: DsarAuditEntry[];
}

export interface SubjectRightsDeps {
  port: SubjectRightsPort;
  contacts: ContactDirectory;
  consent: ConsentService;
  audit: AuditLog;
  erasure: ErasureService;
  keys: KeyService;
  clock: Clock;
  organisation: { name: string; contact: string; dpo?: string | undefined; timeZone?: string | undefined };
  /** Tells open inbox screens that the person's conversations are gone (the CLI has none to tell). */
  events?: Pick<InboxEventBus, 'publish'> | undefined;
}

/** A reveal of a real address: what was revealed to whom, from the audit log (no address in it). */
export interface RevealEntry {
  /** 'reveal': a real address shown; 'export': a subject access export (every text and file of the person). */
  kind: 'reveal' | 'export';
  seq: number;
  at: string;
  actor: string;
  conversationId: string | null;
  label: string | null;
  reason: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const isoOf = (ms: number): string => new Date(ms).toISOString();
const AUDIT_PAGE = 1000;
const REASON_MIN = 5;
const REASON_MAX = 200;
const ERASE_CODE = /^[a-z][a-z0-9-]{0,47}$/;

/**
 * Checks a staff member's stated reason (reveal, erasure): required, short, content-free. It goes to the audit log,
 * which refuses phone numbers and e-mail addresses; the check here says so first, with the fix.
 */
export function checkReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason.trim().replace(/\s+/g, ' ') : '';
  if (text.length < REASON_MIN) {
    throw new AppError('VALIDATION', `a reason of at least ${REASON_MIN} characters is required`, { field: 'reason' });
  }
  if (text.length > REASON_MAX) {
    throw new AppError('VALIDATION', `the reason must be at most ${REASON_MAX} characters`, { field: 'reason' });
  }
  const digits = text.replace(/\D/g, '').length;
  if (/[^\s@]+@[^\s@]+\.[^\s@]+/.test(text) || /\+?\d[\d\s()./-]{7,}\d/.test(text) || digits >= 12) {
    throw new AppError(
      'VALIDATION',
      'the reason goes to the audit log: name the case (e.g. "Art. 15 request by letter, ticket 17"), not a phone number or e-mail address',
      { field: 'reason' },
    );
  }
  return text;
}

/**
 * The data subject rights (Art. 15, 16, 17, 20 GDPR) and the reveal of a real address. A person is found only by
 * the HMAC lookup of their address (ContactDirectory.findByAddress), never by scanning; every use is audited with
 * content-free details.
 */
export class SubjectRightsService {
  constructor(private readonly deps: SubjectRightsDeps) {}

  /** The contact of a channel address, or NOT_FOUND. */
  async findSubject(ref: SubjectRef): Promise<{ contact: ContactRecord; channelKind: string }> {
    const channel = await this.deps.port.channel(ref.channelId);
    if (!channel) throw new AppError('NOT_FOUND', `no channel with id ${ref.channelId}`, { field: 'channel' });
    if (!ref.address || !ref.address.trim()) {
      throw new AppError('VALIDATION', 'the address (phone number or chat id) is required', { field: 'address' });
    }
    const contact = await this.deps.contacts.findByAddress(channel.id, channel.kind, ref.address);
    if (!contact) {
      throw new AppError('NOT_FOUND', 'sparsam holds no data for this address on this channel', { field: 'address' });
    }
    return { contact, channelKind: channel.kind };
  }

  /**
   * Art. 15/20: everything stored about the person, decrypted. Needs a stated reason (the request it answers), like
   * a reveal: it is the data protection officer's duty, and the one way staff read content outside the inbox. Audited
   * as 'dsar.export' (counts and the reason) and listed to admins with the reveals ({@link reveals}). A person
   * unknown to sparsam is also audited (result 'failed') and answered with NOT_FOUND.
   */
  async export(ref: SubjectRef, who: ComplianceActor, reason: unknown): Promise<DsarBundle> {
    const why = checkReason(reason);
    let found: { contact: ContactRecord; channelKind: string };
    try {
      found = await this.findSubject(ref);
    } catch (error) {
      // A search for an unknown person on a known channel is recorded too; an unknown channel id is just refused.
      if (error instanceof AppError && error.code === 'NOT_FOUND' && error.details?.field === 'address') {
        await this.deps.audit.append({
          actor: who.actor,
          action: 'dsar.export',
          targetType: 'channel',
          targetId: ref.channelId,
          result: 'failed',
          details: { found: false, reason: why },
        });
      }
      throw error;
    }
    const bundle = await this.#bundle(found.contact, found.channelKind);
    await this.deps.audit.append({
      actor: who.actor,
      action: 'dsar.export',
      targetType: 'contact',
      targetId: found.contact.id,
      details: {
        label: bundle.subject.label,
        conversations: bundle.conversations.length,
        messages: bundle.conversations.reduce((n, c) => n + c.messages.length, 0),
        media: bundle.conversations.reduce((n, c) => n + c.media.length, 0),
        consentEvents: bundle.consent.length,
        reason: why,
      },
    });
    return bundle;
  }

  async #bundle(contact: ContactRecord, channelKind: string): Promise<DsarBundle> {
    const { port, contacts, keys } = this.deps;
    const prefix = (await port.labelPrefix(contact.inbox_id)) ?? '#';
    const address = await contacts.address(contact);
    const profileName = (await contacts.profileName(contact)) ?? null;
    const rows = await port.conversationsOfContact(contact.id);
    const conversations: DsarConversation[] = [];
    for (const c of rows) {
      const key = await keys.existingDataKey('conversation', c.id);
      const messages = await port.messagesOfConversation(c.id);
      const authors = await port.staffNames([
        ...new Set(messages.map((m) => m.author_id).filter((a): a is string => a !== null)),
      ]);
      const media = await port.mediaOfConversation(c.id);
      conversations.push({
        id: c.id,
        label: formatLabel(prefix, c.label_seq),
        inboxId: c.inbox_id,
        channelId: c.channel_id,
        state: c.state,
        labels: [...c.labels, ...legacyLabels(key, c)],
        createdAt: isoOf(c.created_at),
        lastActivityAt: isoOf(c.last_activity_at),
        closedAt: iso(c.closed_at),
        eraseAt: iso(c.erase_at),
        noticeVersion: c.notice_version,
        messages: messages.map((m) => {
          let content: MessageContent | undefined;
          let unreadable = false;
          if (m.body_enc) {
            try {
              if (!key) throw new Error('no key');
              content = openMessageContent(key, m.id, m.body_enc);
            } catch {
              unreadable = true;
            }
          }
          return {
            id: m.id,
            direction: m.direction,
            kind: m.kind,
            status: m.status,
            text: content?.text ?? null,
            ...(content?.buttons ? { buttons: content.buttons } : {}),
            ...(content?.template ? { template: content.template } : {}),
            ...(content?.extra ? { extra: content.extra } : {}),
            ...(unreadable ? { unreadable } : {}),
            edited: m.edited,
            deleted: m.deleted,
            error: m.error_code ? { code: m.error_code, reason: m.error_reason ?? '' } : null,
            author: m.author_id ? { id: m.author_id, name: authors.get(m.author_id) ?? null } : null,
            mediaId: m.media_id,
            createdAt: isoOf(m.created_at),
            updatedAt: isoOf(m.updated_at),
          };
        }),
        media: media.map((row) => {
          let data: string | null = null;
          if (row.data_enc && key) {
            try {
              data = openMediaBytes(key, row.id, row.data_enc).toString('base64');
            } catch {
              data = null;
            }
          }
          return {
            id: row.id,
            messageId: row.message_id,
            mimeType: row.mime_type,
            size: row.size,
            state: row.state,
            createdAt: isoOf(row.created_at),
            dataBase64: data,
          };
        }),
      });
    }
    const consent = (await this.deps.consent.history(contact.id)).map((e) => ({ ...e, at: isoOf(e.at) }));
    const audit = await this.#auditOf([contact.id, ...rows.map((r) => r.id)]);
    return {
      format: 'sparsam.dsar.v1',
      generatedAt: this.deps.clock.now().toISOString(),
      organisation: {
        name: this.deps.organisation.name,
        contact: this.deps.organisation.contact,
        dpo: this.deps.organisation.dpo ?? null,
        timeZone: this.deps.organisation.timeZone ?? 'Europe/Berlin',
      },
      subject: {
        contactId: contact.id,
        label: formatLabel(prefix, contact.label_seq),
        channelId: contact.channel_id,
        channelKind,
        inboxId: contact.inbox_id,
        address,
        profileName,
        createdAt: isoOf(contact.created_at),
        // The contact row's own time is not kept current; the conversations' last inbound times are.
        lastInboundAt: iso(Math.max(contact.last_inbound_at ?? 0, ...rows.map((r) => r.last_inbound_at ?? 0)) || null),
      },
      conversations,
      consent,
      audit,
    };
  }

  /** Audit entries whose target is one of `ids` (the contact and its conversations), oldest first. */
  async #auditOf(ids: readonly string[]): Promise<DsarAuditEntry[]> {
    const out: AuditRecord[] = [];
    for (const targetId of ids) {
      for (let offset = 0; ; offset += AUDIT_PAGE) {
        const page = await this.deps.audit.list({ targetId, limit: AUDIT_PAGE, offset });
        out.push(...page);
        if (page.length < AUDIT_PAGE) break;
      }
    }
    return out
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({
        seq: r.seq,
        at: isoOf(r.at),
        actor: r.actor,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        result: r.result,
        details: JSON.parse(r.details) as Record<string, unknown>,
      }));
  }

  /**
   * Art. 17: erases the person (all conversations, messages, media, consent entries, keys) through the privacy
   * core's ErasureService and returns its receipt. Audited first as 'dsar.erase' with the stated reason.
   */
  async erase(ref: SubjectRef, who: ComplianceActor, reason: string): Promise<ErasureReceipt> {
    const why = checkReason(reason);
    const { contact } = await this.findSubject(ref);
    const label = await this.deps.contacts.label(contact);
    await this.deps.audit.append({
      actor: who.actor,
      action: 'dsar.erase',
      targetType: 'contact',
      targetId: contact.id,
      details: { label, reason: why },
    });
    const conversations = await this.deps.port.conversationsOfContact(contact.id);
    const receipt = await this.deps.erasure.eraseContact(contact.id, {
      actor: who.actor,
      reason: ERASE_CODE.test(why) ? why : 'dsar',
    });
    for (const c of conversations) {
      this.deps.events?.publish({ type: 'conversation.erased', inboxId: c.inbox_id, conversationId: c.id });
    }
    return receipt;
  }

  /**
   * Art. 16: corrects the text of an internal note (admin or dpo). The old text is replaced, not kept; the audit
   * entry 'note.rectified' names the note and its conversation, never the text.
   */
  async rectifyNote(
    noteId: string,
    text: string,
    who: ComplianceActor,
  ): Promise<{ id: string; conversationId: string }> {
    if (who.role !== 'admin' && who.role !== 'dpo' && who.role !== 'cli') {
      throw new AppError('FORBIDDEN', 'only an admin or the data protection officer may rectify notes');
    }
    const clean = typeof text === 'string' ? text.trim() : '';
    if (!clean || clean.length > 4096) {
      throw new AppError('VALIDATION', 'the corrected note text must have 1 to 4096 characters', { field: 'text' });
    }
    const note = await this.deps.port.findMessage(noteId);
    if (!note || note.direction !== 'note') throw new AppError('NOT_FOUND', 'no internal note with this id');
    const key = await this.deps.keys.existingDataKey('conversation', note.conversation_id);
    if (!key) throw new AppError('NOT_FOUND', 'the conversation of this note has been erased');
    const previous = note.body_enc ? openMessageContent(key, note.id, note.body_enc) : {};
    const now = this.deps.clock.now().getTime();
    await this.deps.port.updateMessageBody(
      note.id,
      sealMessageContent(key, note.id, { ...previous, text: clean }),
      now,
    );
    await this.deps.audit.append({
      actor: who.actor,
      action: 'note.rectified',
      targetType: 'conversation',
      targetId: note.conversation_id,
      details: { messageId: note.id, length: clean.length },
    });
    return { id: note.id, conversationId: note.conversation_id };
  }

  /**
   * The real address behind one conversation's pseudonym, for a stated reason. Audited as 'contact.reveal'
   * (the reason and the label; never the address). Roles are checked by the caller's route.
   */
  async reveal(
    conversationId: string,
    reason: unknown,
    who: ComplianceActor,
  ): Promise<{
    conversationId: string;
    label: string;
    channelId: string;
    address: string;
    profileName: string | null;
  }> {
    const why = checkReason(reason);
    const conversation = await this.deps.port.findConversation(conversationId);
    if (!conversation || (who.scope && !inScope(who.scope, conversation.inbox_id))) {
      throw new AppError('NOT_FOUND', 'no such conversation');
    }
    const contact = await this.deps.contacts.findById(conversation.contact_id);
    if (!contact) throw new AppError('NOT_FOUND', 'the contact of this conversation has been erased');
    const prefix = (await this.deps.port.labelPrefix(conversation.inbox_id)) ?? '#';
    const label = formatLabel(prefix, conversation.label_seq);
    const address = await this.deps.contacts.address(contact);
    const profileName = (await this.deps.contacts.profileName(contact)) ?? null;
    await this.deps.audit.append({
      actor: who.actor,
      action: 'contact.reveal',
      targetType: 'conversation',
      targetId: conversation.id,
      details: { label, contactId: contact.id, reason: why },
    });
    return { conversationId: conversation.id, label, channelId: conversation.channel_id, address, profileName };
  }

  /**
   * The reads of personal content outside the inbox so far, newest first (from the audit log): reveals of a real
   * address and subject access exports that found someone. Admins see this list on their start page, so that every
   * such read by the data protection officer (or an admin allowed to reveal) is visible to them.
   */
  async reveals(limit = 100, offset = 0): Promise<RevealEntry[]> {
    const [reveals, exports] = await Promise.all([
      this.deps.audit.list({ action: 'contact.reveal', limit: limit + offset }),
      this.deps.audit.list({ action: 'dsar.export', limit: limit + offset }),
    ]);
    const rows = [...reveals, ...exports.filter((r) => r.result === 'ok')]
      .sort((a, b) => b.seq - a.seq)
      .slice(offset, offset + limit);
    return rows.map((r) => {
      const details = JSON.parse(r.details) as Record<string, unknown>;
      return {
        kind: r.action === 'dsar.export' ? ('export' as const) : ('reveal' as const),
        seq: r.seq,
        at: isoOf(r.at),
        actor: r.actor,
        conversationId: r.target_id,
        label: typeof details.label === 'string' ? details.label : null,
        reason: typeof details.reason === 'string' ? details.reason : null,
      };
    });
  }
}

/** The free-text labels sealed when the admins' label list came (migration 023); none where unreadable. */
function legacyLabels(key: DataKey | undefined, c: { id: string; labels_legacy_enc?: Uint8Array | null }): string[] {
  if (!key || !c.labels_legacy_enc) return [];
  try {
    const parsed: unknown = JSON.parse(
      openFieldText(key, c.labels_legacy_enc, { table: 'conversations', rowId: c.id, column: 'labels_legacy_enc' }),
    );
    return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : [];
  } catch {
    return [];
  }
}
