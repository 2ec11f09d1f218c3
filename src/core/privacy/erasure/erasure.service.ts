import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { ErasedRowCounts, ErasurePort, Tombstones } from '../../ports/erasure.port.ts';
import type { ConversationRecord } from '../../ports/model.ts';
import type { OutgoingEventSink } from '../../webhooks/outgoing-events.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { KeyService } from '../keys/key.service.ts';
import { formatLabel } from '../pseudonym/contact-directory.ts';

export interface ErasureRequest {
  /** Who asked: 'user:<id>', 'token:<id>', 'system', … (as in the audit log). */
  actor: string;
  /** A short code: 'consent-timeout', 'consent-declined', 'consent-withdrawn', 'retention', 'dsar', 'staff'. */
  reason: string;
}

/** Content-free proof of an erasure, also written to the audit log. */
export interface ErasureReceipt {
  targetType: 'conversation' | 'contact';
  targetId: string;
  /** Pseudonym label ("Anfrage 42"), or null when the target was already gone. */
  label: string | null;
  /** True when there was nothing left to erase (a repeat): a no-op with a receipt saying so. */
  alreadyErased: boolean;
  counts: ErasedRowCounts & { keysDestroyed: number };
  reason: string;
  actor: string;
  at: number;
  /** Seq of the audit entry holding this receipt. */
  auditSeq: number;
}

export interface EraseOptions {
  /**
   * Skip the store scrub (SQLite WAL checkpoint) for this call; the caller promises to call {@link
   * ErasureService.scrub} after a batch. Used by the retention sweeper.
   */
  deferScrub?: boolean;
}

const REASON = /^[a-z][a-z0-9-]{0,47}$/;

/**
 * How long the consent entries of a contact erased because nothing needed it any more are kept as content-free proof
 * (Art. 7(1) GDPR: the controller must be able to show that consent was given): three years, the regular limitation
 * period for claims under German law (§ 195 BGB) in which a complaint about the processing could be raised.
 */
export const CONSENT_PROOF_RETENTION_DAYS = 3 * 365;

/**
 * How long the keyed hashes of erased inbound messages' provider ids are kept as tombstones: providers redeliver an
 * unacknowledged webhook for up to 7 days (docs/channels.md), a day more for clocks and queues.
 */
export const TOMBSTONE_TTL_MS = 8 * 86_400_000;

/**
 * Erasure by crypto-shredding plus row deletion (Art. 17 GDPR). First the data keys are destroyed in the key store,
 * so that every copy of the ciphertext (backups of the main database included) becomes unreadable; then the rows are
 * deleted (SQLite overwrites them: secure_delete) and the WAL is checkpointed; last, a content-free receipt goes to
 * the audit log. Each step is idempotent, so a run interrupted anywhere is finished by running it again; erasing
 * something already erased is a no-op with a receipt saying so. Publishing 'conversation.erased' is the caller's job.
 */
export class ErasureService {
  constructor(
    private readonly port: ErasurePort,
    private readonly keys: KeyService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    /** Outgoing webhooks: 'conversation.erased' for every conversation that existed (content-free). */
    private readonly events?: OutgoingEventSink,
  ) {}

  async eraseConversation(id: string, request: ErasureRequest, options: EraseOptions = {}): Promise<ErasureReceipt> {
    this.#check(request);
    const conversation = await this.port.findConversation(id);
    const keysDestroyed = await this.keys.destroy('conversation', id);
    const counts = await this.port.deleteConversation(id, this.#tombstones());
    if (!options.deferScrub) await this.port.scrub();
    const label = conversation ? formatLabel(conversation.label_prefix ?? '#', conversation.label_seq) : null;
    if (conversation) await this.#erased(conversation, label, request, counts.messages);
    return this.#receipt(
      'conversation',
      id,
      label,
      { ...counts, keysDestroyed },
      request,
      !conversation && !keysDestroyed,
    );
  }

