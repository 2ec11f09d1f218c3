import type {
  Channel,
  InboundEdit,
  InboundEvent,
  InboundMessage,
  InboundRevoke,
  InboundStatus,
  InboundSystem,
} from '../channel/channel.port.ts';
import { newId, newMessageId } from '../../shared/ids.ts';
import type { ContactRecord, ConversationRecord, MessageRecord } from '../ports/model.ts';
import { ConcurrentChange, type InboxTx } from '../ports/conversation.port.ts';
import type { InboxEvent } from './inbox-events.ts';
import type { OutgoingEvent } from '../webhooks/outgoing-events.ts';
import {
  INBOUND_RECEIPT_TTL_MS,
  messageStamp,
  PARKED_STATUS_TTL_MS,
  type InboxDeps,
  type InboxSettings,
} from './inbox.ports.ts';
import type { ContactsRead, FindOrCreateContact } from '../privacy/pseudonym/contact-directory.ts';
import { openMessageContent, sealMessageContent, type MessageContent } from './message-content.ts';
import { CSAT_ANSWER_DAYS, csatAnswerOf, isCsatButton } from './csat.ts';
import { ZoneClock } from '../reports/report.service.ts';
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
  consentConfirmation,
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
  /** Events for outgoing webhooks, raised after the commit. */
  outgoing: OutgoingEvent[];
  followUps: FollowUp[];
  staged: Staged[];
  existing: Map<string, Pick<MessageRecord, 'id' | 'conversation_id' | 'handled'>>;
  current: Map<string, ConversationRecord>;
  created: Set<string>;
  /** Messages committed as new, handed to the automation hook after the commit. */
  fresh: Staged[];
  /** Statuses parked for provider ids no message carried yet, looked at again after the commit. */
  parked: InboundStatus[];
  /** Snoozed conversations the customer woke by writing (the touch ended the snooze); audited after the commit. */
  woken: ConversationRecord[];
  /** Ids of the conversations the group will open, by contact id, chosen so that their keys are made together. */
  planned: Map<string, string>;
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
 * durable commit for many messages, which is what lets a synced SQLite file take thousands of messages a second).
 * With `ingestConcurrency` above one (PostgreSQL) that many groups are prepared and committed at once, each in its
 * own transaction, so that the round trips of one group overlap with the work of the others; they are as
 * independent as two instances' groups on one database. If a group fails, each of its webhooks is retried alone so that one bad request cannot fail the others. The
 * consent follow-ups (grant, decline, STOP) run after the commit, each idempotent, and mark their message handled
 * at the end, so a provider's retry after a crash finishes them and never stores a second message or notice.
 */
export class InboundProcessor {
  readonly #queue: Submission[] = [];
  readonly #concurrency: number;
  #running = 0;
  #scheduled = false;

  /** Stale inbound messages refused per channel since the last audit entry about them (see {@link #admit}). */
  readonly #stale = new Map<string, { refused: number; auditedAt: number }>();

  constructor(private readonly deps: InboxDeps) {
    this.#concurrency = Math.max(1, Math.floor(deps.ingestConcurrency ?? 1));
  }

