import type { Channel, InboundEvent, OutboundMediaType } from '../channel/channel.port.ts';
import { AppError } from '../../shared/app-error.ts';
import { HOUR_MS, DAY_MS } from '../../shared/clock.ts';
import type { ConversationRecord, MessageRecord } from '../ports/model.ts';
import type { ReportFact } from '../ports/report.port.ts';
import { InboundProcessor } from './inbox.receive.ts';
import { actorOf, type InboxDeps, type InboxSettings, type StaffPrincipal, type TemplateSpec } from './inbox.ports.ts';
import { MediaFetcher, type MediaFetchResult } from './media-fetch.ts';
import { openMediaBytes, openMessageContent, type MessageContent, type TemplateSend } from './message-content.ts';
import { checkTemplateFill, dynamicUrlButtons, parameterCount } from '../business-account/template-rules.ts';
import { channelPausedReply } from './notices.ts';
import { CSAT_ANSWER_DAYS, CSAT_OPTIONS, csatQuestion } from './csat.ts';
import { newId } from '../../shared/ids.ts';
import { foldText, matchSnippet } from './text-search.ts';
import type { OutboundDraft, QueuedOutbound } from './outbox.ts';
import { inScope, scopeInboxIds, type InboxScope } from '../teams/inbox-scope.ts';
import { isOggOpus } from '../privacy/media/webm-opus-to-ogg.ts';
import { interactiveList, type InteractiveList, type ListInput } from './interactive-list.ts';

/** 'snoozed': open conversations set aside until a time; the other open views leave them out. */
export type ConversationView = 'mine' | 'unassigned' | 'all' | 'closed' | 'snoozed';

export interface ConversationListFilter {
  view?: ConversationView;
  label?: string;
  channel?: string;
  /** A label ("Anfrage 42") or its number ("42"). */
  q?: string;
  /** 'priority': high priority first; default: newest activity first. */
  sort?: 'activity' | 'priority';
  limit?: number;
}

/** How far one message search reaches: the newest conversations the viewer may see, and their newest messages. */
export const SEARCH_BOUND = { conversations: 2_000, messages: 10_000 } as const;

export interface ConversationSearchFilter {
  view?: ConversationView;
  label?: string;
  channel?: string;
  /** Text to find in messages (case- and accent-insensitive), in labels ("1" finds Anfrage 1, 10, 21) and tags. */
  q: string;
  limit?: number;
}

export interface ConversationSearchHit extends ConversationSummary {
  /** The newest matching message, an excerpt of its text; null when only the label or a tag matched. */
  match: { messageId: string; snippet: string; createdAt: string } | null;
}

export interface ConversationSearchResult {
  items: ConversationSearchHit[];
  /** What was decrypted and compared, and the bound; `limited` is true when the bound cut the scan short. */
  scanned: { conversations: number; messages: number };
  bound: { conversations: number; messages: number };
  limited: boolean;
}

/** A conversation as staff see it: a pseudonym label, never an address. Times are ISO strings. */
export interface ConversationSummary {
  id: string;
  label: string;
  inboxId: string;
  channelId: string;
  channelKind: string;
  state: 'open' | 'closed';
  assignee: { id: string; name: string } | null;
  labels: string[];
  unread: number;
  /** When a snoozed conversation comes back (ISO); null when it is not snoozed. */
  snoozedUntil: string | null;
  lastActivityAt: string;
  windowClosesAt: string | null;
  eraseAt: string | null;
  /** The channel sends files from agents (its supportsOutboundMedia capability). */
  canSendFiles: boolean;
  /** Longest reply the channel takes, in characters (its maxTextChars capability); longer ones get TEXT_TOO_LONG. */
  maxTextChars: number;
  /**
   * The newest message of the thread, opened for the viewer in memory (never stored in plain text): its text cut to
   * {@link PREVIEW_CHARS} characters (null for a file without caption, or once erased), kind, side and time.
   */
  preview?: MessagePreview | null;
  /** Set by staff: 'high' shows as urgent and can sort first. */
  priority: 'normal' | 'high';
}

export interface MessagePreview {
  text: string | null;
  kind: string;
  direction: 'in' | 'out' | 'note';
  at: string;
}

/** Longest preview text in the conversation list, in characters. */
export const PREVIEW_CHARS = 80;

export interface MessageView {
  id: string;
  direction: 'in' | 'out' | 'note' | 'system';
  kind: string;
  text: string | null;
  status: string;
  error: { code: string; reason: string } | null;
  media: { id: string; mimeType: string; size: number; state: string; url: string } | null;
  author: { id: string; name: string } | null;
  createdAt: string;
  edited: boolean;
  deleted: boolean;
  buttons?: { id: string; title: string }[];
  /** The interactive list an agent sent with the text. */
  list?: InteractiveList;
  template?: TemplateSend;
  /** The message this one answers (the customer's reply with context, or an agent's reply to a message). */
  replyTo?: { id: string; direction: MessageView['direction']; kind: string; text: string | null };
  /** Reactions on this message, the latest of each side (customer, staff); a reaction taken back is gone. */
  reactions?: { emoji: string; by: 'customer' | 'staff' }[];
  /** A shared location: coordinates, and the place's name and address where the sender gave them. */
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  /** Contact cards: names, phone numbers, e-mail addresses, company. */
  contacts?: { name?: string; phones: string[]; emails: string[]; company?: string }[];
  /** A message type sparsam does not show, with the provider's type and reason. */
  unsupported?: { providerType: string; reason: string | null };
  /** End-to-end channels (Threema): this message came with a public key other than the one pinned before. */
  senderKeyChanged?: boolean;
}

export interface ConversationDetail {
  conversation: ConversationSummary & {
    eraseAfterCloseDays: number;
    canReact: boolean;
    canSendButtons: boolean;
    canSendLists: boolean;
  };
  messages: MessageView[];
}

export type ReplyInput =
  | { text: string; replyTo?: string | undefined; buttons?: string[] | undefined; list?: ListInput | undefined }
  | {
      template: {
        name: string;
        language: string;
        parameters: string[];
        /** The header placeholder's value, or the https address of the header's file. */
        header?: string;
        /** Values of the URL buttons with a placeholder, in button order. */
        buttons?: string[];
      };
    };

/** Largest free-text reply on any channel (WhatsApp's and Telegram's limit); a channel's maxTextChars may be lower. */
export const MAX_REPLY_CHARS = 4096;

