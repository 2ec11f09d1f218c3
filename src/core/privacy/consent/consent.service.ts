import { createHash } from 'node:crypto';
import { AppError } from '../../../shared/app-error.ts';
import type { Clock } from '../../../shared/clock.ts';
import { newId } from '../../../shared/ids.ts';
import type { ConsentEventRecord } from '../../ports/model.ts';
import type { ConsentPort } from '../../ports/consent.port.ts';
import { openFieldText, sealField } from '../keys/field-cipher.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { OutgoingEventSink } from '../../webhooks/outgoing-events.ts';

export type ConsentPurpose = 'service' | 'marketing';
export const CONSENT_PURPOSES: readonly ConsentPurpose[] = ['service', 'marketing'];

/**
 * The version of a privacy notice: SHA-256 (hex) of the exact text sent, so that the ledger proves which words the
 * customer agreed to. Any change of the text, even one character, is a new version.
 */
export function noticeVersion(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface ConsentGrantInput {
  contactId: string;
  channelId: string;
  purpose: ConsentPurpose;
  /** {@link noticeVersion} of the text shown; null only for imports that did not show sparsam's notice. */
  noticeVersion: string | null;
  /**
   * How the customer said yes: 'button:<button id>', 'keyword:<keyword>', 'api-import' (needs `evidence`), or
   * another short code ('web-form', 'admin').
   */
  method: string;
  /** The inbound message that carried the answer. */
  evidenceMessageId?: string | undefined;
  /** Free-text evidence for imports (who collected the consent, where, when); stored sealed with the contact key. */
  evidence?: string | undefined;
}

export interface ConsentWithdrawInput {
  contactId: string;
  channelId: string;
  purpose: ConsentPurpose;
  method: string;
  evidenceMessageId?: string | undefined;
}

export interface ConsentStatus {
  /** May sparsam process (service) or market to (marketing) this contact now? */
  allowed: boolean;
  /** Why: the newest ledger entry was a grant, a withdrawal, or there is none. */
  reason: 'granted' | 'withdrawn' | 'never-asked';
  /** Time of the deciding entry. */
  since?: number;
  noticeVersion?: string | null;
  method?: string;
  channelId?: string;
  evidenceMessageId?: string | null;
}

/** One ledger entry as the DPO sees it (evidence opened when the contact key still exists). */
export interface ConsentHistoryEntry {
  id: string;
  purpose: ConsentPurpose;
  action: 'grant' | 'withdraw';
  at: number;
  channelId: string;
  noticeVersion: string | null;
  method: string;
  evidenceMessageId: string | null;
  evidence: string | null;
}

const METHOD = /^[a-z][a-z0-9-]{0,31}(:[^\s]{1,64})?$/;

function checkPurpose(purpose: string): asserts purpose is ConsentPurpose {
  if (!(CONSENT_PURPOSES as readonly string[]).includes(purpose)) {
    throw new AppError('VALIDATION', `consent purpose must be one of ${CONSENT_PURPOSES.join(', ')}`);
  }
}

function checkMethod(method: string): void {
  if (!METHOD.test(method)) {
    throw new AppError(
      'VALIDATION',
      'consent method must be a short code like "button:consent_yes", "keyword:STOP" or "api-import"',
    );
  }
}

const EVIDENCE_AAD = (id: string) => ({ table: 'consent_events', rowId: id, column: 'evidence_enc' });

/**
 * The consent ledger (Art. 7(1) GDPR: the controller must be able to demonstrate consent). Every grant and
 * withdrawal is a new entry with purpose, notice version, channel, time, method and the message that carried it;
 * nothing is updated in place. Service and marketing consent are separate: a marketing broadcast asks
 * `status(contact, 'marketing')`, which a service grant never satisfies.
 */
export class ConsentService {
  constructor(
    private readonly port: ConsentPort,
    private readonly keys: KeyService,
    private readonly clock: Clock,
    /** Outgoing webhooks: 'consent.given' and 'consent.withdrawn' (purpose, method; never evidence). */
    private readonly events?: OutgoingEventSink,
  ) {}

  async grant(input: ConsentGrantInput): Promise<ConsentEventRecord> {
    checkPurpose(input.purpose);
    checkMethod(input.method);
    if (input.noticeVersion !== null && !/^[0-9a-f]{64}$/.test(input.noticeVersion)) {
      throw new AppError(
        'VALIDATION',
        'noticeVersion must be the SHA-256 hex of the notice text (use noticeVersion())',
      );
    }
    if (input.method === 'api-import' && !input.evidence?.trim()) {
      throw new AppError('VALIDATION', 'an api-import consent needs evidence (who collected it, where and when)');
    }
    const id = newId();
    let evidence_enc: Uint8Array | null = null;
    if (input.evidence) {
      const key = await this.keys.dataKeyFor('contact', input.contactId);
      evidence_enc = sealField(key, input.evidence, EVIDENCE_AAD(id));
    }
    const row: ConsentEventRecord = {
      id,
      contact_id: input.contactId,
      channel_id: input.channelId,
      purpose: input.purpose,
      action: 'grant',
      notice_version: input.noticeVersion,
      method: input.method,
      evidence_message_id: input.evidenceMessageId ?? null,
      evidence_enc,
      at: this.clock.now().getTime(),
    };
    await this.port.insertEvent(row);
    await this.#emit('consent.given', row);
    return row;
  }

  async withdraw(input: ConsentWithdrawInput): Promise<ConsentEventRecord> {
    checkPurpose(input.purpose);
    checkMethod(input.method);
    const row: ConsentEventRecord = {
      id: newId(),
      contact_id: input.contactId,
      channel_id: input.channelId,
      purpose: input.purpose,
      action: 'withdraw',
      notice_version: null,
      method: input.method,
      evidence_message_id: input.evidenceMessageId ?? null,
      evidence_enc: null,
      at: this.clock.now().getTime(),
    };
    await this.port.insertEvent(row);
    await this.#emit('consent.withdrawn', row);
    return row;
  }

  async #emit(type: 'consent.given' | 'consent.withdrawn', row: ConsentEventRecord): Promise<void> {
    await this.events?.emit({
      type,
      occurredAt: row.at,
      channelId: row.channel_id,
      contactId: row.contact_id,
      details: { purpose: row.purpose, method: row.method, noticeVersion: row.notice_version },
    });
  }

  /**
   * Whether sparsam may process (purpose 'service') or market to ('marketing') the contact now, and why. The newest
   * entry decides; a withdrawal and a grant in the same millisecond resolve to the withdrawal.
   */
  async status(contactId: string, purpose: ConsentPurpose): Promise<ConsentStatus> {
    checkPurpose(purpose);
    const latest = await this.port.latestEvent(contactId, purpose);
    if (!latest) return { allowed: false, reason: 'never-asked' };
    return {
      allowed: latest.action === 'grant',
      reason: latest.action === 'grant' ? 'granted' : 'withdrawn',
      since: latest.at,
      noticeVersion: latest.notice_version,
      method: latest.method,
      channelId: latest.channel_id,
      evidenceMessageId: latest.evidence_message_id,
    };
  }

  /**
   * The contacts among `contactIds` that {@link status} would allow now for `purpose`, with one query per 500
   * contacts (a broadcast's batch) instead of one per contact; the same rule: the newest entry decides.
   */
  async allowedAmong(contactIds: readonly string[], purpose: ConsentPurpose): Promise<Set<string>> {
    checkPurpose(purpose);
    const latest = await this.port.latestEvents(contactIds, purpose);
    const allowed = new Set<string>();
    for (const [id, event] of latest) if (event.action === 'grant') allowed.add(id);
    return allowed;
  }

  /** Every ledger entry of a contact, oldest first (for the DPO's export and the inbox's consent panel). */
  async history(contactId: string): Promise<ConsentHistoryEntry[]> {
    const rows = await this.port.listEvents(contactId);
    const key = rows.some((r) => r.evidence_enc) ? await this.keys.existingDataKey('contact', contactId) : undefined;
    return rows.map((r) => ({
      id: r.id,
      purpose: r.purpose,
      action: r.action,
      at: r.at,
      channelId: r.channel_id,
      noticeVersion: r.notice_version,
      method: r.method,
      evidenceMessageId: r.evidence_message_id,
      evidence: r.evidence_enc && key ? openFieldText(key, r.evidence_enc, EVIDENCE_AAD(r.id)) : null,
    }));
  }
}
