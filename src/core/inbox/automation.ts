import { HOUR_MS, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ConversationRecord } from '../ports/model.ts';
import { isBusinessHours, type BusinessHours } from './automation-hours.ts';
import type { InboxEventBus } from './inbox-events.ts';
import type { AuditPort, ConsentPort, InboxSettingsPort } from './inbox.ports.ts';
import type { MessageContent } from './message-content.ts';
import { isKeyword, keywordOf } from './notices.ts';
import type { Outbox } from './outbox.ts';

/**
 * The text of an automated message: one text, or one per language (the inbox's language is sent, else the other).
 */
export type AutomationText = string | { de?: string | undefined; en?: string | undefined };

/** The text to send in an inbox of `language`; undefined when there is none. */
export function automationTextFor(text: AutomationText | undefined, language: 'de' | 'en'): string | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'string') return text.trim() ? text : undefined;
  const other = language === 'de' ? 'en' : 'de';
  return [text[language], text[other]].find((t) => typeof t === 'string' && t.trim() !== '');
}

/**
 * Greeting and away message of an inbox (config `inboxes[].automation`, changed by an admin in the UI); each part
 * absent = off.
 */
export interface AutomationSettings {
  greeting?: AutomationText | undefined;
  away?:
    | {
        text: AutomationText;
        cooldownHours: number;
        timeZone: string;
        /** Opening hours per weekday ("HH:MM-HH:MM"). */
        hours: BusinessHours['weekly'];
        holidays?: readonly string[] | undefined;
      }
    | undefined;
}

/** Marketing consent by keyword (config `inboxes[].marketing`). */
export interface MarketingKeywords {
  optInKeywords: readonly string[];
  optOutKeywords: readonly string[];
  optInReply?: string | undefined;
  optOutReply?: string | undefined;
}

/** A customer's message that was committed as new, as the inbox hands it over after the commit. */
export interface InboundCommitted {
  conversationId: string;
  contactId: string;
  channelId: string;
  inboxId: string;
  messageId: string;
  text?: string | undefined;
}

/** What the inbox core calls after a webhook's messages were committed (optional InboxDeps.automation). */
export interface AutomationHook {
  afterInbound(message: InboundCommitted): Promise<void>;
}

export interface AutomationDeps {
  clock: Clock;
  logger: Logger;
  settings: InboxSettingsPort;
  conversations: { findById(id: string): Promise<ConversationRecord | undefined> };
  consent: ConsentPort;
  audit: AuditPort;
  events: InboxEventBus;
  /** Writes the replies (greeting and away message with their cooldown claim, keyword replies). */
  outbox: Outbox;
}

const DEFAULT_REPLIES = {
  de: {
    optIn: (stop: string) =>
      `Danke! Sie erhalten ab jetzt unsere Neuigkeiten über diesen Kanal. Abbestellen jederzeit mit „${stop}“.`,
    optOut: 'Sie erhalten keine Neuigkeiten mehr. Ihre Anfragen an uns beantworten wir weiterhin.',
  },
  en: {
    optIn: (stop: string) =>
      `Thank you! You will now receive our news on this channel. Reply "${stop}" to unsubscribe.`,
    optOut: 'You will not receive any more news. We will still answer your requests.',
  },
} as const;

/**
 * Automated messages and marketing keywords, run after the inbox committed a customer's message (never inside the
 * webhook's transaction; a failure is logged and never fails the webhook):
 * - marketing opt-in keyword in an open conversation: marketing consent granted (the message is the evidence) and
 *   confirmed; opt-out keyword: marketing consent withdrawn at once (service consent stays) and confirmed;
 * - greeting: once per conversation, when the conversation is open (after consent);
 * - away message: outside the inbox's business hours, at most once per conversation per `cooldownHours`.
 * Every reply is a normal outbound message, queued through the outbox (src/core/inbox/outbox.ts).
 */
export class AutomationService implements AutomationHook {
  constructor(private readonly deps: AutomationDeps) {}

