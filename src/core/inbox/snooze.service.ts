import { AppError } from '../../shared/app-error.ts';
import { DAY_MS, HOUR_MS, type Clock } from '../../shared/clock.ts';
import type { SnoozePort } from '../ports/snooze.port.ts';
import { inScope } from '../teams/inbox-scope.ts';
import { localTime } from './automation-hours.ts';
import type { InboxEventBus } from './inbox-events.ts';
import type { TeamActor, TeamAudit } from './team.service.ts';

/** The snooze menu's choices, computed by the server in the organisation's time zone. */
export type SnoozePreset = 'in-1-hour' | 'tomorrow-9' | 'next-monday-9';

/** The furthest a conversation can be snoozed: a year (366 days, so that "the same day next year" fits). */
export const MAX_SNOOZE_MS = 366 * DAY_MS;
/** Due conversations one sweep wakes at most (the next sweep takes the rest). */
const SWEEP_LIMIT = 500;

export interface SnoozeDeps {
  snoozes: SnoozePort;
  events: InboxEventBus;
  clock: Clock;
  audit?: TeamAudit;
  /** The organisation's IANA time zone (organisation.timeZone): "tomorrow 09:00" is 09:00 there. */
  timeZone: string;
  /**
   * Schedules the wake-up (a job due at `until` on the shared job queue, so it survives restarts). A job that is
   * lost is made up for by {@link SnoozeService.wakeDue}, which a periodic sweep runs.
   */
  scheduleWake?: (conversationId: string, until: number) => Promise<void>;
}

/**
 * Snooze: an agent sets an open conversation aside until a time. It keeps its state ('open') but leaves the open
 * lists; it wakes at that time (by its job, or the sweep), earlier when the customer writes (the inbound touch ends
 * the snooze), or when an agent ends it. Every wake is one conditional update, so of several instances exactly one
 * wakes a conversation. Audit entries and live events are content-free: ids, times, reasons.
 */
export class SnoozeService {
  constructor(private readonly deps: SnoozeDeps) {}

  private assertStaff(actor: TeamActor): void {
    if (actor.role !== 'admin' && actor.role !== 'agent') {
      throw new AppError('FORBIDDEN', 'only admins and agents work on conversations');
    }
  }

  private async conversation(actor: TeamActor, id: string) {
    const c = await this.deps.snoozes.findConversation(id);
    // Invisible like unknown ones: waiting for consent, or in an inbox outside the actor's scope.
    if (!c || c.state === 'pending_consent' || !inScope(actor.scope, c.inbox_id)) {
      throw new AppError('NOT_FOUND', 'no such conversation');
    }
    return c;
  }

  /** The time a preset stands for, from `now`, in the organisation's time zone. */
  presetTime(preset: SnoozePreset, now: number = this.deps.clock.now().getTime()): number {
    if (preset === 'in-1-hour') return now + HOUR_MS;
    const local = localTime(now, this.deps.timeZone);
    const [y, m, d] = local.date.split('-').map(Number) as [number, number, number];
    let days = 1;
    if (preset === 'next-monday-9') {
      const weekday = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].indexOf(local.weekday);
      days = (1 - weekday + 7) % 7 || 7;
    }
    return zonedWallTime(y, m, d + days, 9 * 60, this.deps.timeZone);
  }

  /**
   * Snoozes an open conversation until `until` (epoch ms) or a preset's time; again with a new time moves the
   * wake-up. Refused: a time not in the future or more than a year ahead (VALIDATION, details.reason
   * 'until_in_past' / 'until_too_far'), a closed conversation (CONFLICT).
   */
  async snooze(
    actor: TeamActor,
    conversationId: string,
    input: { until?: number; preset?: SnoozePreset },
  ): Promise<{ snoozedUntil: number }> {
    this.assertStaff(actor);
    const now = this.deps.clock.now().getTime();
    const until = input.preset ? this.presetTime(input.preset, now) : input.until;
    if (until === undefined || !Number.isFinite(until)) {
      throw new AppError('VALIDATION', 'give a time (until) or a preset', { field: 'until' });
    }
    if (until <= now) {
      throw new AppError('VALIDATION', 'the wake-up time must be in the future', {
        field: 'until',
        reason: 'until_in_past',
      });
    }
    if (until > now + MAX_SNOOZE_MS) {
      throw new AppError('VALIDATION', 'a conversation can be snoozed for a year at most', {
        field: 'until',
        reason: 'until_too_far',
      });
    }
    const c = await this.conversation(actor, conversationId);
    if (c.state === 'closed' || !(await this.deps.snoozes.snooze(c.id, until))) {
      throw new AppError('CONFLICT', 'the conversation is closed');
    }
    await this.deps.audit?.append({
      actor: actor.name,
      action: 'conversation.snoozed',
      targetType: 'conversation',
      targetId: c.id,
      details: { until },
    });
    this.deps.events.publish({ type: 'conversation.updated', inboxId: c.inbox_id, conversationId: c.id });
    await this.deps.scheduleWake?.(c.id, until);
    return { snoozedUntil: until };
  }

  /** Ends a snooze now (an agent's choice: no unread marker). A conversation that is not snoozed stays as it is. */
  async unsnooze(actor: TeamActor, conversationId: string): Promise<void> {
    this.assertStaff(actor);
    const c = await this.conversation(actor, conversationId);
    if (c.state === 'closed') throw new AppError('CONFLICT', 'the conversation is closed');
    if (!(await this.deps.snoozes.wake(c.id, { attention: false }))) return;
    await this.woke(c.id, c.inbox_id, 'agent', actor.name);
  }

  /**
   * The wake-up job: wakes the conversation if it is still snoozed until `until` (not re-snoozed, woken or closed
   * meanwhile). True when this call woke it.
   */
  async wakeAt(conversationId: string, until: number): Promise<boolean> {
    const c = await this.deps.snoozes.findConversation(conversationId);
    if (!c || !(await this.deps.snoozes.wake(c.id, { expected: until, attention: true }))) return false;
    await this.woke(c.id, c.inbox_id, 'time', 'system');
    return true;
  }

  /** The sweep: wakes every conversation whose time has come (a job lost or late); answers how many it woke. */
  async wakeDue(): Promise<number> {
    let woken = 0;
    for (const d of await this.deps.snoozes.due(this.deps.clock.now().getTime(), SWEEP_LIMIT)) {
      if (!(await this.deps.snoozes.wake(d.id, { expected: d.snoozed_until, attention: true }))) continue;
      await this.woke(d.id, d.inbox_id, 'time', 'system');
      woken += 1;
    }
    return woken;
  }

  private async woke(id: string, inboxId: string, reason: 'time' | 'agent', actor: string): Promise<void> {
    await this.deps.audit?.append({
      actor,
      action: 'conversation.woken',
      targetType: 'conversation',
      targetId: id,
      details: { reason },
    });
    this.deps.events.publish({ type: 'conversation.updated', inboxId, conversationId: id });
  }
}

/** Epoch ms of a wall-clock time (day `d` may overflow the month) in an IANA time zone. */
export function zonedWallTime(y: number, m: number, d: number, minutes: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  let at = wall;
  // Two rounds settle the zone's offset, also next to a daylight-saving change.
  for (let i = 0; i < 2; i++) {
    const local = localTime(at, timeZone);
    const [ly, lm, ld] = local.date.split('-').map(Number) as [number, number, number];
    at = wall - (Date.UTC(ly, lm - 1, ld, 0, local.minutes) - at);
  }
  return at;
}
