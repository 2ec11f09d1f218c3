import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type { Channel, InboundEvent, InboundKind } from '../channel/channel.port.ts';
import type { ContactRecord, MessageRecord } from '../ports/model.ts';
import type { InboxEvent } from './inbox-events.ts';
import type { InboxDeps } from './inbox.ports.ts';
import { openMediaBytes, openMessageContent } from './message-content.ts';
import { channelPausedReply, websiteChatNotice, type NoticeLanguage } from './notices.ts';

/** What the visitor's chat window needs of the inbox: receiving, and the media fetch that sanitizes an upload. */
export interface VisitorInbox {
  receive(events: readonly InboundEvent[]): Promise<void>;
  fetchMedia(mediaId: string): Promise<'stored' | 'rejected' | 'failed' | 'skipped'>;
  isChannelEnabled(channelId: string): Promise<boolean>;
}

/** A message as the visitor sees it in the chat window: their own and the staff's sent replies, nothing else. */
export interface VisitorMessage {
  id: string;
  from: 'visitor' | 'staff';
  text: string | null;
  file: { name: string; mimeType: string; size: number; state: 'pending' | 'stored' | 'rejected' | 'failed' } | null;
  /** Staff messages: sent, delivered (the window received it) or read (the visitor had it on screen). */
  status: string;
  at: string;
}

/** The longest message a visitor may type. */
export const VISITOR_MAX_TEXT_CHARS = 4096;
/** The largest file a visitor may upload (before sanitizing). */
export const VISITOR_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** The form of the token the browser keeps: 32 random bytes, base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** A client's id of a message it sends (a retry of the same send carries the same id). */
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Provider ids of the staff's messages in the website chat: derived from sparsam's message id. */
export const VISITOR_OUTBOUND_PREFIX = 'wc-';

/**
 * The visitor's side of a website chat (a channel whose customers write from a chat window on the organisation's
 * site, and whose messages sparsam itself keeps for them).
 *
 * The visitor is known by a random token that only their browser keeps; sparsam stores no token: the contact's
 * address is the token's SHA-256, sealed like every address, and found by the keyed lookup hash of that. Nothing is
 * written before the visitor accepts the privacy notice: the acceptance creates the contact and the consent ledger
 * entry (the notice version is the hash of the text shown), and the token is handed out only then. Messages go the
 * way every channel's messages go (InboxService.receive: pseudonym, sealed content, group commit); the staff's replies
 * go through the outbox and the send job, whose "send" makes them visible to the visitor; the window's
 * acknowledgements become the delivered and read statuses.
 */
export class VisitorChatService {
  constructor(
    private readonly deps: Pick<
      InboxDeps,
      | 'clock'
      | 'logger'
      | 'channels'
      | 'contacts'
      | 'consent'
      | 'conversations'
      | 'messages'
      | 'media'
      | 'keys'
      | 'erasure'
      | 'audit'
      | 'events'
      | 'inboxes'
      | 'organisation'
      | 'noticeVersion'
      | 'formatLabel'
    >,
    private readonly inbox: VisitorInbox,
  ) {}

  /** The notice in the visitor's language, with its version (the SHA-256 of the exact text). */
  async notice(channelId: string, language: NoticeLanguage): Promise<{ text: string; version: string }> {
    const channel = this.#channel(channelId);
    const inbox = await this.deps.inboxes.get(channel.inboxId);
    if (!inbox) throw new AppError('NOT_FOUND', 'no website chat with this id');
    const text = websiteChatNotice(inbox, this.deps.organisation, language);
    return { text, version: this.deps.noticeVersion(text) };
  }

