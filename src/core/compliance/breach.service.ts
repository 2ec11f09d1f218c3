import { SecretBox } from '../accounts/secret-box.ts';
import { AppError } from '../../shared/app-error.ts';
import { HOUR_MS, type Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { BreachRecord } from '../ports/model.ts';
import type { CompliancePort } from '../ports/compliance.port.ts';
import type { AuditLog } from '../privacy/audit/audit-log.ts';

/** Art. 33(1) GDPR: notify the supervisory authority within 72 hours after becoming aware of a breach. */
export const NOTIFY_WITHIN_MS = 72 * HOUR_MS;

export type BreachRisk = 'none' | 'risk' | 'high';
export const BREACH_RISKS: readonly BreachRisk[] = ['none', 'risk', 'high'];

export interface BreachInput {
  description: string;
  risk: BreachRisk;
  /** Affected conversations by id. */
  conversationIds?: string[];
  /** Affected pseudonym labels ("Anfrage 42"). */
  labels?: string[];
  discoveredAt: number;
  notifiedAt?: number | null;
  subjectsNotifiedAt?: number | null;
}

export interface Breach {
  id: string;
  description: string;
  risk: BreachRisk;
  conversationIds: string[];
  labels: string[];
  discoveredAt: string;
  /** discoveredAt + 72 h. */
  deadline: string;
  notifiedAt: string | null;
  subjectsNotifiedAt: string | null;
  /** Milliseconds left until the deadline (negative when passed); null once the authority was notified. */
  remainingMs: number | null;
  overdue: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const LABEL_RE = /^[\p{L}\p{N} #._-]{1,60}$/u;

/** Art. 33 deadline of a breach discovered at `discoveredAt`. */
export function notificationDeadline(discoveredAt: number): number {
  return discoveredAt + NOTIFY_WITHIN_MS;
}

/**
 * The breach register (Art. 33(5) GDPR: document every breach, its effects and the remedial action). The
 * description is internal staff text, stored sealed; affected people are named only by conversation id and
 * pseudonym label. Changes are audited ('breach.recorded', 'breach.updated', 'breach.deleted').
 */
export class BreachRegister {
  readonly #box: SecretBox;

  constructor(
    private readonly port: CompliancePort,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    secret: Buffer,
  ) {
    this.#box = new SecretBox(secret, 'sparsam/breach-register/v1');
  }

  #check(input: Partial<BreachInput>, creating: boolean): void {
    if (creating || input.description !== undefined) {
      const d = input.description?.trim() ?? '';
      if (d.length < 3 || d.length > 8000) {
        throw new AppError('VALIDATION', 'the description must have 3 to 8000 characters', { field: 'description' });
      }
    }
    if ((creating || input.risk !== undefined) && !BREACH_RISKS.includes(input.risk as BreachRisk)) {
      throw new AppError('VALIDATION', `risk must be one of ${BREACH_RISKS.join(', ')}`, { field: 'risk' });
    }
    for (const id of input.conversationIds ?? []) {
      if (!ID_RE.test(id)) throw new AppError('VALIDATION', 'conversation ids only', { field: 'conversationIds' });
    }
    for (const l of input.labels ?? []) {
      if (!LABEL_RE.test(l))
        throw new AppError('VALIDATION', 'pseudonym labels only (e.g. "Anfrage 42")', { field: 'labels' });
    }
    const now = this.clock.now().getTime();
    for (const [field, v] of [
      ['discoveredAt', input.discoveredAt],
      ['notifiedAt', input.notifiedAt],
      ['subjectsNotifiedAt', input.subjectsNotifiedAt],
    ] as const) {
      if (v === undefined || v === null) {
        if (field === 'discoveredAt' && creating)
          throw new AppError('VALIDATION', 'discoveredAt is required', { field });
        continue;
      }
      if (!Number.isFinite(v) || v <= 0 || v > now + HOUR_MS) {
        throw new AppError('VALIDATION', `${field} must be a time not in the future`, { field });
      }
    }
  }

  #view(row: BreachRecord): Breach {
    const affected = row.affected;
    const deadline = notificationDeadline(row.discovered_at);
    const remaining = row.notified_at === null ? deadline - this.clock.now().getTime() : null;
    return {
      id: row.id,
      description: this.#box.open(row.description_enc, `breaches|${row.id}`),
      risk: row.risk as BreachRisk,
      conversationIds: affected.conversationIds,
      labels: affected.labels,
      discoveredAt: iso(row.discovered_at)!,
      deadline: iso(deadline)!,
      notifiedAt: iso(row.notified_at),
      subjectsNotifiedAt: iso(row.subjects_notified_at),
      remainingMs: remaining,
      overdue: row.notified_at === null ? remaining! < 0 : row.notified_at > deadline,
      createdBy: row.created_by,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    };
  }

  async record(input: BreachInput, who: { actor: string }): Promise<Breach> {
    this.#check(input, true);
    const id = newId();
    const now = this.clock.now().getTime();
    const row: BreachRecord = {
      id,
      description_enc: this.#box.seal(input.description.trim(), `breaches|${id}`),
      risk: input.risk,
      affected: { conversationIds: input.conversationIds ?? [], labels: input.labels ?? [] },
      discovered_at: input.discoveredAt,
      notified_at: input.notifiedAt ?? null,
      subjects_notified_at: input.subjectsNotifiedAt ?? null,
      created_by: who.actor,
      created_at: now,
      updated_at: now,
    };
    await this.port.insertBreach(row);
    await this.audit.append({
      actor: who.actor,
      action: 'breach.recorded',
      targetType: 'breach',
      targetId: id,
      details: {
        risk: input.risk,
        conversations: (input.conversationIds ?? []).length,
        deadline: notificationDeadline(input.discoveredAt),
      },
    });
    return this.#view(row);
  }

  async update(id: string, patch: Partial<BreachInput>, who: { actor: string }): Promise<Breach> {
    this.#check(patch, false);
    const row = await this.port.findBreach(id);
    if (!row) throw new AppError('NOT_FOUND', 'no breach with this id');
    const affected = row.affected;
    const next: Partial<BreachRecord> = { updated_at: this.clock.now().getTime() };
    if (patch.description !== undefined)
      next.description_enc = this.#box.seal(patch.description.trim(), `breaches|${id}`);
    if (patch.risk !== undefined) next.risk = patch.risk;
    if (patch.discoveredAt !== undefined) next.discovered_at = patch.discoveredAt;
    if (patch.notifiedAt !== undefined) next.notified_at = patch.notifiedAt;
    if (patch.subjectsNotifiedAt !== undefined) next.subjects_notified_at = patch.subjectsNotifiedAt;
    if (patch.conversationIds !== undefined || patch.labels !== undefined) {
      next.affected = {
        conversationIds: patch.conversationIds ?? affected.conversationIds,
        labels: patch.labels ?? affected.labels,
      };
    }
    await this.port.updateBreach(id, next);
    await this.audit.append({
      actor: who.actor,
      action: 'breach.updated',
      targetType: 'breach',
      targetId: id,
      details: { fields: Object.keys(patch).sort().join(',') },
    });
    return this.#view({ ...row, ...next } as BreachRecord);
  }

  async get(id: string): Promise<Breach> {
    const row = await this.port.findBreach(id);
    if (!row) throw new AppError('NOT_FOUND', 'no breach with this id');
    return this.#view(row);
  }

  async list(limit = 100, offset = 0): Promise<Breach[]> {
    const rows = await this.port.listBreaches({
      limit: Math.min(Math.max(limit, 1), 500),
      offset: Math.max(offset, 0),
    });
    return rows.map((r) => this.#view(r));
  }

  async remove(id: string, who: { actor: string }): Promise<void> {
    if (!(await this.port.deleteBreach(id))) throw new AppError('NOT_FOUND', 'no breach with this id');
    await this.audit.append({ actor: who.actor, action: 'breach.deleted', targetType: 'breach', targetId: id });
  }
}