/** Largest file staff may upload, in bytes; each channel's own per-type limit applies on top. */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** Largest caption of an attachment (WhatsApp's limit). */
export const MAX_CAPTION_CHARS = 1024;

/** A file staff send to the customer. Name and claimed type come from the uploader and are never trusted. */
export interface AttachmentInput {
  data: Buffer;
  claimedMime: string | undefined;
  fileName: string | undefined;
  caption: string | undefined;
  /**
   * A voice note recorded in the inbox: it must be audio; as Ogg/Opus (a browser's WebM recording is remuxed to it
   * by the sanitizer) it goes out as a voice message where the channel has them, otherwise as an audio file.
   */
  voice?: boolean | undefined;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The inbox use cases: receive what channels parse, and let staff list, read, answer and close conversations.
 * Conversations waiting for consent are invisible to staff; every read of a conversation or a file is audited.
 */
export class InboxService {
  readonly #inbound: InboundProcessor;
  readonly #media: MediaFetcher;

  constructor(private readonly deps: InboxDeps) {
    this.#inbound = new InboundProcessor(deps);
    this.#media = new MediaFetcher(deps);
  }

  /** Stores everything the events carry (one transaction) and runs the consent follow-ups; resolves after commit. */
  receive(events: readonly InboundEvent[]): Promise<void> {
    return this.#inbound.receive(events);
  }

  /** The 'media-fetch' job: download, sanitise, seal and store one attachment. */
  fetchMedia(mediaId: string): Promise<MediaFetchResult> {
    return this.#media.fetch(mediaId);
  }

  /** Called when the 'media-fetch' job gave up: the file shows as failed. */
  mediaFetchFailed(mediaId: string): Promise<void> {
    return this.#media.markFailed(mediaId);
  }

  /** False while an admin has paused the channel (kill switch). */
  isChannelEnabled(channelId: string): Promise<boolean> {
    return this.deps.channelState.isEnabled(channelId);
  }

  /**
   * A paused channel stores nothing; each customer who wrote gets the configured alternative contact, best effort
   * (directly through the channel, since nothing may be written for a job).
   */
  async answerPaused(events: readonly InboundEvent[]): Promise<number> {
    const seen = new Set<string>();
    let sent = 0;
    for (const event of events) {
      if (event.type !== 'message' || seen.has(`${event.channelId}\0${event.address}`)) continue;
      seen.add(`${event.channelId}\0${event.address}`);
      const channel = this.deps.channels.get(event.channelId);
      if (!channel) continue;
      const inbox = await this.#inbox(channel.inboxId);
      try {
        await channel.send({
          type: 'text',
          address: event.address,
          text: channelPausedReply(inbox.language, this.deps.organisation, this.deps.chatUrl?.(channel.inboxId)),
        });
        sent += 1;
      } catch (error) {
        const code = (error as { providerCode?: string }).providerCode ?? (error as Error).name;
        this.deps.logger.warn({ channelId: channel.id, code }, 'paused-channel reply not sent');
      }
    }
    return sent;
  }

  // ----------------------------------------------------------------------------------------------- staff

  async listConversations(
    principal: StaffPrincipal,
    filter: ConversationListFilter = {},
  ): Promise<ConversationSummary[]> {
    const qSeq = filter.q?.match(/(\d+)\s*$/)?.[1];
    const rows = await this.#visibleConversations(principal, {
      ...filter,
      ...(qSeq ? { labelSeq: Number(qSeq) } : {}),
      ...(filter.sort ? { sort: filter.sort } : {}),
      limit: Math.min(Math.max(filter.limit ?? 200, 1), 500),
    });
    const previews = await this.#previews(rows);
    const summaries = await Promise.all(
      rows.map(async (row) => ({ ...(await this.#summary(row)), preview: previews.get(row.id) ?? null })),
    );
    const q = filter.q?.trim().toLocaleLowerCase();
    if (q && !qSeq) {
      return summaries.filter(
        (s) => s.label.toLocaleLowerCase().includes(q) || s.labels.some((l) => l.toLocaleLowerCase().includes(q)),
      );
    }
    return summaries;
  }

  /**
   * Searches message texts without any index: decrypts the newest messages of the newest conversations the viewer
   * may see ({@link SEARCH_BOUND}) in memory and compares them folded (case and accents ignored); labels and tags
   * match too. Audited without the query: only the number of hits and whether the bound was reached.
   */
  async searchConversations(
    principal: StaffPrincipal,
    filter: ConversationSearchFilter,
  ): Promise<ConversationSearchResult> {
    const needle = foldText(filter.q.trim());
    const limit = Math.min(Math.max(filter.limit ?? 200, 1), 500);
    const rows = needle
      ? await this.#visibleConversations(principal, {
          ...filter,
          limit: SEARCH_BOUND.conversations + 1,
          // A search finds snoozed conversations too (their row shows the wake-up time).
          withSnoozed: true,
        })
      : [];
    let limited = rows.length > SEARCH_BOUND.conversations;
    const candidates = rows.slice(0, SEARCH_BOUND.conversations);
    const messages = await this.deps.messages.listNewestSealed(
      candidates.map((r) => r.id),
      SEARCH_BOUND.messages + 1,
    );
    if (messages.length > SEARCH_BOUND.messages) limited = true;
    const scan = messages.slice(0, SEARCH_BOUND.messages);
    const keys = new Map<string, Awaited<ReturnType<InboxDeps['keys']['existingDataKey']>>>();
    const matches = new Map<string, ConversationSearchHit['match']>();
    let decrypted = 0;
    for (const m of scan) {
      if (matches.has(m.conversation_id) || !m.body_enc) continue;
      if (!keys.has(m.conversation_id)) {
        keys.set(m.conversation_id, await this.deps.keys.existingDataKey('conversation', m.conversation_id));
      }
      const key = keys.get(m.conversation_id);
      if (!key) continue; // erased: its key is gone, nothing can be read
      const text = openMessageContent(key, m.id, m.body_enc).text;
      decrypted += 1;
      if (!text || !foldText(text).includes(needle)) continue;
      matches.set(m.conversation_id, {
        messageId: m.id,
        snippet: matchSnippet(text, needle) ?? '',
        createdAt: iso(m.created_at)!,
      });
    }
    const items: ConversationSearchHit[] = [];
    for (const row of candidates) {
      if (items.length >= limit) break;
      const match = matches.get(row.id);
      const byLabel =
        !match &&
        (foldText(await this.#label(row)).includes(needle) || row.labels.some((l) => foldText(l).includes(needle)));
      if (match || byLabel) items.push({ ...(await this.#summary(row)), match: match ?? null });
    }
    await this.deps.audit.append({
      actor: actorOf(principal),
      action: 'conversation.search',
      details: { hits: items.length, limited, scannedMessages: decrypted },
    });
    return {
      items,
      scanned: { conversations: candidates.length, messages: decrypted },
      bound: { ...SEARCH_BOUND },
      limited,
    };
  }

  /**
   * The conversations this viewer may see, newest activity first: never those waiting for consent. Every list and
   * search goes through here, so a rule on who sees what applies to both.
   */
  async #visibleConversations(
    principal: StaffPrincipal,
    filter: {
      view?: ConversationView;
      label?: string;
      channel?: string;
      labelSeq?: number;
      sort?: 'activity' | 'priority';
      /** Open views: snoozed ones too (search); the lists leave them out. */
      withSnoozed?: boolean;
      limit: number;
    },
  ): Promise<ConversationRecord[]> {
    const view = filter.view ?? 'all';
    const userId = principal.kind === 'session' ? (principal.userId ?? principal.id) : undefined;
    if (view === 'mine' && !userId) return [];
    // Only the inboxes the caller may see: the store query itself is limited, so counts, pages and search are too.
    const inboxIds = scopeInboxIds(principal.scope);
    if (inboxIds && inboxIds.length === 0) return [];
    return this.deps.conversations.list({
      ...(inboxIds ? { inboxIds } : {}),
      states: view === 'closed' ? ['closed'] : ['open'],
      ...(view === 'closed' || (filter.withSnoozed && view !== 'snoozed') ? {} : { snoozed: view === 'snoozed' }),
      ...(view === 'mine' ? { assigneeId: userId! } : view === 'unassigned' ? { assigneeId: null } : {}),
      ...(filter.label ? { label: filter.label } : {}),
      ...(filter.channel ? { channelId: filter.channel } : {}),
      ...(filter.labelSeq !== undefined ? { labelSeq: filter.labelSeq } : {}),
      ...(filter.sort ? { sort: filter.sort } : {}),
      limit: filter.limit,
    });
  }

  async getConversation(principal: StaffPrincipal, id: string): Promise<ConversationDetail> {
    const row = await this.#visible(principal.scope, id);
    const key = await this.deps.keys.existingDataKey('conversation', row.id);
    const messages = await this.deps.messages.listForConversation(row.id);
    const media = new Map(
      (await this.deps.media.describe(messages.flatMap((m) => (m.media_id ? [m.media_id] : [])))).map((m) => [m.id, m]),
    );
    const authors = new Map<string, { id: string; name: string } | null>();
    const views: MessageView[] = [];
    const contents = new Map<string, MessageContent>();
    for (const m of messages) {
      if (m.status === 'held') continue;
      let content: MessageContent = {};
      if (m.body_enc && key) content = openMessageContent(key, m.id, m.body_enc);
      contents.set(m.id, content);
      const mediaRow = m.media_id ? media.get(m.media_id) : undefined;
      views.push({
        id: m.id,
        direction: m.direction,
        kind: m.kind,
        text: content.text ?? null,
        status: m.status,
        error: m.error_code ? { code: m.error_code, reason: m.error_reason ?? '' } : null,
        media: mediaRow
          ? {
              id: mediaRow.id,
              mimeType: mediaRow.mime_type,
              size: mediaRow.size,
              state: mediaRow.state,
              url: `/api/v1/media/${mediaRow.id}`,
            }
          : null,
        author: m.author_id ? await this.#author(m.author_id, authors) : null,
        createdAt: iso(m.created_at)!,
        edited: m.edited,
        deleted: m.deleted,
        ...(content.buttons ? { buttons: content.buttons } : {}),
        ...(content.list ? { list: content.list } : {}),
        ...(content.template ? { template: content.template } : {}),
        ...structuredParts(m.kind, content.extra),
        ...(content.extra?.senderKeyChanged === true ? { senderKeyChanged: true } : {}),
      });
    }
    await this.#linkRepliesAndReactions(row.channel_id, messages, views, contents);
    await this.deps.audit.append({
      actor: actorOf(principal),
      action: 'conversation.view',
      targetType: 'conversation',
      targetId: row.id,
      details: { label: await this.#label(row) },
    });
    const summary = await this.#summary(row);
    return {
      conversation: {
        ...summary,
        eraseAfterCloseDays: (await this.#inbox(row.inbox_id)).retention.eraseAfterCloseDays,
        canReact: Boolean(this.deps.channels.get(row.channel_id)?.react),
        canSendButtons: this.deps.channels.get(row.channel_id)?.capabilities.supportsButtons ?? false,
        canSendLists: this.deps.channels.get(row.channel_id)?.capabilities.supportsLists ?? false,
      },
      messages: views,
    };
  }

  /**
   * Queues a reply: free text only inside the channel's messaging window (else WINDOW_CLOSED before any provider
   * call), a template where the channel supports them. The outbox writes the message row ('queued') and its
   * 'outbound-send' job in one transaction.
   */
  async sendReply(principal: StaffPrincipal, id: string, input: ReplyInput): Promise<MessageView> {
    const { row, channel } = await this.#answerable(principal.scope, id);
    const now = this.#now();
    let content: MessageContent;
    let kind: string;
    if ('text' in input) {
      const text = input.text.trim();
      if (!text) throw new AppError('VALIDATION', 'the reply is empty', { field: 'text' });
      const limit = Math.min(channel.capabilities.maxTextChars, MAX_REPLY_CHARS);
      const length = [...input.text].length;
      if (length > limit) {
        throw new AppError(
          'TEXT_TOO_LONG',
          `this channel takes at most ${limit} characters per message; this reply has ${length}`,
          {
            field: 'text',
            limit,
            length,
          },
        );
      }
      this.#checkWindow(row, channel, now, 'free text');
      content = { text: input.text };
      if (input.replyTo) content.extra = await this.#replyContext(row.id, input.replyTo);
      if (input.buttons && input.buttons.length > 0) {
        content.buttons = replyButtons(input.buttons, length, channel.capabilities.supportsButtons);
        if (input.replyTo) {
          throw new AppError('VALIDATION', 'a message with buttons cannot quote a message', { field: 'replyTo' });
        }
      }
      if (input.list) {
        if (content.buttons) {
          throw new AppError('VALIDATION', 'a message has either buttons or a list', {
            field: 'list',
            reason: 'list_with_buttons',
          });
        }
        if (input.replyTo) {
          throw new AppError('VALIDATION', 'a message with a list cannot quote a message', {
            field: 'list',
            reason: 'list_with_quote',
          });
        }
        content.list = interactiveList(input.list, length, channel.capabilities.supportsLists);
      }
      kind = 'text';
    } else {
      if (!channel.capabilities.supportsTemplates) {
        throw new AppError('VALIDATION', 'this channel does not support templates', { field: 'template' });
      }
      const spec = await this.#template(row.channel_id, input.template.name, input.template.language);
      const given = input.template;
      const header = spec.header;
      checkTemplateFill(
        { body: spec.body, buttons: spec.buttons ?? [], ...(header ? { header } : {}) },
        {
          parameters: given.parameters,
          headerText: header?.format === 'TEXT' ? given.header : undefined,
          headerLink: header && header.format !== 'TEXT' ? given.header : undefined,
          buttonParameters: given.buttons ?? [],
        },
      );
      const send: TemplateSend = { name: spec.name, language: spec.language, parameters: [...given.parameters] };
      if (header?.format === 'TEXT' && parameterCount(header.text) > 0) {
        send.header = { format: 'TEXT', text: given.header! };
      } else if (header && header.format !== 'TEXT') {
        send.header = { format: header.format, link: given.header! };
      }
      const urlButtons = dynamicUrlButtons({ body: spec.body, buttons: spec.buttons ?? [] });
      if (urlButtons.length > 0) {
        send.buttons = urlButtons.map((b, i) => ({ index: b.index, text: given.buttons![i]! }));
      }
      content = { text: renderTemplate(spec.body, given.parameters), template: send };
      kind = 'template';
    }
    const authorId = principal.kind === 'session' ? (principal.userId ?? principal.id) : null;
    const { messageId } = await this.#queueOutbound(row, { conversation: row, kind, content, authorId }, now);
    return {
      id: messageId,
      direction: 'out',
      kind,
      text: content.text ?? null,
      status: 'queued',
      error: null,
      media: null,
      author: authorId ? await this.#author(authorId, new Map()) : null,
      createdAt: iso(now)!,
      edited: false,
      deleted: false,
      ...(content.buttons ? { buttons: content.buttons } : {}),
      ...(content.list ? { list: content.list } : {}),
      ...(content.template ? { template: content.template } : {}),
      ...(typeof content.extra?.replyToMessageId === 'string'
        ? { replyTo: await this.#quote(row.id, content.extra.replyToMessageId) }
        : {}),
    };
  }

  /**
   * Reacts to one of the customer's messages for the team (an emoji), or takes the team's reaction back (`emoji`
   * empty). Queued through the outbox like a reply (the messaging window applies); the thread shows it on the
   * customer's bubble. Only where the channel has reactions.
   */
  async react(principal: StaffPrincipal, id: string, messageId: string, emoji: string): Promise<MessageView> {
    const { row, channel } = await this.#answerable(principal.scope, id);
    if (!channel.react) throw new AppError('VALIDATION', 'this channel has no reactions', { field: 'emoji' });
    const value = emoji.trim();
    if (value !== '' && ([...value].length > 8 || !/^\p{Extended_Pictographic}/u.test(value))) {
      throw new AppError('VALIDATION', 'a reaction is one emoji', { field: 'emoji' });
    }
    const now = this.#now();
    this.#checkWindow(row, channel, now, 'a reaction');
    const context = await this.#replyContext(row.id, messageId);
    if (typeof context.replyTo !== 'string') {
      throw new AppError('VALIDATION', 'this message cannot be reacted to', { field: 'messageId' });
    }
    const content: MessageContent = { text: value, extra: { ...context, reaction: { removed: value === '' } } };
    const authorId = principal.kind === 'session' ? (principal.userId ?? principal.id) : null;
    const { messageId: queuedId } = await this.#queueOutbound(
      row,
      { conversation: row, kind: 'reaction', content, authorId },
      now,
    );
    return {
      id: queuedId,
      direction: 'out',
      kind: 'reaction',
      text: value || null,
      status: 'queued',
      error: null,
      media: null,
      author: authorId ? await this.#author(authorId, new Map()) : null,
      createdAt: iso(now)!,
      edited: false,
      deleted: false,
    };
  }

  /**
   * What an agent's reply to one message carries: the provider's id of that message (sent as WhatsApp's
   * `context.message_id`, so the customer sees the quote) and sparsam's id (to show the quote in the thread).
   * Only a customer's message that is still there can be answered this way.
   */
  async #replyContext(conversationId: string, messageId: string): Promise<Record<string, unknown>> {
    const target = await this.deps.messages.findById(messageId);
    const key = await this.deps.keys.existingDataKey('conversation', conversationId);
    if (!target || target.conversation_id !== conversationId || target.direction !== 'in' || target.deleted) {
      throw new AppError('VALIDATION', 'the message to reply to is not a customer message of this conversation', {
        field: 'replyTo',
      });
    }
    const providerMessageId =
      key && target.body_enc ? openMessageContent(key, target.id, target.body_enc).extra?.providerMessageId : undefined;
    return {
      replyToMessageId: target.id,
      ...(typeof providerMessageId === 'string' ? { replyTo: providerMessageId } : {}),
    };
  }

  /** The quoted message of a reply as the thread shows it (text cut to 200 characters). */
  async #quote(conversationId: string, messageId: string): Promise<NonNullable<MessageView['replyTo']>> {
    const target = await this.deps.messages.findById(messageId);
    const key = await this.deps.keys.existingDataKey('conversation', conversationId);
    const text =
      target && key && target.body_enc ? (openMessageContent(key, target.id, target.body_enc).text ?? null) : null;
    return { id: messageId, direction: target?.direction ?? 'in', kind: target?.kind ?? 'text', text: cut(text) };
  }

  /**
   * Links each reply to the message it quotes (the customer's context id, or the agent's chosen message) and moves
   * reactions onto the message they react to: the latest reaction of each side counts, an empty one takes it back,
   * and reaction messages themselves leave the thread.
   */
  async #linkRepliesAndReactions(
    channelId: string,
    rows: readonly MessageRecord[],
    views: MessageView[],
    contents: ReadonlyMap<string, MessageContent>,
  ): Promise<void> {
    const byId = new Map(views.map((v) => [v.id, v]));
    const resolved = new Map<string, string | undefined>();
    const target = async (providerId: string): Promise<string | undefined> => {
      if (!resolved.has(providerId)) {
        resolved.set(providerId, (await this.deps.messages.findByProviderId(channelId, providerId))?.id);
      }
      return resolved.get(providerId);
    };
    const reactions = new Map<string, Map<'customer' | 'staff', string | null>>();
    const hidden = new Set<string>();
    for (const m of rows) {
      const view = byId.get(m.id);
      const extra = contents.get(m.id)?.extra;
      if (!view || !extra) continue;
      const targetId =
        typeof extra.replyToMessageId === 'string'
          ? extra.replyToMessageId
          : typeof extra.replyTo === 'string'
            ? await target(extra.replyTo)
            : undefined;
      if (m.kind === 'reaction') {
        hidden.add(m.id);
        if (!targetId) continue;
        const side = m.direction === 'in' ? 'customer' : 'staff';
        const removed = (extra.reaction as { removed?: boolean } | undefined)?.removed === true;
        const perSide = reactions.get(targetId) ?? new Map<'customer' | 'staff', string | null>();
        perSide.set(side, removed ? null : (view.text ?? null));
        reactions.set(targetId, perSide);
        continue;
      }
      const quoted = targetId ? byId.get(targetId) : undefined;
      if (quoted)
        view.replyTo = { id: quoted.id, direction: quoted.direction, kind: quoted.kind, text: cut(quoted.text) };
    }
    for (const [id, perSide] of reactions) {
      const view = byId.get(id);
      if (!view) continue;
      const list = [...perSide].flatMap(([by, emoji]) => (emoji ? [{ emoji, by }] : []));
      if (list.length > 0) view.reactions = list;
    }
    if (hidden.size > 0) {
      const kept = views.filter((v) => !hidden.has(v.id));
      views.splice(0, views.length, ...kept);
    }
  }

  /**
   * Queues a file for the customer, with an optional caption. The file passes the same MediaSanitizer as customer
   * media, always with policy 'strip' (whatever the inbox keeps of customer files): the type comes from the magic
   * bytes, only the allow-listed types pass, and images are re-encoded without EXIF, GPS, XMP or IPTC, so that an
   * agent's phone photo does not tell the customer where it was taken. WebP and GIF go out as a still PNG. The
   * result is sealed with the conversation's data key like inbound media (erasure shreds both alike), and the
   * message row, its media row and the 'outbound-send' job are written in one transaction.
   *
   * Refused before anything is stored: channels without `supportsOutboundMedia` (UNSUPPORTED_MEDIA), outside the
   * messaging window (WINDOW_CLOSED; a file is free-form, not a template), types not allowed or unreadable files
   * (UNSUPPORTED_MEDIA), files over {@link MAX_ATTACHMENT_BYTES} or over the channel's limit for the type
   * (PAYLOAD_TOO_LARGE), captions over {@link MAX_CAPTION_CHARS} (VALIDATION).
   */
  async sendAttachment(principal: StaffPrincipal, id: string, input: AttachmentInput): Promise<MessageView> {
    const { row, channel } = await this.#answerable(principal.scope, id);
    if (!channel.capabilities.supportsOutboundMedia) {
      throw new AppError(
        'UNSUPPORTED_MEDIA',
        `files cannot be sent through this ${channel.kind} channel; send a text message instead`,
        { reason: 'channel', channelKind: channel.kind },
      );
    }
    const now = this.#now();
    this.#checkWindow(row, channel, now, 'a file');
    const caption = input.caption?.trim() || undefined;
    if (caption && [...caption].length > MAX_CAPTION_CHARS) {
      throw new AppError('VALIDATION', `a caption may have at most ${MAX_CAPTION_CHARS} characters`, {
        field: 'caption',
      });
    }
    if (input.data.length === 0) throw new AppError('VALIDATION', 'the file is empty', { field: 'file' });
    if (input.data.length > MAX_ATTACHMENT_BYTES) {
      throw new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${megabytes(MAX_ATTACHMENT_BYTES)}`, {
        maxBytes: MAX_ATTACHMENT_BYTES,
      });
    }
    const result = await this.deps.sanitizer.sanitize(input.data, {
      policy: 'strip',
      claimedMime: input.claimedMime,
      maxBytes: MAX_ATTACHMENT_BYTES,
      stillImages: true,
    });
    if (!result.ok) throw attachmentRefused(result.reason);
    if (input.voice && result.kind !== 'audio') {
      throw new AppError('VALIDATION', 'a voice note is a sound recording', { field: 'voice' });
    }
    const mediaType: OutboundMediaType = result.kind === 'sticker' ? 'image' : (result.kind as OutboundMediaType);
    const limit = channel.capabilities.maxOutboundMediaBytes[mediaType] ?? 0;
    if (result.data.length > limit) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        limit > 0
          ? `this ${channel.kind} channel sends ${mediaType} files of at most ${megabytes(limit)}`
          : `this ${channel.kind} channel cannot send ${mediaType} files`,
        { maxBytes: limit, mediaType },
      );
    }
    const content: MessageContent = {
      ...(caption ? { text: caption } : {}),
      extra: {
        fileName: attachmentFileName(input.fileName, result.mimeType, mediaType),
        ...(input.voice && isOggOpus(result.data) ? { voice: true } : {}),
      },
    };
    const authorId = principal.kind === 'session' ? (principal.userId ?? principal.id) : null;
    const queued = await this.#queueOutbound(
      row,
      { conversation: row, kind: mediaType, content, authorId, file: { data: result.data, mimeType: result.mimeType } },
      now,
    );
    const { messageId } = queued;
    const mediaId = queued.mediaId!;
    return {
      id: messageId,
      direction: 'out',
      kind: mediaType,
      text: caption ?? null,
      status: 'queued',
      error: null,
      media: {
        id: mediaId,
        mimeType: result.mimeType,
        size: result.data.length,
        state: 'stored',
        url: `/api/v1/media/${mediaId}`,
      },
      author: authorId ? await this.#author(authorId, new Map()) : null,
      createdAt: iso(now)!,
      edited: false,
      deleted: false,
    };
  }

  /**
   * Closes a conversation and starts its retention clock: erase_at = now + the inbox's eraseAfterCloseDays; with 0
   * days it is erased at once (crypto-shredding by the privacy core).
   */
  async close(principal: StaffPrincipal, id: string): Promise<ConversationSummary & { erased: boolean }> {
    const row = await this.#visible(principal.scope, id);
    if (row.state === 'closed') return { ...(await this.#summary(row)), erased: false };
    const now = this.#now();
    const days = (await this.#inbox(row.inbox_id)).retention.eraseAfterCloseDays;
    const eraseAt = now + days * DAY_MS;
    // A snoozed conversation that is closed does not wake any more (its wake job finds it closed and does nothing).
    const patch = { state: 'closed', closed_at: now, erase_at: eraseAt, unread: 0, snoozed_until: null } as const;
    await this.deps.conversations.update(row.id, patch);
    const closed: ConversationRecord = { ...row, ...patch };
    const summary = await this.#summary(closed);
    const actor = actorOf(principal);
    const agentId = row.assignee_id ?? (principal.kind === 'session' ? (principal.userId ?? principal.id) : null);
    await this.deps.reportFacts.record([
      {
        kind: 'resolution',
        at: now,
        inboxId: row.inbox_id,
        channelKind: this.deps.channels.get(row.channel_id)?.kind ?? 'unknown',
        agentId,
        durationMs: now - row.created_at,
        score: null,
      },
    ]);
    // A conversation erased at close (eraseAfterCloseDays 0) gets no question: nothing may reach its contact after.
    if (days > 0 && row.state === 'open') await this.#askSatisfaction(closed, agentId, now);
    await this.deps.audit.append({
      actor,
      action: 'conversation.close',
      targetType: 'conversation',
      targetId: row.id,
      details: { label: summary.label, eraseAfterCloseDays: days },
    });
    await this.deps.webhooks?.emit({
      type: 'conversation.closed',
      occurredAt: now,
      channelId: row.channel_id,
      inboxId: row.inbox_id,
      conversationId: row.id,
      contactId: row.contact_id,
      label: summary.label,
      details: { reason: 'staff', closedBy: principal.userId ?? null, eraseAfterCloseDays: days },
    });
    if (days <= 0) {
      await this.deps.erasure.eraseConversation(row.id, { actor, reason: 'closed' });
      this.deps.events.publish({ type: 'conversation.erased', inboxId: row.inbox_id, conversationId: row.id });
      // The contact's last conversation is gone: its sealed number and profile name go too (consent proof stays).
      await this.deps.erasure.eraseContactIfOrphan(row.contact_id, { actor, reason: 'closed' });
      return { ...summary, erased: true };
    }
    this.deps.events.publish({ type: 'conversation.updated', inboxId: row.inbox_id, conversationId: row.id });
    return { ...summary, erased: false };
  }

  /**
   * Queues the satisfaction question (1-5 as buttons, in the inbox's language) into a conversation staff just
   * closed, with its pending survey row, in one transaction: only where the inbox asks (`csat.enabled`), the channel
   * can offer five answers, is switched on and may still write to the customer (messaging window), and the contact's
   * consent stands. Never fails the close: a problem is logged without content.
   */
  async #askSatisfaction(conversation: ConversationRecord, agentId: string | null, now: number): Promise<void> {
    try {
      const inbox = await this.#inbox(conversation.inbox_id);
      const channel = this.deps.channels.get(conversation.channel_id);
      if (!inbox.csat.enabled || !channel) return;
      const { capabilities } = channel;
      const options = capabilities.maxReplyOptions ?? (capabilities.supportsButtons ? 3 : 0);
      if (options < CSAT_OPTIONS) return;
      const window = capabilities.messagingWindowHours;
      const lastInbound = conversation.last_inbound_at;
      if (window !== null && (lastInbound === null || now - lastInbound > window * HOUR_MS)) return;
      if (!(await this.deps.channelState.isEnabled(channel.id))) return;
      if (!(await this.deps.consent.status(conversation.contact_id, 'service')).allowed) return;
      const surveyId = newId();
      const question = csatQuestion(surveyId, inbox.language);
      const queued = await this.deps.outbox.queue(
        [
          {
            conversation,
            kind: 'buttons',
            content: {
              text: question.text,
              buttons: question.buttons,
              extra: { csat: true, listButton: question.listButton },
            },
          },
        ],
        {
          alongside: async (tx) => {
            // Questions nobody answered within the answer period are of no use any more.
            await tx.csat.deleteSentBefore(now - CSAT_ANSWER_DAYS * DAY_MS);
            await tx.csat.insert({
              id: surveyId,
              conversationId: conversation.id,
              contactId: conversation.contact_id,
              channelId: channel.id,
              channelKind: channel.kind,
              inboxId: conversation.inbox_id,
              agentId,
              sentAt: now,
            });
          },
        },
      );
      for (const q of queued ?? []) {
        this.deps.events.publish({
          type: 'message.created',
          inboxId: conversation.inbox_id,
          conversationId: conversation.id,
          messageId: q.messageId,
        });
      }
    } catch (error) {
      this.deps.logger.warn(
        { conversationId: conversation.id, err: error instanceof Error ? error.name : 'unknown' },
        'satisfaction question not queued',
      );
    }
  }

  /** The decrypted bytes of a stored attachment, for staff; the read is audited. */
  async mediaFor(principal: StaffPrincipal, mediaId: string): Promise<{ data: Buffer; mimeType: string }> {
    const media = await this.deps.media.findById(mediaId);
    if (!media) throw new AppError('NOT_FOUND', 'no such file');
    const conversation = await this.#visible(principal.scope, media.conversation_id, 'no such file');
    if (media.state !== 'stored' || !media.data_enc) {
      throw new AppError(
        'NOT_FOUND',
        media.state === 'pending' ? 'the file is still being fetched' : 'the file was not stored',
      );
    }
    const key = await this.deps.keys.existingDataKey('conversation', conversation.id);
    if (!key) throw new AppError('NOT_FOUND', 'no such file');
    const data = openMediaBytes(key, media.id, media.data_enc);
    await this.deps.audit.append({
      actor: actorOf(principal),
      action: 'media.view',
      targetType: 'media',
      targetId: media.id,
      details: { conversationId: conversation.id, label: await this.#label(conversation) },
    });
    return { data, mimeType: media.mime_type };
  }

  /**
   * The templates of a channel (empty where the channel does not support templates); a channel of an inbox outside
   * the caller's scope does not exist for them.
   */
  async templates(principal: StaffPrincipal, channelId: string): Promise<TemplateSpec[]> {
    const channel = this.deps.channels.get(channelId);
    if (!channel || !inScope(principal.scope, channel.inboxId)) throw new AppError('NOT_FOUND', 'no such channel');
    if (!channel.capabilities.supportsTemplates) return [];
    return (await this.deps.templates(channelId)).map((t) => ({ ...t }));
  }

  /** The pseudonym labels ("Anfrage 42") of conversations staff can see, by id (mention lists). */
  async labelsOf(ids: readonly string[]): Promise<Map<string, string>> {
    const labels = new Map<string, string>();
    for (const id of new Set(ids)) {
      const row = await this.deps.conversations.findById(id);
      if (row && row.state !== 'pending_consent') labels.set(id, await this.#label(row));
    }
    return labels;
  }

  // -------------------------------------------------------------------------------------------- helpers

  /**
   * Queues an agent's message through the outbox (with its file, if any), unless the conversation was closed
   * meanwhile (CONFLICT); marks the conversation read and active in the same transaction, and announces the message.
   */
  async #queueOutbound(row: ConversationRecord, draft: OutboundDraft, now: number): Promise<QueuedOutbound> {
    const queued = await this.deps.outbox.queue([draft], {
      guard: async (tx) => {
        const current = await tx.conversations.findById(row.id);
        if (current?.state !== 'open') throw new AppError('CONFLICT', 'this conversation was closed meanwhile');
        return true;
      },
      alongside: async (tx) => {
        await tx.conversations.update(row.id, { last_activity_at: now, unread: 0 });
        if (draft.kind === 'reaction') return;
        const channelKind = this.deps.channels.get(row.channel_id)?.kind ?? 'unknown';
        const fact = { at: now, inboxId: row.inbox_id, channelKind, agentId: draft.authorId ?? null, score: null };
        const facts: ReportFact[] = [{ ...fact, kind: 'message_out', durationMs: null }];
        // The first reply by staff (this one included) answers the customer: its delay is the first-response time.
        const staffReplies = (await tx.messages.listForConversation(row.id)).filter(
          (m) => m.direction === 'out' && m.author_id !== null,
        );
        if (draft.authorId && staffReplies.length === 1) {
          facts.push({ ...fact, kind: 'first_response', durationMs: now - row.created_at });
        }
        await tx.reportFacts.record(facts);
      },
    });
    const { messageId } = queued![0]!;
    this.deps.events.publish({ type: 'message.created', inboxId: row.inbox_id, conversationId: row.id, messageId });
    return queued![0]!;
  }

  /**
   * The conversation as the caller may see it. A conversation waiting for consent does not exist for staff, and
   * neither does one of an inbox outside the caller's scope: both answer exactly like an unknown id.
   */
  async #visible(scope: InboxScope, id: string, notFound = 'no such conversation'): Promise<ConversationRecord> {
    const row = await this.deps.conversations.findById(id);
    if (!row || row.state === 'pending_consent' || !inScope(scope, row.inbox_id)) {
      throw new AppError('NOT_FOUND', notFound);
    }
    return row;
  }

  /** An open conversation whose channel is configured and not paused: something can be queued for it. */
  async #answerable(scope: InboxScope, id: string): Promise<{ row: ConversationRecord; channel: Channel }> {
    const row = await this.#visible(scope, id);
    if (row.state !== 'open') throw new AppError('CONFLICT', 'this conversation is closed; it cannot be answered');
    const channel = this.deps.channels.get(row.channel_id);
    if (!channel) throw new AppError('CONFLICT', 'the channel of this conversation is no longer configured');
    if (!(await this.deps.channelState.isEnabled(channel.id))) {
      throw new AppError('CHANNEL_DISABLED', 'this channel is paused by an admin; nothing can be sent through it');
    }
    return { row, channel };
  }

  /** WINDOW_CLOSED when the channel's messaging window is over (only templates may go out then). */
  #checkWindow(row: ConversationRecord, channel: Channel, now: number, what: string): void {
    const closesAt = this.#windowClosesAt(row);
    if (closesAt !== null && now >= closesAt) {
      const hours = channel.capabilities.messagingWindowHours;
      throw new AppError(
        'WINDOW_CLOSED',
        `${what} can only be sent within ${hours} hours of the customer's last message; send an approved template instead`,
        { windowHours: hours, lastInboundAt: iso(row.last_inbound_at) },
      );
    }
  }

  async #template(channelId: string, name: string, language: string): Promise<TemplateSpec> {
    const spec = (await this.deps.templates(channelId)).find((t) => t.name === name && t.language === language);
    if (!spec) {
      throw new AppError(
        'VALIDATION',
        `no template "${name}" in language "${language}" is configured for this channel`,
        {
          field: 'template',
        },
      );
    }
    return spec;
  }

  #windowClosesAt(row: ConversationRecord): number | null {
    const hours = this.deps.channels.get(row.channel_id)?.capabilities.messagingWindowHours ?? null;
    if (hours === null) return null;
    if (row.last_inbound_at === null) return row.created_at;
    return row.last_inbound_at + hours * HOUR_MS;
  }

  async #summary(row: ConversationRecord): Promise<ConversationSummary> {
    const channel = this.deps.channels.get(row.channel_id);
    const closes = this.#windowClosesAt(row);
    return {
      id: row.id,
      label: await this.#label(row),
      inboxId: row.inbox_id,
      channelId: row.channel_id,
      channelKind: channel?.kind ?? 'unknown',
      state: row.state === 'closed' ? 'closed' : 'open',
      assignee: row.assignee_id ? await this.#author(row.assignee_id, new Map()) : null,
      labels: [...row.labels],
      priority: row.priority ?? 'normal',
      unread: row.unread,
      snoozedUntil: iso(row.snoozed_until ?? null),
      lastActivityAt: iso(row.last_activity_at)!,
      windowClosesAt: iso(closes),
      eraseAt: iso(row.erase_at),
      canSendFiles: channel?.capabilities.supportsOutboundMedia ?? false,
      maxTextChars: Math.min(channel?.capabilities.maxTextChars ?? MAX_REPLY_CHARS, MAX_REPLY_CHARS),
    };
  }

  /** The newest message of each conversation, opened in memory with the conversation's key. */
  async #previews(rows: readonly ConversationRecord[]): Promise<Map<string, MessagePreview>> {
    const latest = await this.deps.messages.latestForConversations(rows.map((r) => r.id));
    const previews = new Map<string, MessagePreview>();
    for (const m of latest) {
      if (m.direction === 'system') continue;
      let text: string | null = null;
      if (m.body_enc && !m.deleted) {
        const key = await this.deps.keys.existingDataKey('conversation', m.conversation_id);
        if (key) text = openMessageContent(key, m.id, m.body_enc).text ?? null;
      }
      previews.set(m.conversation_id, {
        text: cutTo(text?.replace(/\s+/g, ' ').trim() || null, PREVIEW_CHARS),
        kind: m.deleted ? 'deleted' : m.kind,
        direction: m.direction,
        at: iso(m.created_at)!,
      });
    }
    return previews;
  }

  async #author(id: string, cache: Map<string, { id: string; name: string } | null>) {
    if (cache.has(id)) return cache.get(id) ?? null;
    const user = await this.deps.staff.findUserById(id);
    const author = user ? { id: user.id, name: user.display_name } : { id, name: '' };
    cache.set(id, author);
    return author;
  }

  async #label(row: ConversationRecord): Promise<string> {
    return this.deps.formatLabel((await this.#inbox(row.inbox_id)).labelPrefix, row.label_seq);
  }

  async #inbox(inboxId: string): Promise<InboxSettings> {
    const inbox = await this.deps.inboxes.get(inboxId);
    if (!inbox) throw new AppError('CONFIG', `inbox ${inboxId} is not configured`);
    return inbox;
  }

  #now(): number {
    return this.deps.clock.now().getTime();
  }
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** The error for a file the sanitizer refused (content-free: no name, no bytes). */
function attachmentRefused(reason: string): AppError {
  switch (reason) {
    case 'too-large':
      return new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${megabytes(MAX_ATTACHMENT_BYTES)}`, {
        maxBytes: MAX_ATTACHMENT_BYTES,
      });
    case 'too-many-pixels':
      return new AppError('PAYLOAD_TOO_LARGE', 'the image has too many pixels', { reason });
    case 'corrupt':
      return new AppError('UNSUPPORTED_MEDIA', 'the file cannot be read (damaged or incomplete)', { reason });
    default:
      return new AppError(
        'UNSUPPORTED_MEDIA',
        'this type of file cannot be sent; send an image (JPEG, PNG, WebP, GIF, HEIC), a PDF, audio or video',
        { reason: 'type-not-allowed' },
      );
  }
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'application/pdf': 'pdf',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
};

/**
 * The name the customer sees on a document: the uploader's base name without path, control or quoting characters,
 * at most 120 characters, with the extension of the type detected from the bytes (so that "rechnung.exe" holding a
 * PDF arrives as "rechnung.pdf"). Without a usable name: "<type>.<ext>".
 */
export function attachmentFileName(name: string | undefined, mimeType: string, mediaType: OutboundMediaType): string {
  const ext = EXTENSIONS[mimeType] ?? 'bin';
  const base = (name ?? '')
    .split(/[\\/]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f"<>|:*?;]/g, '')
    .replace(/\.[^.]*$/, '')
    .trim()
    .slice(0, 120);
  return `${base || mediaType}.${ext}`;
}

/** How many {{n}} placeholders a template body has (the highest n). */
export function placeholderCount(body: string): number {
  let max = 0;
  for (const m of body.matchAll(/\{\{(\d+)\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}

/** The template's text with its parameters filled in, as the customer will read it (kept for the agent's view). */
export function renderTemplate(body: string, parameters: readonly string[]): string {
  return body.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => parameters[Number(n) - 1] ?? whole);
}

/** A quoted text as the thread shows it: at most 200 characters. */
function cut(text: string | null): string | null {
  return cutTo(text, 200);
}

function cutTo(text: string | null, max: number): string | null {
  if (text === null) return null;
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** Location, contact cards and the reason of an unsupported type, from a message's sealed details. */
function structuredParts(kind: string, extra: Record<string, unknown> | undefined): Partial<MessageView> {
  if (!extra) return {};
  const parts: Partial<MessageView> = {};
  const location = extra.location as Record<string, unknown> | undefined;
  if (
    kind === 'location' &&
    location &&
    typeof location.latitude === 'number' &&
    typeof location.longitude === 'number'
  ) {
    parts.location = {
      latitude: location.latitude,
      longitude: location.longitude,
      ...(typeof location.name === 'string' ? { name: location.name } : {}),
      ...(typeof location.address === 'string' ? { address: location.address } : {}),
    };
  }
  if (kind === 'contacts' && Array.isArray(extra.contacts)) {
    parts.contacts = (extra.contacts as Record<string, unknown>[]).map((c) => ({
      ...(typeof c.name === 'string' ? { name: c.name } : {}),
      phones: Array.isArray(c.phones)
        ? (c.phones as { phone?: unknown }[]).flatMap((p) => (typeof p.phone === 'string' ? [p.phone] : []))
        : [],
      emails: Array.isArray(c.emails) ? (c.emails as unknown[]).filter((e): e is string => typeof e === 'string') : [],
      ...(typeof c.company === 'string' ? { company: c.company } : {}),
    }));
  }
  if (kind === 'unsupported') {
    const errors = Array.isArray(extra.errors) ? (extra.errors as { code?: unknown; reason?: unknown }[]) : [];
    const reason = errors
      .map((e) => [e.code, e.reason].filter((v) => typeof v === 'string' && v !== '').join(' '))
      .filter(Boolean)
      .join('; ');
    parts.unsupported = {
      providerType: typeof extra.providerType === 'string' ? extra.providerType : 'unknown',
      reason: reason || null,
    };
  }
  return parts;
}

/** Most reply buttons an agent's message carries, and the longest title and text with buttons (WhatsApp's limits). */
export const REPLY_BUTTON_LIMITS = Object.freeze({ buttons: 3, title: 20, text: 1024 });

/**
 * The reply buttons of an agent's message: 1 to 3 distinct titles of 1 to 20 characters, the text at most 1024
 * characters, on channels with buttons. Ids are sparsam's own (`reply-1` …); a customer's tap comes back as a button
 * message with the title as its text.
 */
function replyButtons(
  titles: readonly string[],
  textLength: number,
  supported: boolean,
): { id: string; title: string }[] {
  if (!supported) throw new AppError('VALIDATION', 'this channel has no reply buttons', { field: 'buttons' });
  const trimmed = titles.map((t) => t.trim());
  if (trimmed.length > REPLY_BUTTON_LIMITS.buttons) {
    throw new AppError('VALIDATION', `a message has at most ${REPLY_BUTTON_LIMITS.buttons} buttons`, {
      field: 'buttons',
    });
  }
  for (const title of trimmed) {
    const length = [...title].length;
    if (length === 0 || length > REPLY_BUTTON_LIMITS.title) {
      throw new AppError('VALIDATION', `a button title has 1-${REPLY_BUTTON_LIMITS.title} characters`, {
        field: 'buttons',
      });
    }
  }
  if (new Set(trimmed.map((t) => t.toLowerCase())).size !== trimmed.length) {
    throw new AppError('VALIDATION', 'the button titles must differ', { field: 'buttons' });
  }
  if (textLength > REPLY_BUTTON_LIMITS.text) {
    throw new AppError('VALIDATION', `a message with buttons has at most ${REPLY_BUTTON_LIMITS.text} characters`, {
      field: 'text',
    });
  }
  return trimmed.map((title, i) => ({ id: `reply-${i + 1}`, title }));
}