  /** False while an admin has paused the chat (kill switch). */
  isEnabled(channelId: string): Promise<boolean> {
    return this.inbox.isChannelEnabled(this.#channel(channelId).id);
  }

  /** The reply a paused chat gives (kill switch), in the visitor's language. */
  async pausedText(channelId: string, language: NoticeLanguage): Promise<string> {
    this.#channel(channelId);
    return channelPausedReply(language, this.deps.organisation);
  }

  /**
   * The visitor accepted the notice of `noticeVersion`: creates the contact and the consent entry and returns the
   * token, once. A version that is not the current text's (the notice changed while the window was open) is refused
   * with CONFLICT, so that the consent on record is always for the text the visitor saw.
   */
  async accept(channelId: string, language: NoticeLanguage, noticeVersion: string): Promise<{ token: string }> {
    const channel = this.#channel(channelId);
    await this.#requireEnabled(channel);
    const current = await this.notice(channelId, language);
    if (noticeVersion !== current.version) {
      throw new AppError('CONFLICT', 'the privacy notice has changed; please read the current one', {
        reason: 'notice-changed',
      });
    }
    const token = randomBytes(32).toString('base64url');
    const { contact } = await this.deps.contacts.findOrCreate({
      inboxId: channel.inboxId,
      channelId: channel.id,
      channelKind: channel.kind,
      address: visitorAddress(token),
    });
    await this.deps.consent.grant({
      contactId: contact.id,
      channelId: channel.id,
      purpose: 'service',
      noticeVersion: current.version,
      method: 'widget:accept',
    });
    await this.deps.audit.append({
      actor: `webchat:${channel.id}`,
      action: 'consent.grant',
      targetType: 'contact',
      targetId: contact.id,
      details: { method: 'widget:accept', noticeVersion: current.version, language },
    });
    return { token };
  }

  /** The contact of a token that accepted the notice and has not withdrawn. @throws UNAUTHENTICATED otherwise. */
  async identify(channelId: string, token: string | undefined): Promise<{ channel: Channel; contact: ContactRecord }> {
    const channel = this.#channel(channelId);
    if (!token || !TOKEN_PATTERN.test(token)) throw unknownVisitor();
    const contact = await this.deps.contacts.findByAddress(channel.id, channel.kind, visitorAddress(token));
    if (!contact) throw unknownVisitor();
    const consent = await this.deps.consent.status(contact.id, 'service');
    if (!consent.allowed) throw unknownVisitor();
    return { channel, contact };
  }

  /** A text from the visitor. `clientId` makes a retried send harmless (stored once). */
  async sendText(
    channelId: string,
    token: string | undefined,
    clientId: string,
    text: string,
  ): Promise<VisitorMessage> {
    const { channel, contact } = await this.identify(channelId, token);
    await this.#requireEnabled(channel);
    const trimmed = text.trim();
    if (trimmed === '') throw new AppError('VALIDATION', 'the message is empty', { field: 'text' });
    if ([...trimmed].length > VISITOR_MAX_TEXT_CHARS) {
      throw new AppError('TEXT_TOO_LONG', `a message may have at most ${VISITOR_MAX_TEXT_CHARS} characters`, {
        maxChars: VISITOR_MAX_TEXT_CHARS,
      });
    }
    const providerMessageId = this.#inboundId(token!, clientId);
    await this.inbox.receive([
      this.#message(channel, token!, providerMessageId, { kind: 'text', text: trimmed, media: undefined }),
    ]);
    return this.#stored(channel, contact, providerMessageId);
  }

  /**
   * A file from the visitor: handed to the channel, received as a message with an attachment, and passed through the
   * media sanitizer before the answer (images re-encoded without EXIF and GPS, other types checked by their bytes).
   */
  async sendFile(
    channelId: string,
    token: string | undefined,
    clientId: string,
    file: { data: Buffer; mimeType: string | undefined; fileName: string | undefined },
  ): Promise<VisitorMessage> {
    const { channel, contact } = await this.identify(channelId, token);
    await this.#requireEnabled(channel);
    if (!channel.acceptUpload) throw new AppError('UNSUPPORTED_MEDIA', 'this channel takes no files');
    if (file.data.length === 0) throw new AppError('VALIDATION', 'the file is empty', { field: 'file' });
    if (file.data.length > VISITOR_MAX_FILE_BYTES) {
      throw new AppError('PAYLOAD_TOO_LARGE', 'a file may be at most 10 MB', { maxBytes: VISITOR_MAX_FILE_BYTES });
    }
    const providerMessageId = this.#inboundId(token!, clientId);
    const ref = channel.acceptUpload(file.data, file.mimeType, file.fileName);
    await this.inbox.receive([
      this.#message(channel, token!, providerMessageId, { kind: kindOf(file.mimeType), text: undefined, media: ref }),
    ]);
    const row = await this.deps.messages.findByProviderId(channel.id, providerMessageId);
    if (row?.media_id) await this.inbox.fetchMedia(row.media_id);
    return this.#stored(channel, contact, providerMessageId);
  }

  /** The visitor's conversation: their messages and the staff's replies that were sent, oldest first. */
  async history(channelId: string, token: string | undefined): Promise<VisitorMessage[]> {
    const { contact } = await this.identify(channelId, token);
    const out: VisitorMessage[] = [];
    for (const { row, content } of await this.#visible(contact)) out.push(await this.#view(row, content));
    return out;
  }

  /** The ids of the visitor's conversations (the live stream follows their events). */
  async conversationIds(contact: ContactRecord): Promise<Set<string>> {
    return new Set((await this.deps.conversations.listForContact(contact.id)).map((c) => c.id));
  }

  /**
   * The window received (`delivered`) or showed (`read`) staff messages: recorded as their delivery statuses the way
   * a provider's status webhook is. Ids of other conversations, and the visitor's own messages, are ignored.
   */
  async acknowledge(
    channelId: string,
    token: string | undefined,
    messageIds: readonly string[],
    status: 'delivered' | 'read',
  ): Promise<number> {
    const { channel, contact } = await this.identify(channelId, token);
    const mine = new Set((await this.#visible(contact)).filter((m) => m.row.direction !== 'in').map((m) => m.row.id));
    const at = this.deps.clock.now().getTime();
    const events: InboundEvent[] = [...new Set(messageIds)]
      .filter((id) => mine.has(id))
      .map((id) => ({
        type: 'status',
        channelId: channel.id,
        providerMessageId: `${VISITOR_OUTBOUND_PREFIX}${id}`,
        status,
        at,
        error: undefined,
        pricingCategory: undefined,
      }));
    await this.inbox.receive(events);
    return events.length;
  }

  /** The bytes of a file in the visitor's conversation (their sanitized upload or a file the staff sent). */
  async file(
    channelId: string,
    token: string | undefined,
    messageId: string,
  ): Promise<{ data: Buffer; mimeType: string; fileName: string }> {
    const { contact } = await this.identify(channelId, token);
    const found = (await this.#visible(contact)).find((m) => m.row.id === messageId);
    const media = found?.row.media_id ? await this.deps.media.findById(found.row.media_id) : undefined;
    if (!found || !media || media.state !== 'stored' || !media.data_enc) {
      throw new AppError('NOT_FOUND', 'no such file');
    }
    const key = await this.deps.keys.existingDataKey('conversation', found.row.conversation_id);
    if (!key) throw new AppError('NOT_FOUND', 'no such file');
    return {
      data: openMediaBytes(key, media.id, media.data_enc),
      mimeType: media.mime_type,
      fileName: fileNameOf(found.content, media.mime_type),
    };
  }

  /**
   * "Forget this chat": the consent is withdrawn and the visitor's contact is erased with every conversation,
   * message and file (crypto-shredded); a content-free audit entry remains. The token opens nothing afterwards.
   */
  async forget(channelId: string, token: string | undefined): Promise<void> {
    const { channel, contact } = await this.identify(channelId, token);
    const actor = `webchat:${channel.id}`;
    await this.deps.consent.withdraw({
      contactId: contact.id,
      channelId: channel.id,
      purpose: 'service',
      method: 'widget:forget',
    });
    const conversations = await this.deps.conversations.listForContact(contact.id);
    await this.deps.erasure.eraseContact(contact.id, { actor, reason: 'consent-withdrawn' });
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
      targetId: contact.id,
      details: { method: 'widget:forget', conversationsErased: conversations.length },
    });
  }

  /**
   * Follows the inbox events of the visitor's conversations: `onChange` is called (content-free) whenever one of them
   * changed, so that the window fetches its history again. Returns the unsubscribe function.
   */
  async follow(contact: ContactRecord, onChange: (event: InboxEvent) => void): Promise<() => void> {
    let ids = await this.conversationIds(contact);
    let reloading: Promise<void> | undefined;
    return this.deps.events.subscribe((event) => {
      if (event.inboxId !== contact.inbox_id) return;
      if (ids.has(event.conversationId)) {
        onChange(event);
        return;
      }
      if (event.type !== 'conversation.created' && event.type !== 'message.created') return;
      // A conversation of this visitor opened after the stream started (the previous one was closed).
      reloading ??= this.conversationIds(contact)
        .then((next) => {
          ids = next;
          if (ids.has(event.conversationId)) onChange(event);
        })
        .catch(() => undefined)
        .finally(() => {
          reloading = undefined;
        });
    });
  }

  // ------------------------------------------------------------------------------------------------ helpers

  #channel(channelId: string): Channel {
    const channel = this.deps.channels.get(channelId);
    if (!channel?.acceptUpload) throw new AppError('NOT_FOUND', 'no website chat with this id');
    return channel;
  }

  async #requireEnabled(channel: Channel): Promise<void> {
    if (!(await this.inbox.isChannelEnabled(channel.id))) {
      throw new AppError('CHANNEL_DISABLED', 'this chat is paused at the moment; nothing was stored', {
        reason: 'paused',
      });
    }
  }

  #inboundId(token: string, clientId: string): string {
    if (!CLIENT_ID_PATTERN.test(clientId)) {
      throw new AppError('VALIDATION', 'clientId must be 8 to 64 letters, digits, "-" or "_"', { field: 'clientId' });
    }
    // Per visitor: two visitors' windows may pick the same client id without touching each other's messages.
    return `wcin-${createHash('sha256')
      .update(`${visitorAddress(token)}\0${clientId}`)
      .digest('base64url')}`;
  }