  /**
   * {@link eraseConversation} for a batch: keys destroyed with one key-store statement, rows deleted in one
   * transaction, receipts appended in one transaction. Same guarantees (idempotent, resumable); used by the sweeper,
   * where committing per conversation would dominate the time.
   */
  async eraseConversations(
    ids: readonly string[],
    request: ErasureRequest,
    options: EraseOptions = {},
  ): Promise<ErasureReceipt[]> {
    this.#check(request);
    if (ids.length === 0) return [];
    const found = new Map<string, string>();
    const rows = new Map<string, ConversationRecord>();
    const hadKey = new Set<string>();
    for (const id of ids) {
      const conversation = await this.port.findConversation(id);
      if (conversation) {
        found.set(id, formatLabel(conversation.label_prefix ?? '#', conversation.label_seq));
        rows.set(id, conversation);
      }
      if (await this.keys.existingDataKey('conversation', id)) hadKey.add(id);
    }
    await this.keys.destroyMany('conversation', ids);
    const counts = await this.port.deleteConversations(ids, this.#tombstones());
    if (!options.deferScrub) await this.port.scrub();
    for (const [id, conversation] of rows) {
      await this.#erased(conversation, found.get(id) ?? null, request, counts.get(id)?.messages ?? 0);
    }
    const drafts: ReceiptDraft[] = ids.map((id) => {
      const c = counts.get(id) ?? { conversations: 0, messages: 0, media: 0, consentEvents: 0, contacts: 0 };
      return {
        targetType: 'conversation',
        targetId: id,
        label: found.get(id) ?? null,
        counts: { ...c, keysDestroyed: hadKey.has(id) ? 1 : 0 },
        request,
        alreadyErased: !found.has(id) && !hadKey.has(id),
      };
    });
    const entries = await this.audit.appendMany(drafts.map(receiptEntry));
    return drafts.map((d, i) => receiptOf(d, entries[i]!));
  }

  async eraseContact(
    id: string,
    request: ErasureRequest,
    options: EraseOptions & { keepConsentProof?: boolean } = {},
  ): Promise<ErasureReceipt> {
    this.#check(request);
    const contact = await this.port.findContact(id);
    let keysDestroyed = 0;
    const conversations: (ConversationRecord & { label_prefix: string | null })[] = [];
    for (const conversationId of await this.port.conversationIdsOfContact(id)) {
      if (this.events) {
        const conversation = await this.port.findConversation(conversationId);
        if (conversation) conversations.push(conversation);
      }
      keysDestroyed += await this.keys.destroy('conversation', conversationId);
    }
    keysDestroyed += await this.keys.destroy('contact', id);
    const counts = await this.port.deleteContact(
      id,
      options.keepConsentProof
        ? {
            keepConsentProofUntil: this.clock.now().getTime() + CONSENT_PROOF_RETENTION_DAYS * 86_400_000,
            tombstones: this.#tombstones(),
          }
        : { tombstones: this.#tombstones() },
    );
    if (!options.deferScrub) await this.port.scrub();
    const label = contact ? formatLabel(contact.label_prefix ?? '#', contact.label_seq) : null;
    for (const c of conversations) {
      await this.#erased(c, formatLabel(c.label_prefix ?? '#', c.label_seq), request, null);
    }
    return this.#receipt('contact', id, label, { ...counts, keysDestroyed }, request, !contact && !keysDestroyed);
  }

  /**
   * Erases the contact (pseudonym, sealed address and profile name, its key) when nothing needs it any more: no
   * conversation left and no standing marketing opt-in. Its consent entries stay only as content-free proof (notice
   * hash, purpose, action, channel, time, method) for {@link CONSENT_PROOF_RETENTION_DAYS}; nothing in them leads
   * back to the address. Called after every erasure of a conversation (close, retention, consent timeout, decline).
   */
  async eraseContactIfOrphan(contactId: string, request: ErasureRequest, options: EraseOptions = {}) {
    if (!(await this.port.contactIsOrphan(contactId))) return undefined;
    if (!(await this.port.findContact(contactId))) return undefined;
    return this.eraseContact(contactId, request, { ...options, keepConsentProof: true });
  }

  async #erased(
    conversation: ConversationRecord,
    label: string | null,
    request: ErasureRequest,
    messages: number | null,
  ): Promise<void> {
    // A conversation still waiting for consent was never visible, so it was never announced either.
    if (conversation.state === 'pending_consent') return;
    await this.events?.emit({
      type: 'conversation.erased',
      occurredAt: this.clock.now().getTime(),
      channelId: conversation.channel_id,
      inboxId: conversation.inbox_id,
      conversationId: conversation.id,
      contactId: conversation.contact_id,
      label,
      details: { reason: request.reason, ...(messages !== null ? { messagesErased: messages } : {}) },
    });
  }

  /** The store's scrub after a batch of erasures made with `deferScrub`. */
  scrub(): Promise<void> {
    return this.port.scrub();
  }

  #tombstones(): Tombstones {
    const now = this.clock.now().getTime();
    return { now, until: now + TOMBSTONE_TTL_MS, receivedSince: now - TOMBSTONE_TTL_MS };
  }

  #check(request: ErasureRequest): void {
    if (!REASON.test(request.reason)) {
      throw new AppError(
        'VALIDATION',
        'erasure reason must be a short code like "retention", "dsar" or "consent-timeout"',
      );
    }
  }

  async #receipt(
    targetType: 'conversation' | 'contact',
    targetId: string,
    label: string | null,
    counts: ErasureReceipt['counts'],
    request: ErasureRequest,
    alreadyErased: boolean,
  ): Promise<ErasureReceipt> {
    const draft = { targetType, targetId, label, counts, request, alreadyErased };
    const entry = await this.audit.append(receiptEntry(draft));
    return receiptOf(draft, entry);
  }
}

interface ReceiptDraft {
  targetType: 'conversation' | 'contact';
  targetId: string;
  label: string | null;
  counts: ErasureReceipt['counts'];
  request: ErasureRequest;
  alreadyErased: boolean;
}

function receiptEntry(d: ReceiptDraft) {
  return {
    actor: d.request.actor,
    action: `${d.targetType}.erased`,
    targetType: d.targetType,
    targetId: d.targetId,
    details: {
      label: d.label,
      reason: d.request.reason,
      alreadyErased: d.alreadyErased,
      conversations: d.counts.conversations,
      messages: d.counts.messages,
      media: d.counts.media,
      consentEvents: d.counts.consentEvents,
      keysDestroyed: d.counts.keysDestroyed,
    },
  };
}

function receiptOf(d: ReceiptDraft, entry: { at: number; seq: number }): ErasureReceipt {
  return {
    targetType: d.targetType,
    targetId: d.targetId,
    label: d.label,
    alreadyErased: d.alreadyErased,
    counts: d.counts,
    reason: d.request.reason,
    actor: d.request.actor,
    at: entry.at,
    auditSeq: entry.seq,
  };
}
