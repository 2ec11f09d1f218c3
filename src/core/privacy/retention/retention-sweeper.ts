import type { Clock } from '../../../shared/clock.ts';
import type { Logger } from '../../../shared/logger.ts';
import { DAY_MS } from '../../../shared/clock.ts';
import type { ConversationRecord } from '../../ports/model.ts';
import type { RetentionPort } from '../../ports/retention.port.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ErasureService } from '../erasure/erasure.service.ts';
import { autoCloseMs, consentTimeoutMs, eraseAtFor, parseRetentionPolicy } from './retention-policy.ts';
import type { OutgoingEventSink } from '../../webhooks/outgoing-events.ts';
import type { ReportFactWrites } from '../../ports/report.port.ts';

export type EraseCause = 'consent-timeout' | 'retention';

/**
 * Called before the sweeper erases a conversation, so that the inbox can tell the customer (e.g. "we did not hear
 * back, your message has been deleted"). A hook that throws does not stop the erasure.
 */
export type BeforeEraseHook = (conversation: ConversationRecord, cause: EraseCause) => Promise<void>;

export interface SweepReport {
  at: number;
  /** Conversations erased because consent was not given in time. */
  consentTimeouts: number;
  /** Open conversations closed for inactivity. */
  autoClosed: number;
  /** Closed conversations erased because their retention ran out. */
  retentionErased: number;
  /** Contacts erased with their last conversation (consent timeout or retention; nothing else needed them). */
  contactsErased: number;
  auditPruned: number;
  /** Delivery statuses parked for a provider id that no message came to carry (content-free rows). */
  parkedStatusesExpired: number;
  /** Remembered inbound events (number changes) past the window in which a provider redelivers them. */
  inboundReceiptsExpired: number;
  /** Consent proof of erased contacts whose keeping period ended. */
  consentProofsExpired: number;
  hookFailures: number;
  /** Conversations the sweep could not finish (retried by the next sweep); ids and error codes only. */
  failures: { conversationId: string; error: string }[];
}

export interface RetentionSweeperOptions {
  beforeErase?: BeforeEraseHook;
  /** Rows fetched per query and erased between two scrubs. */
  batchSize?: number;
  /** Receives a content-free summary of each sweep that did something, and each failure (ids and codes only). */
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Resolution facts for the reports of conversations closed for inactivity (with their channel's kind). */
  reportFacts?: ReportFactWrites;
  channelKindOf?: (channelId: string) => string;
  /** Outgoing webhooks: 'conversation.closed' for conversations closed for inactivity. */
  events?: OutgoingEventSink;
}

/**
 * Enforces each inbox's retention policy: consent timeout → erase; inactivity → close with `erase_at`; closed past
 * `erase_at` → erase; audit entries past retention → pruned behind an anchor; parked delivery statuses past
 * their expiry → deleted. Every step is idempotent and looks
 * only at the current state of the rows, so a sweep interrupted anywhere (even between key destruction and row
 * deletion) is finished by the next one, and running it twice changes nothing more. Time comes from the Clock.
 */
export class RetentionSweeper {
  #beforeErase: BeforeEraseHook | undefined;
  readonly #batch: number;
  readonly #logger: Pick<Logger, 'info' | 'warn'> | undefined;
  readonly #events: OutgoingEventSink | undefined;
  readonly #facts: ReportFactWrites | undefined;
  readonly #kindOf: ((channelId: string) => string) | undefined;
  #running: Promise<SweepReport> | undefined;

  constructor(
    private readonly port: RetentionPort,
    private readonly erasure: ErasureService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    options: RetentionSweeperOptions = {},
  ) {
    this.#beforeErase = options.beforeErase;
    this.#batch = Math.max(1, options.batchSize ?? 200);
    this.#logger = options.logger;
    this.#events = options.events;
    this.#facts = options.reportFacts;
    this.#kindOf = options.channelKindOf;
  }

  /** Sets the hook called before each erasure (the inbox registers its customer notice here). */
  onBeforeErase(hook: BeforeEraseHook | undefined): void {
    this.#beforeErase = hook;
  }

