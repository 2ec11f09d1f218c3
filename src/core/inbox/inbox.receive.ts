import type {
  Channel,
  InboundEdit,
  InboundEvent,
  InboundMessage,
  InboundRevoke,
  InboundStatus,
  InboundSystem,
} from '../channel/channel.port.ts';
import { newId } from '../../shared/ids.ts';
import type { ContactRecord, ConversationRecord, MessageRecord } from '../ports/model.ts';
import type { InboxTx } from '../ports/conversation.port.ts';
import type { InboxEvent } from './inbox-events.ts';
import {
  INBOUND_RECEIPT_TTL_MS,
  messageStamp,
  PARKED_STATUS_TTL_MS,
  type InboxDeps,
  type InboxSettings,
} from './inbox.ports.ts';
import { openMessageContent, sealMessageContent, type MessageContent } from './message-content.ts';
import {
  AGREE_KEYWORDS,
  CONSENT_AGREE_ID,
  CONSENT_DECLINE_ID,
  DECLINE_KEYWORDS,
  declineReply,
  isKeyword,
  keywordOf,
  mediaRejectedReply,
  privacyNotice,
  stopConfirmation,
} from './notices.ts';

/** What the customer's message means for the consent gate. */
type Intent =
  { kind: 'stop' } | { kind: 'agree'; method: string } | { kind: 'decline'; method: string } | { kind: 'plain' };

interface PreparedMessage {
  event: InboundMessage;
  channel: Channel;
  inbox: InboxSettings;
  contact: ContactRecord;
  consentAllowed: boolean;
  intent: Intent;
}

/** A follow-up step that runs after the transaction committed (it calls services outside the inbox's store). */
type FollowUp =
  | { kind: 'agree'; prepared: PreparedMessage; conversationId: string; messageId: string }
  | { kind: 'decline'; prepared: PreparedMessage; conversationId: string; messageId: string }
  | { kind: 'stop'; prepared: PreparedMessage };

/** A message row built in the transaction, with what to do once it is known to be new. */
interface Staged {
  prepared: PreparedMessage;
  row: MessageRecord;
  conversation: ConversationRecord;
  created: boolean;
  pending: boolean;
  needsFollowUp: boolean;
}

/** What one group transaction collects while it runs. */
interface GroupState {
  published: InboxEvent[];
  followUps: FollowUp[];
  staged: Staged[];
  existing: Map<string, Pick<MessageRecord, 'id' | 'conversation_id' | 'handled'>>;
  current: Map<string, ConversationRecord>;
  created: Set<string>;
  /** Messages committed as new, handed to the automation hook after the commit. */
  fresh: Staged[];
  /** Statuses parked for provider ids no message carried yet, looked at again after the commit. */
  parked: InboundStatus[];
}

/** One webhook's events waiting for the next group commit. */
interface Submission {
  events: readonly InboundEvent[];
  resolve(): void;
  reject(error: unknown): void;
}

const DEFAULT_DIRECT_SEND_TIMEOUT_MS = 4000;
/** Contact lookups and consent checks run at once while a group is prepared. */
const PREPARE_CONCURRENCY = 8;
/** Largest number of events committed together (several webhooks that arrived while the previous group ran). */
const MAX_GROUP_EVENTS = 1000;

/**
 * Turns webhooks' inbound events into rows: contacts, conversations, sealed messages, media rows, queued replies
 * and jobs, and answers each webhook only after its rows are committed.
 *
 * Group commit: webhooks arriving while a transaction runs wait and are written together in the next one (one
 * durable commit for many messages, which is what lets a synced SQLite file take thousands of messages a second);
 * if a group fails, each of its webhooks is retried alone so that one bad request cannot fail the others. The
 * consent follow-ups (grant, decline, STOP) run after the commit, each idempotent, and mark their message handled
 * at the end, so a provider's retry after a crash finishes them and never stores a second message or notice.
 */
export class InboundProcessor {
  readonly #queue: Submission[] = [];
  #running = false;

  constructor(private readonly deps: InboxDeps) {}