  receive(events: readonly InboundEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Forms the next groups at the end of this turn of the event loop: the requests that arrived meanwhile join them.
   * With SQLite the work of a group runs without yielding (its calls are synchronous), so without this turn every
   * group would hold one webhook.
   */
  #schedule(): void {
    if (this.#scheduled || this.#running >= this.#concurrency || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      while (this.#running < this.#concurrency && this.#queue.length > 0) {
        this.#running += 1;
        void this.#runGroup(this.#takeGroup()).finally(() => {
          this.#running -= 1;
          this.#schedule();
        });
      }
    });
  }

  #takeGroup(): Submission[] {
    // Several groups at once (PostgreSQL): the waiting webhooks are shared out evenly, not all to the first group.
    const free = this.#concurrency - this.#running + 1;
    const share = Math.max(1, Math.ceil(this.#queue.length / free));
    const group: Submission[] = [];
    let size = 0;
    while (
      this.#queue.length > 0 &&
      (group.length === 0 || (group.length < share && size + this.#queue[0]!.events.length <= MAX_GROUP_EVENTS))
    ) {
      const next = this.#queue.shift()!;
      group.push(next);
      size += next.events.length;
    }
    return group;
  }

  async #runGroup(group: Submission[]): Promise<void> {
    try {
      await this.#process(group.flatMap((g) => g.events));
      for (const g of group) g.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
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

  async #process(received: readonly InboundEvent[]): Promise<void> {
    // Answers to the satisfaction question become a score and nothing else: no message, no conversation.
    const all: InboundEvent[] = [];
    for (const e of received) {
      if (e.type === 'message' && isCsatButton(e.buttonId)) await this.#csatAnswer(e);
      else all.push(e);
    }
    if (all.length === 0) return;
    try {
      await this.#write(all);
    } catch (error) {
      if (!(error instanceof ConcurrentChange)) throw error;
      // What the group read before its transaction changed meanwhile (a conversation closed, a message stored by a
      // concurrent group): nothing was written; read everything again, consent included, and write once more.
      await this.#write(all);
    }
  }

  /**
   * Writes a group's events: the reads first (stored messages, tombstones, contacts, current conversations, consent),
   * then one transaction that relies on them and checks that they still hold.
   */
  async #write(all: readonly InboundEvent[]): Promise<void> {
    const sequential = all.some((e) => e.type === 'system');
    // Redeliveries (stored already) and replays of erased messages (their provider ids kept as tombstones), read for
    // the whole group at once, and beside them the group's existing contacts (read only: a redelivered message that
    // took full effect must not create its contact again, after a number change its old number would).
    const [{ stored, tombstoned }, contactsRead] = await Promise.all([
      this.#lookUp(all),
      sequential ? undefined : this.#readContacts(all),
    ]);
    const events = all.filter(
      (e) => e.type !== 'message' || !stored.get(`${e.channelId}\0${e.providerMessageId}`)?.handled,
    );
    const others: InboundEvent[] = [];
    const messages: InboundMessage[] = [];
    const contacts = new Map<string, Promise<ContactRecord>>();
    const prepare = async (event: InboundMessage) =>
      (await this.#admit(event, tombstoned)) ? this.#prepare(event, contacts) : undefined;
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
    // Stale messages and replays of erased ones are left out before any contact is looked up or created.
    const admitted: InboundMessage[] = [];
    for (const event of messages) if (await this.#admit(event, tombstoned)) admitted.push(event);
    // The contacts of the group: those that exist in one query with their current conversations, new ones created
    // a few at a time.
    const currentKnown = await this.#findContacts(admitted, contacts, contactsRead);
    for (const p of await mapLimit(admitted, PREPARE_CONCURRENCY, (e) => this.#prepare(e, contacts))) {
      if (p) prepared.push(p);
    }
    // Consent matters only where a new conversation may be opened: contacts without a current one.
    const contactIds = [...new Set(prepared.map((p) => p.contact.id))];
    const unread = contactIds.filter((id) => !currentKnown.has(id));
    const currentBefore = [
      ...[...currentKnown.values()].filter((c): c is ConversationRecord => c !== null),
      ...(unread.length > 0 ? await this.deps.conversations.findCurrentForContacts(unread) : []),
    ];
    const withCurrent = new Set(currentBefore.map((c) => c.contact_id));
    const allowed = new Map<string, boolean>();
    const needConsent = contactIds.filter((id) => !withCurrent.has(id));
    const statuses = await mapLimit(needConsent, PREPARE_CONCURRENCY, (id) => this.deps.consent.status(id, 'service'));
    needConsent.forEach((id, i) => allowed.set(id, statuses[i]!.allowed));
    for (const p of prepared) p.consentAllowed = allowed.get(p.contact.id) ?? false;

    let state: GroupState | undefined;
    // Data keys made for conversations of an attempt that was rolled back (or not opened after all) are destroyed.
    const plannedIds: string[] = [];
    let attempt = 0;
    // Committed, but on SQLite not yet flushed: the disk catches up beside the event loop while the follow-ups run
    // (and the other webhooks are read and verified); the group's webhooks are answered only once it is durable.
    const { durable } = await this.deps.transactions
      .runUntilCommitted(async (tx) => {
        attempt += 1;
        state = {
          published: [],
          outgoing: [],
          followUps: [],
          staged: [],
          existing: new Map(),
          current: new Map(),
          created: new Set(),
          fresh: [],
          parked: [],
          woken: [],
          planned: new Map(),
        };
        if (attempt === 1) {
          // The first attempt relies on what was read before the transaction; its writes check that it still holds
          // (#commitStaged: a change meanwhile throws ConcurrentChange, and the group reads and writes again). A
          // second attempt (run() after a lost uniqueness race or a deadlock) reads inside the transaction.
          for (const p of prepared) {
            const key = `${p.channel.id}\0${p.event.providerMessageId}`;
            const row = stored.get(key);
            if (row) state.existing.set(key, row);
          }
          for (const c of currentBefore) state.current.set(c.contact_id, { ...c });
        } else {
          for (const [channelId, ids] of providerIdsByChannel(prepared.map((p) => p.event))) {
            for (const m of await tx.messages.findByProviderIds(channelId, ids)) {
              state.existing.set(`${channelId}\0${m.provider_message_id}`, m);
            }
          }
          for (const c of await tx.conversations.findCurrentForContacts(contactIds)) state.current.set(c.contact_id, c);
        }
        await this.#planConversations(prepared, state);
        plannedIds.push(...state.planned.values());
        for (const p of prepared) {
          if (p.intent.kind === 'stop') state.followUps.push({ kind: 'stop', prepared: p });
          else await this.#stageMessage(tx, p, state);
        }
        await this.#commitStaged(tx, state);
        const statuses = others.filter((e): e is InboundStatus => e.type === 'status');
        if (statuses.length > 0) await this.#statuses(tx, statuses, state);
        for (const event of others) {
          if (event.type === 'edit') await this.#edit(tx, event, state.published);
          else if (event.type === 'revoke') await this.#revoke(tx, event, state.published);
        }
        await this.deps.eventJobs?.enqueueIn(tx, state.published);
      })
      .finally(async () => {
        const unused = plannedIds.filter((id) => !state?.created.has(id));
        if (unused.length > 0) await this.deps.keys.destroyMany('conversation', unused);
      });
    if (!state) return await durable;
    if (state.parked.length > 0) await this.#recheckParked(state.parked, state.published);
    for (const e of state.published) this.deps.events.publish(e);
    for (const c of state.woken) {
      // Content-free: who woke it (the channel's webhook) and why; the list shows it again with its unread count.
      await this.deps.audit.append({
        actor: `webhook:${c.channel_id}`,
        action: 'conversation.woken',
        targetType: 'conversation',
        targetId: c.id,
        details: { reason: 'customer' },
      });
    }
    for (const e of state.outgoing) await this.deps.webhooks?.emit(e);
    for (const step of state.followUps) {
      if (step.kind === 'agree') await this.#agree(step);
      else if (step.kind === 'decline') await this.#decline(step);
      else await this.#stop(step.prepared);
    }
    if (this.deps.automation) await this.#automate(state.fresh);
    await durable;
  }

  /**
   * Records a tap on the satisfaction question as a content-free score (kind 'csat' in `report_facts`: inbox,
   * channel kind, agent, local day, 1-5) and removes the question in the same transaction, so a redelivery or a
   * second tap counts nothing, nor does an answer after {@link CSAT_ANSWER_DAYS} days or to an erased conversation.
   * The tap itself is not stored and opens no conversation; the contact is only looked up, never created.
   */
  async #csatAnswer(event: InboundMessage): Promise<void> {
    const answer = csatAnswerOf(event.buttonId);
    const channel = this.deps.channels.get(event.channelId);
    if (!answer || !channel) return;
    const contact = await this.deps.contacts.findByAddress(channel.id, channel.kind, event.address);
    if (!contact) return;
    const now = this.#now();
    const zone = new ZoneClock(this.deps.timeZone ?? 'Europe/Berlin');
    await this.deps.transactions.run(async (tx) => {
      const survey = await tx.csat.take(answer.surveyId, { channelId: channel.id, contactId: contact.id });
      if (!survey || now - survey.sentAt > CSAT_ANSWER_DAYS * 86_400_000) return;
      await tx.reportFacts.record([
        {
          kind: 'csat',
          at: zone.dayStart(now),
          inboxId: survey.inboxId,
          channelKind: survey.channelKind,
          agentId: survey.agentId,
          durationMs: null,
          score: answer.score,
        },
      ]);
    });
  }

  /**
   * The inbound messages of `events` already stored (provider redeliveries) and those whose provider id is remembered
   * as received (erased since), by channel and provider id: one query per channel.
   */
  async #lookUp(events: readonly InboundEvent[]): Promise<{
    stored: Map<string, Pick<MessageRecord, 'id' | 'conversation_id' | 'handled'>>;
    tombstoned: Set<string>;
  }> {
    const stored = new Map<string, Pick<MessageRecord, 'id' | 'conversation_id' | 'handled'>>();
    const tombstoned = new Set<string>();
    for (const [channelId, ids] of providerIdsByChannel(events)) {
      const found = await this.deps.messages.findStoredOrReceived(channelId, ids);
      for (const m of found.stored) {
        if (m.provider_message_id) stored.set(`${channelId}\0${m.provider_message_id}`, m);
      }
      for (const id of found.received) tombstoned.add(`${channelId}\0${id}`);
    }
    return { stored, tombstoned };
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

  /**
   * Finds or creates the contacts of `messages` into `contacts`; returns the current conversation (null: none) of
   * each contact where it was read with it.
   */
  async #findContacts(
    messages: readonly InboundMessage[],
    contacts: Map<string, Promise<ContactRecord>>,
    earlier: ContactsRead | undefined,
  ): Promise<Map<string, ConversationRecord | null>> {
    const current = new Map<string, ConversationRecord | null>();
    const { inputs, keys } = await this.#contactInputs(messages);
    if (inputs.length === 0) return current;
    const found = await this.deps.contacts.findOrCreateMany(inputs, earlier);
    keys.forEach((key, i) => {
      const { contact, current: conversation } = found[i]!;
      contacts.set(key, Promise.resolve(contact));
      if (conversation !== undefined) current.set(contact.id, conversation);
    });
    return current;
  }

  /** The existing contacts of the group's messages, read without creating any (see {@link #write}). */
  async #readContacts(events: readonly InboundEvent[]): Promise<ContactsRead | undefined> {
    const messages = events.filter((e): e is InboundMessage => e.type === 'message');
    const { inputs } = await this.#contactInputs(messages);
    return inputs.length === 0 ? undefined : this.deps.contacts.readMany(inputs);
  }

  /** The contact directory's inputs for the messages' addresses (one per channel and address), with their keys. */
  async #contactInputs(
    messages: readonly InboundMessage[],
  ): Promise<{ inputs: FindOrCreateContact[]; keys: string[] }> {
    const inputs: FindOrCreateContact[] = [];
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const event of messages) {
      const channel = this.deps.channels.get(event.channelId);
      const key = channel && `${channel.id}\0${event.address}`;
      if (!channel || !key || seen.has(key)) continue;
      seen.add(key);
      const inbox = await this.#inbox(channel.inboxId);
      inputs.push({
        inboxId: inbox.id,
        channelId: channel.id,
        channelKind: channel.kind,
        address: event.address,
        ...(event.profileName ? { profileName: event.profileName } : {}),
      });
      keys.push(key);
    }
    return { inputs, keys };
  }

  /**
   * Chooses the ids of the conversations the group will open (customers without a current one) and makes their data
   * keys in one key-store transaction, instead of one each as the messages are staged.
   */
  async #planConversations(prepared: readonly PreparedMessage[], state: GroupState): Promise<void> {
    for (const p of prepared) {
      if (p.intent.kind === 'stop' || state.current.has(p.contact.id) || state.planned.has(p.contact.id)) continue;
      if (state.existing.has(`${p.channel.id}\0${p.event.providerMessageId}`)) continue;
      state.planned.set(p.contact.id, newId());
    }
    if (state.planned.size > 1) await this.deps.keys.dataKeysFor('conversation', [...state.planned.values()]);
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
        ...(state.planned.has(contact.id) ? { id: state.planned.get(contact.id)! } : {}),
      });
      state.current.set(contact.id, conversation);
      state.created.add(conversation.id);
    }
    const created = state.created.has(conversation.id);
    const pending = conversation.state === 'pending_consent';
    const key = await this.deps.keys.dataKeyFor('conversation', conversation.id, { fresh: created });
    // Only an answer to a notice already sent counts: a first message "JA" is a message, not a consent.
    const needsFollowUp =
      pending &&
      !created &&
      conversation.consent_requested_at !== null &&
      (p.intent.kind === 'agree' || p.intent.kind === 'decline');

    const messageId = newMessageId();
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

  /**
   * Inserts the staged rows in one statement and applies their effects. The staged rows are new by what the group
   * read; the conversations are touched first, only where their state is still the one the messages were staged for,
   * and the insert follows in the same round trip. A row stored meanwhile (a redelivery committed by a concurrent
   * group) or a conversation changed meanwhile (closed, erased, answered) throws {@link ConcurrentChange}: the
   * transaction rolls back and runs again with fresh reads.
   */
  async #commitStaged(tx: InboxTx, state: GroupState): Promise<void> {
    const batch = state.staged.filter((s) => s.row.media_id === null);
    // Sorted by provider id: two groups inserting the same redelivered ids take their index entries in one order.
    const rows = batch.map((s) => s.row).sort((a, b) => compare(a.provider_message_id, b.provider_message_id));
    const touches = new Map<string, { at: number; unread: number; conversation: ConversationRecord }>();
    const announced = new Set<string>();
    for (const s of state.staged) {
      state.fresh.push(s);
      const { conversation, prepared: p } = s;
      const inboundAt = Math.min(p.event.sentAt, s.row.updated_at);
      const t = touches.get(conversation.id) ?? { at: 0, unread: 0, conversation };
      t.at = Math.max(t.at, inboundAt);
      t.unread += s.pending ? 0 : 1;
      touches.set(conversation.id, t);
      if (!s.pending) {
        const label = this.deps.formatLabel(p.inbox.labelPrefix, conversation.label_seq);
        const base = {
          occurredAt: s.row.created_at,
          channelId: conversation.channel_id,
          inboxId: conversation.inbox_id,
          conversationId: conversation.id,
          contactId: conversation.contact_id,
          label,
        };
        if (s.created && !announced.has(conversation.id)) {
          state.published.push({
            type: 'conversation.created',
            inboxId: conversation.inbox_id,
            conversationId: conversation.id,
          });
          state.outgoing.push({ ...base, type: 'conversation.opened', details: { reason: 'inbound' } });
          announced.add(conversation.id);
        }
        state.published.push(this.#messageCreated(conversation, s.row.id));
        state.outgoing.push({ ...base, type: 'message.received', messageId: s.row.id, details: { kind: s.row.kind } });
      }
      if (s.needsFollowUp) this.#pushFollowUp(p, conversation.id, s.row.id, state.followUps);
    }
    const touch = await tx.conversations.touchInboundMany(
      [...touches].map(([id, t]) => ({
        id,
        at: t.at,
        unreadDelta: t.unread,
        state: t.conversation.state,
        consentRequestedAt: t.conversation.consent_requested_at,
      })),
    );
    const inserted = rows.length > 0 ? await tx.messages.insertManyUnlessDuplicate(rows) : new Set();
    if (inserted.size < rows.length) throw new ConcurrentChange('a message of the group was stored meanwhile');
    if ((await touch.touched) < touches.size)
      throw new ConcurrentChange('a conversation of the group changed meanwhile');
    for (const t of touches.values()) if (t.conversation.snoozed_until != null) state.woken.push(t.conversation);
    await tx.reportFacts.record(
      state.staged.map((s) => ({
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
    return {
      type: 'message.created',
      inboxId: conversation.inbox_id,
      conversationId: conversation.id,
      messageId,
      assigned: conversation.assignee_id !== null,
    };
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
      let released = 0;
      await this.deps.transactions.run(async (tx) => {
        const current = await tx.conversations.findById(conversationId);
        if (current?.state !== 'pending_consent') return;
        // The tap on "Zustimmen" stays in the thread as the consent's evidence, but is nothing for staff to read.
        const tapHeld = (await tx.messages.findById(messageId))?.status === 'held';
        released = await tx.messages.releaseHeld(conversationId, now);
        await tx.conversations.update(conversationId, {
          state: 'open',
          unread: Math.max(0, released - (tapHeld ? 1 : 0)),
          last_activity_at: now,
        });
        // The customer learns that the message arrived and the answer comes here (through the outbox).
        await this.deps.outbox.queueIn(tx, {
          conversation: { ...current, state: 'open' },
          kind: 'text',
          content: { text: consentConfirmation(p.inbox, this.deps.organisation) },
        });
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
      await this.deps.webhooks?.emit({
        type: 'conversation.opened',
        occurredAt: now,
        channelId: conversation.channel_id,
        inboxId: conversation.inbox_id,
        conversationId,
        contactId: conversation.contact_id,
        label: this.deps.formatLabel(p.inbox.labelPrefix, conversation.label_seq),
        details: { reason: 'consent', messageCount: released },
      });
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
   * Moves outbound messages' statuses forward, in the order the provider reported them (the whole group's statuses
   * in a few statements). A status for a provider id that no message carries yet is parked, not dropped: the
   * provider reports 'sent'/'delivered' as soon as it accepts a message, and this webhook can commit before the send
   * job stores the id; the job applies what was parked. A status for a message of an erased conversation parks too
   * and simply expires: parking creates no message and no conversation.
   */
  async #statuses(tx: InboxTx, events: readonly InboundStatus[], state: GroupState): Promise<void> {
    const now = this.#now();
    const { rows, parked } = await tx.messages.advanceOrParkStatuses(
      events.map((e) => ({
        channelId: e.channelId,
        providerMessageId: e.providerMessageId,
        status: e.status,
        error: e.error,
        statusAt: Number.isFinite(e.at) ? e.at : now,
      })),
      now,
      now + PARKED_STATUS_TTL_MS,
    );
    events.forEach((e, i) => {
      if (parked[i]) state.parked.push(e);
    });
    if (rows.length === 0) return;
    const conversations = new Map(
      (await tx.conversations.findByIds([...new Set(rows.map((r) => r.conversation_id))])).map((c) => [c.id, c]),
    );
    for (const row of rows) {
      const conversation = conversations.get(row.conversation_id);
      if (!conversation || conversation.state === 'pending_consent') continue;
      state.published.push({
        type: 'message.updated',
        inboxId: conversation.inbox_id,
        conversationId: conversation.id,
        messageId: row.id,
        status: row.status,
      });
      if (row.status === 'failed' && row.direction === 'out') {
        // Accepted first, refused later by the provider (e.g. WhatsApp's 131047): the send failed after all.
        state.outgoing.push({
          type: 'message.failed',
          occurredAt: now,
          channelId: row.channel_id,
          conversationId: row.conversation_id,
          messageId: row.id,
          details: { kind: row.kind, errorCode: row.error_code, stage: 'provider' },
        });
      }
    }
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

  /**
   * Whether an inbound message may take effect. Acknowledged without any effect (no contact, no conversation, no
   * notice) are: a message the provider timestamped more than {@link STALE_INBOUND_MS} ago (providers retry for 7
   * days; an older one is a replay), and a redelivery of a message whose conversation was erased (its provider
   * ref is kept as a content-free tombstone for the retry window, see ErasureService). Stale refusals are audited
   * content-free, at most one entry per channel and minute with the count.
   */
  async #admit(event: InboundMessage, tombstoned: ReadonlySet<string>): Promise<boolean> {
    const now = this.#now();
    if (Number.isFinite(event.sentAt) && event.sentAt > 0 && now - event.sentAt > STALE_INBOUND_MS) {
      const entry = this.#stale.get(event.channelId) ?? { refused: 0, auditedAt: 0 };
      entry.refused++;
      this.#stale.set(event.channelId, entry);
      if (now - entry.auditedAt >= 60_000) {
        const refused = entry.refused;
        entry.refused = 0;
        entry.auditedAt = now;
        await this.deps.audit.append({
          actor: `webhook:${event.channelId}`,
          action: 'webhook.stale-message',
          targetType: 'channel',
          targetId: event.channelId,
          result: 'denied',
          details: { refused, maxAgeDays: STALE_INBOUND_MS / 86_400_000 },
        });
      }
      this.deps.logger.warn({ channelId: event.channelId }, 'inbound message older than 7 days refused');
      return false;
    }
    return !event.providerMessageId || !tombstoned.has(`${event.channelId}\0${event.providerMessageId}`);
  }
}

/** The provider ids of the inbound messages among `events`, by channel (one query per channel). */
function providerIdsByChannel(events: readonly InboundEvent[]): Map<string, string[]> {
  const byChannel = new Map<string, string[]>();
  for (const e of events) {
    if (e.type === 'message' && e.providerMessageId)
      byChannel.set(e.channelId, [...(byChannel.get(e.channelId) ?? []), e.providerMessageId]);
  }
  return byChannel;
}

/** Inbound messages older than this (by the provider's timestamp) are refused: providers retry for 7 days. */
export const STALE_INBOUND_MS = 7 * 86_400_000;

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

function compare(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
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