  /** One sweep over every inbox. Concurrent calls in one process share the running sweep. */
  sweep(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<SweepReport> {
    const now = this.clock.now().getTime();
    const report: SweepReport = {
      at: now,
      consentTimeouts: 0,
      autoClosed: 0,
      retentionErased: 0,
      contactsErased: 0,
      auditPruned: 0,
      parkedStatusesExpired: 0,
      inboundReceiptsExpired: 0,
      consentProofsExpired: 0,
      hookFailures: 0,
      failures: [],
    };
    const failed = new Set<string>();
    let auditDays = 0;
    for (const inbox of await this.port.listInboxes()) {
      const policy = parseRetentionPolicy(inbox.settings);
      auditDays = Math.max(auditDays, policy.auditRetentionDays);

      if (policy.consentTimeoutHours > 0) {
        const cutoff = now - consentTimeoutMs(policy);
        await this.#eraseAll(
          (limit) => this.port.dueConsentTimeouts(inbox.id, cutoff, limit, [...failed]),
          'consent-timeout',
          failed,
          report,
        );
      }

      if (policy.autoCloseAfterDays > 0) {
        const cutoff = now - autoCloseMs(policy);
        for (;;) {
          const due = await this.port.dueInactive(inbox.id, cutoff, this.#batch, [...failed]);
          for (const conversation of due) {
            if (await this.port.closeInactive(conversation.id, cutoff, now, eraseAtFor(policy, now))) {
              report.autoClosed++;
              // Resolved when the conversation went quiet, not when the sweep noticed it.
              await this.#facts?.record([
                {
                  kind: 'resolution',
                  at: now,
                  inboxId: inbox.id,
                  channelKind: this.#kindOf?.(conversation.channel_id) ?? 'unknown',
                  agentId: conversation.assignee_id,
                  durationMs: Math.max(0, conversation.last_activity_at - conversation.created_at),
                  score: null,
                },
              ]);
              await this.audit.append({
                actor: 'system',
                action: 'conversation.closed',
                targetType: 'conversation',
                targetId: conversation.id,
                details: { reason: 'inactivity', eraseAfterCloseDays: policy.eraseAfterCloseDays },
              });
              await this.#events?.emit({
                type: 'conversation.closed',
                occurredAt: now,
                channelId: conversation.channel_id,
                inboxId: inbox.id,
                conversationId: conversation.id,
                contactId: conversation.contact_id,
                details: { reason: 'inactivity', eraseAfterCloseDays: policy.eraseAfterCloseDays },
              });
            }
          }
          if (due.length < this.#batch) break;
        }
      }

      await this.#eraseAll(
        (limit) => this.port.dueErasures(inbox.id, now, policy.eraseAfterCloseDays * DAY_MS, limit, [...failed]),
        'retention',
        failed,
        report,
      );
    }

    if (auditDays > 0) {
      const before = now - auditDays * DAY_MS;
      let pruned = 0;
      for (;;) {
        const n = await this.audit.prune(before, 10_000);
        pruned += n;
        if (n < 10_000) break;
      }
      report.auditPruned = pruned;
      if (pruned > 0) {
        await this.audit.append({
          actor: 'system',
          action: 'audit.pruned',
          details: { pruned, retentionDays: auditDays },
        });
      }
    }
    report.parkedStatusesExpired = await this.port.expireParkedStatuses(now);
    report.inboundReceiptsExpired = await this.port.expireInboundReceipts(now);
    report.consentProofsExpired = await this.port.expireConsentProofs(now);
    const { failures, at: _at, ...counts } = report;
    if (Object.values(counts).some((n) => n > 0) || failures.length > 0) {
      this.#logger?.info({ ...counts, failures: failures.length }, 'retention sweep');
    }
    for (const f of failures)
      this.#logger?.warn(f, 'retention sweep could not erase a conversation; retried next sweep');
    return report;
  }

  async #eraseAll(
    fetch: (limit: number) => Promise<ConversationRecord[]>,
    cause: EraseCause,
    failed: Set<string>,
    report: SweepReport,
  ): Promise<void> {
    const request = { actor: 'system', reason: cause };
    for (;;) {
      const due = await fetch(this.#batch);
      for (const conversation of due) {
        if (!this.#beforeErase) break;
        try {
          await this.#beforeErase(conversation, cause);
        } catch {
          report.hookFailures++;
        }
      }
      // The whole batch in three commits; when that fails, one by one, so that one bad row does not hold up the rest.
      let erased: ConversationRecord[] = [];
      try {
        await this.erasure.eraseConversations(
          due.map((c) => c.id),
          request,
          { deferScrub: true },
        );
        erased = due;
      } catch {
        for (const conversation of due) {
          try {
            await this.erasure.eraseConversation(conversation.id, request, { deferScrub: true });
            erased.push(conversation);
          } catch (error) {
            failed.add(conversation.id);
            const code = (error as { code?: unknown }).code;
            report.failures.push({ conversationId: conversation.id, error: typeof code === 'string' ? code : 'ERROR' });
          }
        }
      }
      for (const conversation of erased) {
        if (cause !== 'consent-timeout') report.retentionErased++;
        else report.consentTimeouts++;
        try {
          // Nothing else needs the contact (its last conversation is gone): its pseudonym and sealed address go too.
          const contact = await this.erasure.eraseContactIfOrphan(conversation.contact_id, request, {
            deferScrub: true,
          });
          if (contact && !contact.alreadyErased) report.contactsErased++;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          report.failures.push({ conversationId: conversation.id, error: typeof code === 'string' ? code : 'ERROR' });
        }
      }
      if (due.length > 0) await this.erasure.scrub();
      if (due.length < this.#batch) break;
    }
  }
}