  receive(events: readonly InboundEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (;;) {
        // Let the event loop read the requests that arrived meanwhile before the group is formed: with SQLite the
        // work below runs without yielding (its calls are synchronous), so without this turn every group would
        // hold one webhook.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.#queue.length === 0) break;
        const group: Submission[] = [];
        let size = 0;
        while (
          this.#queue.length > 0 &&
          (group.length === 0 || size + this.#queue[0]!.events.length <= MAX_GROUP_EVENTS)
        ) {
          const next = this.#queue.shift()!;
          group.push(next);
          size += next.events.length;
        }
        try {
          await this.#process(group.flatMap((g) => g.events));
          for (const g of group) g.resolve();
        } catch (error) {
          if (group.length === 1) {
            group[0]!.reject(error);
            continue;
          }
          for (const g of group) {
            try {
              await this.#process(g.events);
              g.resolve();
            } catch (alone) {
              g.reject(alone);
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #process(events: readonly InboundEvent[]): Promise<void> {
    const others: InboundEvent[] = [];
    const messages: InboundMessage[] = [];
    const sequential = events.some((e) => e.type === 'system');
    const contacts = new Map<string, Promise<ContactRecord>>();
    const prepare = (event: InboundMessage) => this.#prepare(event, contacts);
    const prepared: PreparedMessage[] = [];
    for (const event of events) {
      if (event.type === 'message') {
        // A changed number in the group: keep the order, so later messages find the contact under its new number.
        if (sequential) {
          const p = await prepare(event);
          if (p) prepared.push(p);
        } else messages.push(event);
      } else if (event.type === 'system') {
        await this.#system(event);
      } else if (event.type === 'error') {
        this.deps.logger.warn({ channelId: event.channelId, providerCode: event.code }, 'provider reported an error');
      } else {
        others.push(event);
      }
    }
    // Contact lookups are independent of each other: several at once (PostgreSQL answers them in parallel).
    for (const p of await mapLimit(messages, PREPARE_CONCURRENCY, prepare)) if (p) prepared.push(p);
    // Consent matters only where a new conversation may be opened: contacts without a current one.
    const contactIds = [...new Set(prepared.map((p) => p.contact.id))];
    const withCurrent = new Set(
      (await this.deps.conversations.findCurrentForContacts(contactIds)).map((c) => c.contact_id),
    );
    const allowed = new Map<string, boolean>();
    const needConsent = contactIds.filter((id) => !withCurrent.has(id));
    const statuses = await mapLimit(needConsent, PREPARE_CONCURRENCY, (id) => this.deps.consent.status(id, 'service'));
    needConsent.forEach((id, i) => allowed.set(id, statuses[i]!.allowed));
    for (const p of prepared) p.consentAllowed = allowed.get(p.contact.id) ?? false;

    let state: GroupState | undefined;
    await this.deps.transactions.run(async (tx) => {
      state = {
        published: [],
        followUps: [],
        staged: [],
        existing: new Map(),
        current: new Map(),
        created: new Set(),
        fresh: [],
        parked: [],
      };
      const byChannel = new Map<string, string[]>();
      for (const p of prepared)
        byChannel.set(p.channel.id, [...(byChannel.get(p.channel.id) ?? []), p.event.providerMessageId]);
      for (const [channelId, ids] of byChannel) {
        for (const m of await tx.messages.findByProviderIds(channelId, ids)) {
          state.existing.set(`${channelId}\0${m.provider_message_id}`, m);
        }
      }
      for (const c of await tx.conversations.findCurrentForContacts(contactIds)) state.current.set(c.contact_id, c);
      for (const p of prepared) {
        if (p.intent.kind === 'stop') state.followUps.push({ kind: 'stop', prepared: p });
        else await this.#stageMessage(tx, p, state);
      }
      await this.#commitStaged(tx, state);
      for (const event of others) {
        if (event.type === 'status') await this.#status(tx, event, state);
        else if (event.type === 'edit') await this.#edit(tx, event, state.published);
        else if (event.type === 'revoke') await this.#revoke(tx, event, state.published);
      }
    });
    if (!state) return;
    if (state.parked.length > 0) await this.#recheckParked(state.parked, state.published);
    for (const e of state.published) this.deps.events.publish(e);
    for (const step of state.followUps) {
      if (step.kind === 'agree') await this.#agree(step);
      else if (step.kind === 'decline') await this.#decline(step);
      else await this.#stop(step.prepared);
    }
    if (this.deps.automation) await this.#automate(state.fresh);
  }

  /** Greeting, away message and marketing keywords (automation.ts), after the commit; never fails the webhook. */
  async #automate(fresh: readonly Staged[]): Promise<void> {
    for (const s of fresh) {
      try {
        await this.deps.automation!.afterInbound({
          conversationId: s.conversation.id,
          contactId: s.prepared.contact.id,
          channelId: s.prepared.channel.id,
          inboxId: s.prepared.inbox.id,
          messageId: s.row.id,
          text: s.prepared.event.kind === 'text' ? s.prepared.event.text : undefined,
        });
      } catch (error) {
        this.deps.logger.warn(
          { conversationId: s.conversation.id, err: error instanceof Error ? error.name : 'unknown' },
          'automated reply failed',
        );
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- messages

  async #prepare(
    event: InboundMessage,
    contacts: Map<string, Promise<ContactRecord>>,
  ): Promise<PreparedMessage | undefined> {
    const channel = this.deps.channels.get(event.channelId);
    if (!channel) {
      this.deps.logger.warn({ channelId: event.channelId }, 'inbound message for an unknown channel dropped');
      return undefined;
    }
    const inbox = await this.#inbox(channel.inboxId);
    const cacheKey = `${channel.id}\0${event.address}`;
    let contact = contacts.get(cacheKey);
    if (!contact) {
      contact = this.deps.contacts
        .findOrCreate({
          inboxId: inbox.id,
          channelId: channel.id,
          channelKind: channel.kind,
          address: event.address,
          ...(event.profileName ? { profileName: event.profileName } : {}),
        })
        .then((r) => r.contact);
      contacts.set(cacheKey, contact);
    }
    return { event, channel, inbox, contact: await contact, consentAllowed: false, intent: intentOf(event, inbox) };
  }

  /** Builds the message row (and opens a conversation, queues the notice, registers media) inside the transaction. */
  async #stageMessage(tx: InboxTx, p: PreparedMessage, state: GroupState): Promise<void> {
    const { event, channel, inbox, contact } = p;
    const now = this.#now();
    const existing = state.existing.get(`${channel.id}\0${event.providerMessageId}`);
    if (existing) {
      // A provider's retry: nothing new is stored; unfinished follow-ups are finished.
      if (!existing.handled) this.#pushFollowUp(p, existing.conversation_id, existing.id, state.followUps);
      return;
    }
    if (
      state.staged.some((s) => s.row.channel_id === channel.id && s.row.provider_message_id === event.providerMessageId)
    ) {
      return; // the same message twice in one group (a retry that arrived while the first was waiting)
    }

    let conversation = state.current.get(contact.id);
    if (!conversation) {
      conversation = await this.deps.outbox.openConversation(tx, {
        inboxId: p.inbox.id,
        channelId: p.channel.id,
        contact: p.contact,
        state: p.consentAllowed ? 'open' : 'pending_consent',
        now,
      });
      state.current.set(contact.id, conversation);
      state.created.add(conversation.id);
    }
    const created = state.created.has(conversation.id);
    const pending = conversation.state === 'pending_consent';
    const key = await this.deps.keys.dataKeyFor('conversation', conversation.id);
    // Only an answer to a notice already sent counts: a first message "JA" is a message, not a consent.
    const needsFollowUp =
      pending &&
      !created &&
      conversation.consent_requested_at !== null &&
      (p.intent.kind === 'agree' || p.intent.kind === 'decline');

    const messageId = newId();
    let mediaId: string | null = null;
    let rejectMedia = false;
    if (event.media) {
      mediaId = newId();
      rejectMedia = inbox.media === 'reject';
    }
    const content: MessageContent = {
      ...(event.text !== undefined ? { text: event.text } : {}),
      // The provider's id travels sealed with the content (read receipts need it); the messages table keeps only a
      // keyed hash of it, since a WhatsApp id carries the customer's number.
      ...(event.providerMessageId || event.buttonId || event.media || event.extra || event.replyToProviderMessageId
        ? {
            extra: {
              ...(event.extra ?? {}),
              providerMessageId: event.providerMessageId,
              ...(event.buttonId ? { buttonId: event.buttonId } : {}),
              ...(event.replyToProviderMessageId ? { replyTo: event.replyToProviderMessageId } : {}),
              ...(event.media
                ? {
                    media: {
                      providerMediaId: event.media.providerMediaId,
                      mimeType: event.media.mimeType ?? null,
                      fileName: event.media.fileName ?? null,
                      sha256: event.media.sha256 ?? null,
                      size: event.media.size ?? null,
                    },
                  }
                : {}),
            },
          }
        : {}),
    };
    const row: MessageRecord = {
      id: messageId,
      conversation_id: conversation.id,
      channel_id: channel.id,
      direction: 'in',
      kind: event.kind,
      provider_message_id: event.providerMessageId,
      status: pending ? 'held' : 'received',
      body_enc: sealMessageContent(key, messageId, content),
      media_id: mediaId,
      author_id: null,
      error_code: null,
      error_reason: null,
      created_at: messageStamp(now),
      updated_at: now,
      edited: false,
      deleted: false,
      handled: !needsFollowUp,
    };

    if (mediaId) {
      // A message with an attachment is written at once: its media row and fetch job refer to it.
      if (!(await tx.messages.insertUnlessDuplicate(row))) return;
      await tx.media.insert({
        id: mediaId,
        conversation_id: conversation.id,
        message_id: messageId,
        mime_type: event.media?.mimeType ?? 'application/octet-stream',
        size: event.media?.size ?? 0,
        data_enc: null,
        state: rejectMedia ? 'rejected' : 'pending',
        created_at: now,
      });
      if (!rejectMedia) {
        await tx.enqueue('media-fetch', { mediaId }, { dedupeKey: `media-fetch:${mediaId}` });
      } else if ((await tx.media.countByState(conversation.id, 'rejected')) === 1) {
        // The first refused attachment of this conversation gets the polite text-only reply; later ones do not.
        const reply = await this.deps.outbox.queueIn(tx, {
          conversation,
          kind: 'text',
          content: { text: mediaRejectedReply(inbox.language) },
        });
        if (!pending) state.published.push(this.#messageCreated(conversation, reply.messageId));
      }
    }
    if (pending && conversation.consent_requested_at === null) {
      await this.#queueNotice(tx, conversation, p, now);
    }
    state.staged.push({ prepared: p, row, conversation, created, pending, needsFollowUp });
  }

  /** Inserts the staged rows in one statement and applies their effects for those that were new. */
  async #commitStaged(tx: InboxTx, state: GroupState): Promise<void> {
    const batch = state.staged.filter((s) => s.row.media_id === null);
    const inserted =
      batch.length > 0 ? await tx.messages.insertManyUnlessDuplicate(batch.map((s) => s.row)) : new Set();
    const touches = new Map<string, { at: number; unread: number; conversation: ConversationRecord }>();
    const announced = new Set<string>();
    for (const s of state.staged) {
      if (s.row.media_id === null && !inserted.has(s.row.id)) continue;
      state.fresh.push(s);
      const { conversation, prepared: p } = s;
      const inboundAt = Math.min(p.event.sentAt, s.row.updated_at);
      const t = touches.get(conversation.id) ?? { at: 0, unread: 0, conversation };
      t.at = Math.max(t.at, inboundAt);
      t.unread += s.pending ? 0 : 1;
      touches.set(conversation.id, t);
      if (!s.pending) {
        if (s.created && !announced.has(conversation.id)) {
          state.published.push({
            type: 'conversation.created',
            inboxId: conversation.inbox_id,
            conversationId: conversation.id,
          });
          announced.add(conversation.id);
        }
        state.published.push(this.#messageCreated(conversation, s.row.id));
      }
      if (s.needsFollowUp) this.#pushFollowUp(p, conversation.id, s.row.id, state.followUps);
    }
    await tx.reportFacts.record(
      state.staged
        .filter((s) => s.row.media_id !== null || inserted.has(s.row.id))
        .map((s) => ({
          kind: 'message_in' as const,
          at: s.row.updated_at,
          inboxId: s.conversation.inbox_id,
          channelKind: this.deps.channels.get(s.conversation.channel_id)?.kind ?? 'unknown',
          agentId: null,
          durationMs: null,
          score: null,
        })),
    );
    for (const [id, t] of touches) {
      await tx.conversations.touchInbound(id, t.at, t.unread);
      if (!state.created.has(id) && t.conversation.state !== 'pending_consent') {
        state.published.push({ type: 'conversation.updated', inboxId: t.conversation.inbox_id, conversationId: id });
      }
    }
  }

  #pushFollowUp(p: PreparedMessage, conversationId: string, messageId: string, followUps: FollowUp[]): void {
    if (p.intent.kind === 'agree') followUps.push({ kind: 'agree', prepared: p, conversationId, messageId });
    else if (p.intent.kind === 'decline') followUps.push({ kind: 'decline', prepared: p, conversationId, messageId });
  }

  /** Queues the privacy notice once per conversation and records which text was sent. */
  async #queueNotice(tx: InboxTx, conversation: ConversationRecord, p: PreparedMessage, now: number): Promise<void> {
    const notice = privacyNotice(p.inbox, this.deps.organisation, p.channel.capabilities.supportsButtons);
    const version = this.deps.noticeVersion(notice.text);
    await this.deps.outbox.queueIn(tx, {
      conversation,
      kind: notice.buttons ? 'buttons' : 'text',
      content: { text: notice.text, ...(notice.buttons ? { buttons: notice.buttons } : {}), extra: { notice: true } },
    });
    await tx.conversations.update(conversation.id, { consent_requested_at: now, notice_version: version });
    conversation.consent_requested_at = now;
    conversation.notice_version = version;
  }

  #messageCreated(conversation: ConversationRecord, messageId: string): InboxEvent {
    return { type: 'message.created', inboxId: conversation.inbox_id, conversationId: conversation.id, messageId };
  }

  // --------------------------------------------------------------------------------------------- follow-ups

  async #agree(step: Extract<FollowUp, { kind: 'agree' }>): Promise<void> {
    const { prepared: p, conversationId, messageId } = step;
    const conversation = await this.deps.conversations.findById(conversationId);
    if (!conversation) return;
    if (conversation.state === 'pending_consent') {
      const status = await this.deps.consent.status(p.contact.id, 'service');
      if (!status.allowed) {
        await this.deps.consent.grant({
          contactId: p.contact.id,
          channelId: p.channel.id,
          purpose: 'service',
          noticeVersion: conversation.notice_version,
          method: p.intent.kind === 'agree' ? p.intent.method : 'button',
          evidenceMessageId: messageId,
        });
      }
      const now = this.#now();
      await this.deps.transactions.run(async (tx) => {
        const current = await tx.conversations.findById(conversationId);
        if (current?.state !== 'pending_consent') return;
        const released = await tx.messages.releaseHeld(conversationId, now);
        await tx.conversations.update(conversationId, { state: 'open', unread: released, last_activity_at: now });
      });
      await this.deps.audit.append({
        actor: `webhook:${p.channel.id}`,
        action: 'consent.grant',
        targetType: 'conversation',
        targetId: conversationId,
        details: {
          label: this.deps.formatLabel(p.inbox.labelPrefix, conversation.label_seq),
          method: p.intent.kind === 'agree' ? p.intent.method : 'button',
          noticeVersion: conversation.notice_version,
        },
      });
      this.deps.events.publish({ type: 'conversation.created', inboxId: conversation.inbox_id, conversationId });
    }
    await this.deps.messages.update(messageId, { handled: true });
  }

  async #decline(step: Extract<FollowUp, { kind: 'decline' }>): Promise<void> {
    const { prepared: p, conversationId } = step;
    const conversation = await this.deps.conversations.findById(conversationId);
    if (!conversation || conversation.state !== 'pending_consent') {
      if (conversation) await this.deps.messages.update(step.messageId, { handled: true });
      return;
    }
    // The reply goes out before the keys are destroyed: sent directly, best effort, since a queued job could not
    // read the address or the text any more once the conversation is erased.
    await this.#sendDirect(p.channel, p.event.address, declineReply(p.inbox.language, this.deps.organisation));
    const actor = `webhook:${p.channel.id}`;
    await this.deps.audit.append({
      actor,
      action: 'consent.decline',
      targetType: 'conversation',
      targetId: conversationId,
      details: {
        label: this.deps.formatLabel(p.inbox.labelPrefix, conversation.label_seq),
        method: p.intent.kind === 'decline' ? p.intent.method : 'button',
      },
    });
    await this.deps.erasure.eraseConversation(conversationId, { actor, reason: 'consent-declined' });
    this.deps.events.publish({ type: 'conversation.erased', inboxId: conversation.inbox_id, conversationId });
    // Nothing refers to the contact any more (it never consented): its sealed address goes too.
    await this.deps.erasure.eraseContactIfOrphan(p.contact.id, { actor, reason: 'consent-declined' });
  }

  async #stop(p: PreparedMessage): Promise<void> {
    const actor = `webhook:${p.channel.id}`;
    const status = await this.deps.consent.status(p.contact.id, 'service');
    if (status.allowed) {
      await this.deps.consent.withdraw({
        contactId: p.contact.id,
        channelId: p.channel.id,
        purpose: 'service',
        method: `keyword:${(keywordOf(p.event.text) ?? 'STOP').replace(/\s+/g, '-')}`,
      });
    }
    await this.#sendDirect(p.channel, p.event.address, stopConfirmation(p.inbox.language, this.deps.organisation));
    // Erase now: the contact with every conversation, message, file and consent entry (crypto-shredded).
    const conversations = await this.deps.conversations.listForContact(p.contact.id);
    await this.deps.erasure.eraseContact(p.contact.id, { actor, reason: 'consent-withdrawn' });
    for (const conversation of conversations) {
      this.deps.events.publish({
        type: 'conversation.erased',
        inboxId: conversation.inbox_id,
        conversationId: conversation.id,
      });
    }
    await this.deps.audit.append({
      actor,
      action: 'consent.withdraw',
      targetType: 'contact',
      targetId: p.contact.id,
      details: { conversationsErased: conversations.length, wasGranted: status.allowed },
    });
  }

