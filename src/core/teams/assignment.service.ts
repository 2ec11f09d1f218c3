import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { InboxEventBus } from '../inbox/inbox-events.ts';
import type { NotifyUserPort } from '../ports/notify.port.ts';
import type { AssignmentPort, MembershipPort } from '../ports/teams.port.ts';
import type { UserRecord } from '../ports/model.ts';
import type { TeamsAudit, TeamsService } from './teams.service.ts';

/** At most this many waiting conversations are handed out per inbox and run (the next run takes the rest). */
const BATCH = 100;
const ACTOR = 'system:assignment';

export interface AssignmentDeps {
  teams: TeamsService;
  memberships: Pick<MembershipPort, 'membersOfInbox' | 'markAssigned'>;
  conversations: AssignmentPort;
  users: { listUsers(): Promise<UserRecord[]> };
  events: InboxEventBus;
  notify: NotifyUserPort;
  audit: TeamsAudit;
  clock: Clock;
  logger: Logger;
}

/**
 * Auto-assignment and the offline rule, per inbox as its admin set them:
 * - round robin: each waiting (open, unassigned) conversation, oldest first, goes to the online member of the inbox
 *   who was given one longest ago, skipping members at the inbox's maximum of open conversations;
 * - offline: with `offline: 'unassign'` the open conversations of a member offline for `offlineAfterMinutes` return
 *   to unassigned (and to the round robin).
 * Runs on every new visible conversation, when an agent becomes available, and once a minute (a job). Runs of one
 * process never overlap; across instances a conversation is assigned only while it is still unassigned.
 */
export class AssignmentService {
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: AssignmentDeps) {}

  /** Runs the offline rule and the round robin for one inbox, or every inbox. */
  run(inboxId?: string): Promise<void> {
    const next = this.#running.then(() => this.#run(inboxId));
    this.#running = next.catch((error: unknown) => {
      this.deps.logger.warn({ err: (error as Error).name }, 'assignment run failed');
    });
    return next;
  }

  async #run(only: string | undefined): Promise<void> {
    const inboxIds = only ? [only] : await this.deps.teams.allInboxIds();
    const availability = await this.deps.teams.availabilities();
    const users = new Map(
      (await this.deps.users.listUsers()).filter((u) => !u.disabled && u.role !== 'dpo').map((u) => [u.id, u]),
    );
    const now = this.deps.clock.now().getTime();
    for (const inboxId of inboxIds) {
      const settings = await this.deps.teams.assignmentSettings(inboxId);
      if (settings.offline === 'unassign') {
        const counts = await this.deps.conversations.openCountsByAssignee(inboxId);
        for (const userId of counts.keys()) {
          const a = availability.get(userId) ?? { availability: 'offline', since: 0 };
          const offlineLongEnough =
            a.availability === 'offline' && now - a.since >= settings.offlineAfterMinutes * 60_000;
          // A disabled account is offline for good.
          if (!offlineLongEnough && users.has(userId)) continue;
          const ids = await this.deps.conversations.unassignOpen(inboxId, userId);
          for (const id of ids) {
            await this.deps.audit.append({
              actor: ACTOR,
              action: 'conversation.assigned',
              targetType: 'conversation',
              targetId: id,
              details: { assignee: null, reason: 'offline', previous: userId },
            });
            this.deps.events.publish({ type: 'conversation.updated', inboxId, conversationId: id });
          }
        }
      }
      if (!settings.auto) continue;
      const waiting = await this.deps.conversations.unassignedOpen(inboxId, BATCH);
      if (waiting.length === 0) continue;
      const members = (await this.deps.memberships.membersOfInbox(inboxId)).filter(
        (m) => users.has(m.userId) && availability.get(m.userId)?.availability === 'online',
      );
      if (members.length === 0) continue;
      const counts = await this.deps.conversations.openCountsByAssignee(inboxId);
      for (const conversation of waiting) {
        const candidates = members
          .filter((m) => settings.maxOpenPerAgent <= 0 || (counts.get(m.userId) ?? 0) < settings.maxOpenPerAgent)
          .sort((a, b) => (a.lastAssignedAt ?? -1) - (b.lastAssignedAt ?? -1) || a.userId.localeCompare(b.userId));
        const chosen = candidates[0];
        if (!chosen) break;
        if (!(await this.deps.conversations.assignIfUnassigned(conversation.id, chosen.userId))) continue;
        // Strictly after every member's last turn, so that two turns in the same millisecond keep their order.
        const latest = Math.max(...members.map((m) => m.lastAssignedAt ?? 0));
        const at = Math.max(this.deps.clock.now().getTime(), latest + 1);
        chosen.lastAssignedAt = at;
        counts.set(chosen.userId, (counts.get(chosen.userId) ?? 0) + 1);
        await this.deps.memberships.markAssigned(inboxId, chosen.userId, at);
        await this.deps.audit.append({
          actor: ACTOR,
          action: 'conversation.assigned',
          targetType: 'conversation',
          targetId: conversation.id,
          details: { assignee: chosen.userId, reason: 'round-robin' },
        });
        this.deps.events.publish({ type: 'conversation.updated', inboxId, conversationId: conversation.id });
        await this.deps.notify.notify({
          kind: 'assigned',
          userId: chosen.userId,
          inboxId,
          conversationId: conversation.id,
        });
      }
    }
  }
}