  #message(
    channel: Channel,
    token: string,
    providerMessageId: string,
    body: {
      kind: InboundKind;
      text: string | undefined;
      media: ReturnType<NonNullable<Channel['acceptUpload']>> | undefined;
    },
  ): InboundEvent {
    return {
      type: 'message',
      channelId: channel.id,
      providerMessageId,
      address: visitorAddress(token),
      profileName: undefined,
      sentAt: this.deps.clock.now().getTime(),
      kind: body.kind,
      text: body.text,
      buttonId: undefined,
      media: body.media,
      replyToProviderMessageId: undefined,
      extra: undefined,
    };
  }

  async #stored(channel: Channel, contact: ContactRecord, providerMessageId: string): Promise<VisitorMessage> {
    const row = await this.deps.messages.findByProviderId(channel.id, providerMessageId);
    // A STOP keyword withdraws the consent and erases everything at once: there is nothing left to show.
    if (!row) throw unknownVisitor();
    const found = (await this.#visible(contact)).find((m) => m.row.id === row.id);
    if (!found) throw unknownVisitor();
    return this.#view(found.row, found.content);
  }

  async #visible(
    contact: ContactRecord,
  ): Promise<{ row: MessageRecord; content: ReturnType<typeof openMessageContent> }[]> {
    const out: { row: MessageRecord; content: ReturnType<typeof openMessageContent> }[] = [];
    const conversations = await this.deps.conversations.listForContact(contact.id);
    conversations.sort((a, b) => a.created_at - b.created_at);
    for (const conversation of conversations) {
      const key = await this.deps.keys.existingDataKey('conversation', conversation.id);
      if (!key) continue;
      for (const row of await this.deps.messages.listForConversation(conversation.id)) {
        if (row.deleted) continue;
        const shown =
          row.direction === 'in' ||
          (row.direction === 'out' && (row.status === 'sent' || row.status === 'delivered' || row.status === 'read'));
        if (!shown) continue;
        out.push({ row, content: row.body_enc ? openMessageContent(key, row.id, row.body_enc) : {} });
      }
    }
    out.sort((a, b) => a.row.created_at - b.row.created_at);
    return out;
  }

  async #view(row: MessageRecord, content: ReturnType<typeof openMessageContent>): Promise<VisitorMessage> {
    let file: VisitorMessage['file'] = null;
    if (row.media_id) {
      const [media] = await this.deps.media.describe([row.media_id]);
      if (media) {
        file = {
          name: fileNameOf(content, media.mime_type),
          mimeType: media.mime_type,
          size: media.size,
          state: media.state,
        };
      }
    }
    return {
      id: row.id,
      from: row.direction === 'in' ? 'visitor' : 'staff',
      text: content.text ?? null,
      file,
      status: row.status,
      at: new Date(row.created_at).toISOString(),
    };
  }
}

