import { DAY_MS, HOUR_MS } from '../../../shared/clock.ts';

/** An inbox's retention policy, from inboxes.settings.retention (config: inboxes[].retention). */
export interface RetentionPolicy {
  /** Conversations waiting for consent longer than this are erased. 0 = never. */
  consentTimeoutHours: number;
  /** Open conversations without activity for this long are closed. 0 = never. */
  autoCloseAfterDays: number;
  /** Closed conversations are erased this long after closing. 0 = at close. */
  eraseAfterCloseDays: number;
  /** Audit entries older than this are pruned (behind an anchor). */
  auditRetentionDays: number;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  consentTimeoutHours: 24,
  autoCloseAfterDays: 14,
  eraseAfterCloseDays: 0,
  auditRetentionDays: 365 * 3,
};

function nonNegative(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Reads the policy from an inbox's settings; missing or invalid values fall back to the defaults. */
export function parseRetentionPolicy(settings: Readonly<Record<string, unknown>>): RetentionPolicy {
  const value = settings.retention;
  const retention: Record<string, unknown> =
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  const d = DEFAULT_RETENTION_POLICY;
  return {
    consentTimeoutHours: nonNegative(retention.consentTimeoutHours, d.consentTimeoutHours),
    autoCloseAfterDays: nonNegative(retention.autoCloseAfterDays, d.autoCloseAfterDays),
    eraseAfterCloseDays: nonNegative(retention.eraseAfterCloseDays, d.eraseAfterCloseDays),
    auditRetentionDays: Math.max(1, nonNegative(retention.auditRetentionDays, d.auditRetentionDays)),
  };
}

/** When a conversation closed at `closedAt` is to be erased under `policy` (epoch ms). */
export function eraseAtFor(policy: RetentionPolicy, closedAt: number): number {
  return closedAt + policy.eraseAfterCloseDays * DAY_MS;
}

export const consentTimeoutMs = (p: RetentionPolicy) => p.consentTimeoutHours * HOUR_MS;
export const autoCloseMs = (p: RetentionPolicy) => p.autoCloseAfterDays * DAY_MS;