  async afterInbound(m: InboundCommitted): Promise<void> {
    // The settings first (cached): most messages meet neither a keyword nor an automation, and then the
    // conversation is not read at all.
    const inbox = await this.deps.settings.get(m.inboxId);
    if (!inbox) return;
    const marketing = inbox.marketing;
    const keyword =
      marketing !== undefined &&
      m.text !== undefined &&
      (isKeyword(m.text, marketing.optOutKeywords) ||
        (marketing.optInKeywords.length > 0 && isKeyword(m.text, marketing.optInKeywords)));
    if (!keyword && !inbox.automation) return;
    const conversation = await this.deps.conversations.findById(m.conversationId);
    if (!conversation || conversation.state !== 'open') return; // waiting for consent, declined, erased or closed
    const lang = inbox.language;
    if (marketing && m.text !== undefined) {
      if (isKeyword(m.text, marketing.optOutKeywords)) {
        await this.#optOut(conversation, m, marketing, lang);
      } else if (marketing.optInKeywords.length > 0 && isKeyword(m.text, marketing.optInKeywords)) {
        await this.#optIn(conversation, m, marketing, lang);
      }
    }
    const automation = inbox.automation;
    if (!automation) return;
    const now = this.deps.clock.now().getTime();
    const greeting = automationTextFor(automation.greeting, lang);
    if (greeting) {
      await this.#queue(conversation, 'greeting', null, { text: greeting, extra: { automated: 'greeting' } });
    }
    const away = automation.away;
    const awayText = automationTextFor(away?.text, lang);
    if (
      away &&
      awayText &&
      !isBusinessHours(now, { timeZone: away.timeZone, weekly: away.hours, holidays: away.holidays ?? [] })
    ) {
      await this.#queue(conversation, 'away', away.cooldownHours * HOUR_MS, {
        text: awayText,
        extra: { automated: 'away' },
      });
    }
  }

  async #optIn(c: ConversationRecord, m: InboundCommitted, k: MarketingKeywords, lang: 'de' | 'en'): Promise<void> {
    const status = await this.deps.consent.status(m.contactId, 'marketing');
    if (!status.allowed) {
      await this.deps.consent.grant({
        contactId: m.contactId,
        channelId: m.channelId,
        purpose: 'marketing',
        noticeVersion: null,
        method: `keyword:${(keywordOf(m.text) ?? 'NEWS').replace(/\s+/g, '-')}`,
        evidenceMessageId: m.messageId,
      });
      await this.deps.audit.append({
        actor: `webhook:${m.channelId}`,
        action: 'consent.grant',
        targetType: 'contact',
        targetId: m.contactId,
        details: { purpose: 'marketing', method: 'keyword', conversationId: c.id },
      });
    }
    const stop = k.optOutKeywords[0] ?? 'NEWS STOP';
    await this.#reply(c, k.optInReply ?? DEFAULT_REPLIES[lang].optIn(stop));
  }

  async #optOut(c: ConversationRecord, m: InboundCommitted, k: MarketingKeywords, lang: 'de' | 'en'): Promise<void> {
    const status = await this.deps.consent.status(m.contactId, 'marketing');
    if (status.allowed) {
      await this.deps.consent.withdraw({
        contactId: m.contactId,
        channelId: m.channelId,
        purpose: 'marketing',
        method: `keyword:${(keywordOf(m.text) ?? 'NEWS-STOP').replace(/\s+/g, '-')}`,
        evidenceMessageId: m.messageId,
      });
      await this.deps.audit.append({
        actor: `webhook:${m.channelId}`,
        action: 'consent.withdraw',
        targetType: 'contact',
        targetId: m.contactId,
        details: { purpose: 'marketing', method: 'keyword', conversationId: c.id },
      });
    }
    await this.#reply(c, k.optOutReply ?? DEFAULT_REPLIES[lang].optOut);
  }

  async #reply(c: ConversationRecord, text: string): Promise<void> {
    const content: MessageContent = { text, extra: { automated: 'marketing' } };
    const [queued] = (await this.deps.outbox.queue([{ conversation: c, kind: 'text', content }]))!;
    this.#announce(c, queued!.messageId);
  }

  async #queue(c: ConversationRecord, kind: string, cooldownMs: number | null, content: MessageContent): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const queued = await this.deps.outbox.queue([{ conversation: c, kind: 'text', content }], {
      guard: (tx, [messageId]) =>
        tx.marketing.claimAutomatedSend({ kind, conversationId: c.id, cooldownMs, now, messageId: messageId! }),
    });
    if (queued) this.#announce(c, queued[0]!.messageId);
  }

  #announce(c: ConversationRecord, messageId: string): void {
    this.deps.events.publish({ type: 'message.created', inboxId: c.inbox_id, conversationId: c.id, messageId });
  }
}