/** The address a visitor's contact is stored under: the token's SHA-256 (the token itself is never stored). */
export function visitorAddress(token: string): string {
  return `wct1:${createHash('sha256').update(token).digest('base64url')}`;
}

function unknownVisitor(): AppError {
  return new AppError('UNAUTHENTICATED', 'this chat is not known (any more); start a new one', {
    reason: 'unknown-chat',
  });
}

function kindOf(mimeType: string | undefined): InboundKind {
  if (mimeType?.startsWith('image/')) return 'image';
  if (mimeType?.startsWith('video/')) return 'video';
  if (mimeType?.startsWith('audio/')) return 'audio';
  return 'document';
}

function fileNameOf(content: ReturnType<typeof openMessageContent>, mimeType: string): string {
  const extra = content.extra ?? {};
  const media = extra.media as { fileName?: unknown } | undefined;
  const name = typeof extra.fileName === 'string' ? extra.fileName : media?.fileName;
  if (typeof name === 'string' && name.trim() !== '') {
    // Path separators and control characters out (the name becomes a download's file name).
    return [...name]
      .map((c) => (c === '/' || c === '\\' || c.charCodeAt(0) < 32 ? '_' : c))
      .join('')
      .slice(0, 120);
  }
  const ext = mimeType.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  return `file.${ext}`;
}