  async #sendDirect(channel: Channel, address: string, text: string): Promise<void> {
    const timeoutMs = this.deps.directSendTimeoutMs ?? DEFAULT_DIRECT_SEND_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        channel.send({ type: 'text', address, text }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
    } catch (error) {
      const code = (error as { providerCode?: string }).providerCode ?? (error as Error).name;
      this.deps.logger.warn({ channelId: channel.id, code }, 'direct reply before erasure was not sent');
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  // ------------------------------------------------------------------------------------ status, edit, system

  /**
   * Moves an outbound message's status forward. A status for a provider id that no message carries yet is parked,
   * not dropped: the provider reports 'sent'/'delivered' as soon as it accepts a message, and this webhook can
   * commit before the send job stores the id; the job applies what was parked. A status for a message of an erased
   * conversation parks too and simply expires: parking creates no message and no conversation.
   */
  async #status(tx: InboxTx, event: InboundStatus, state: GroupState): Promise<void> {
    const now = this.#now();
    const { row, parked } = await tx.messages.advanceOrParkStatus(
      event.channelId,
      event.providerMessageId,
      event.status,
      event.error,
      Number.isFinite(event.at) ? event.at : now,
      now,
      now + PARKED_STATUS_TTL_MS,
    );
    if (parked) state.parked.push(event);
    if (row) await this.#publishUpdated(tx, row, state.published);
  }

