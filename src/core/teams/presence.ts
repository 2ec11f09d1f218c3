import type { PresenceRecord, PresenceStatus } from '../ports/teams.port.ts';

/** How often an open inbox tab reports (the web inbox sends a heartbeat every minute). */
export const HEARTBEAT_MS = 60_000;
/** Without a heartbeat for this long an agent counts as offline (the tab was closed, the laptop went to sleep). */
export const SEEN_TIMEOUT_MS = 3 * HEARTBEAT_MS;
/** Default idle time after which an online agent counts as away. */
export const DEFAULT_AWAY_AFTER_MINUTES = 10;

export type Availability = PresenceStatus;

/**
 * An agent's effective availability: what they chose, except that an online agent without input for `awayAfterMs`
 * is away and one whose inbox tab has not reported for {@link SEEN_TIMEOUT_MS} is offline. `since` is when the
 * current availability began (for "return to unassigned after N minutes offline").
 */
export function availabilityOf(
  presence: PresenceRecord | undefined,
  now: number,
  awayAfterMs: number,
): { availability: Availability; since: number } {
  if (!presence) return { availability: 'offline', since: 0 };
  if (presence.status === 'offline') return { availability: 'offline', since: presence.changed_at };
  const seen = presence.last_seen_at ?? 0;
  if (now - seen > SEEN_TIMEOUT_MS) {
    return { availability: 'offline', since: Math.max(presence.changed_at, seen + SEEN_TIMEOUT_MS) };
  }
  if (presence.status === 'away') return { availability: 'away', since: presence.changed_at };
  const active = presence.last_active_at ?? presence.changed_at;
  if (now - active > awayAfterMs) return { availability: 'away', since: active + awayAfterMs };
  return { availability: 'online', since: Math.max(presence.changed_at, active) };
}