  /**
   * The send job may have stored the provider id after this group looked for it and before the parked row was
   * committed; the job then did not see the row. Looking once more after the commit closes that gap: of two
   * transactions that each commit their own write before reading the other's, at least one sees the other.
   */
  async #recheckParked(parked: readonly InboundStatus[], published: InboxEvent[]): Promise<void> {
    const now = this.#now();
    await this.deps.transactions.run(async (tx) => {
      for (const event of parked) {
        const row = await tx.messages.applyParkedStatuses(event.channelId, event.providerMessageId, now);
        if (row) await this.#publishUpdated(tx, row, published);
      }
    });
  }

  async #edit(tx: InboxTx, event: InboundEdit, published: InboxEvent[]): Promise<void> {
    const row = await tx.messages.findByProviderId(event.channelId, event.originalProviderMessageId);
    if (!row || row.direction !== 'in' || row.deleted) return;
    const key = await this.deps.keys.existingDataKey('conversation', row.conversation_id);
    if (!key) return;
    const content = row.body_enc ? openMessageContent(key, row.id, row.body_enc) : {};
    const next: MessageContent = { ...content };
    if (event.text !== undefined) next.text = event.text;
    else delete next.text;
    await tx.messages.update(row.id, {
      body_enc: sealMessageContent(key, row.id, next),
      edited: true,
      updated_at: this.#now(),
    });
    await this.#publishUpdated(tx, row, published);
  }

  async #revoke(tx: InboxTx, event: InboundRevoke, published: InboxEvent[]): Promise<void> {
    const row = await tx.messages.findByProviderId(event.channelId, event.originalProviderMessageId);
    if (!row || row.direction !== 'in' || row.deleted) return;
    await tx.messages.update(row.id, { body_enc: null, deleted: true, media_id: null, updated_at: this.#now() });
    if (row.media_id) await tx.media.delete(row.media_id);
    await this.#publishUpdated(tx, row, published);
  }

  async #publishUpdated(tx: InboxTx, row: MessageRecord, published: InboxEvent[]): Promise<void> {
    const conversation = await tx.conversations.findById(row.conversation_id);
    if (!conversation || conversation.state === 'pending_consent') return;
    published.push({
      type: 'message.updated',
      inboxId: conversation.inbox_id,
      conversationId: conversation.id,
      messageId: row.id,
      status: row.status,
    });
  }

  async #system(event: InboundSystem): Promise<void> {
    if (event.systemType !== 'user_changed_number' || !event.address || !event.newAddress) return;
    const channel = this.deps.channels.get(event.channelId);
    if (!channel) return;
    // At least once, in any order: the change takes effect once, remembered by its provider id, and every delivery
    // of it is answered 200. A redelivery may come after the old number wrote again (a new contact of its own).
    const id = event.providerMessageId;
    if (id && (await this.deps.messages.wasReceived(channel.id, id))) return;
    const now = this.#now();
    const remember = async () => {
      if (id) await this.deps.messages.markReceived(channel.id, id, now, now + INBOUND_RECEIPT_TTL_MS);
    };
    // No contact under the old number: the number never wrote (or the change was applied by an instance that had
    // not yet remembered it): nothing to change.
    const contact = await this.deps.contacts.findByAddress(channel.id, channel.kind, event.address);
    if (!contact) return remember();
    // The new number has a contact of its own (it wrote before the change arrived): both contacts stay as they are;
    // merging two customers' histories is not something a webhook may decide.
    const holder = await this.deps.contacts.findByAddress(channel.id, channel.kind, event.newAddress);
    if (holder) {
      if (holder.id !== contact.id) {
        this.deps.logger.info({ channelId: channel.id }, 'number change left as it is: the new number has a contact');
      }
      return remember();
    }
    await this.deps.contacts.updateAddress(contact, event.newAddress);
    await this.deps.audit.append({
      actor: `webhook:${channel.id}`,
      action: 'contact.address_changed',
      targetType: 'contact',
      targetId: contact.id,
    });
    await remember();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  async #inbox(inboxId: string): Promise<InboxSettings> {
    const inbox = await this.deps.inboxes.get(inboxId);
    if (!inbox) throw new Error(`channel refers to inbox ${inboxId}, which is not configured`);
    return inbox;
  }

  #now(): number {
    return this.deps.clock.now().getTime();
  }
}

/** Reads the customer's message as a consent answer, a STOP, or a plain message. */
export function intentOf(event: InboundMessage, inbox: Pick<InboxSettings, 'stopKeywords'>): Intent {
  if (event.kind === 'text' && isKeyword(event.text, inbox.stopKeywords)) return { kind: 'stop' };
  if (event.buttonId === CONSENT_AGREE_ID) return { kind: 'agree', method: `button:${CONSENT_AGREE_ID}` };
  if (event.buttonId === CONSENT_DECLINE_ID) return { kind: 'decline', method: `button:${CONSENT_DECLINE_ID}` };
  if (event.kind === 'text' && isKeyword(event.text, AGREE_KEYWORDS)) {
    return { kind: 'agree', method: `keyword:${keywordOf(event.text)!.replace(/\s+/g, '-')}` };
  }
  if (event.kind === 'text' && isKeyword(event.text, DECLINE_KEYWORDS)) {
    return { kind: 'decline', method: `keyword:${keywordOf(event.text)!.replace(/\s+/g, '-')}` };
  }
  return { kind: 'plain' };
}

/** Maps with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
