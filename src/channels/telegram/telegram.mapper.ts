import { createHmac } from 'node:crypto';
import type { CallbackQuery, Chat, Message, Update, User } from 'grammy/types';
import type { InboundEvent, InboundKind, InboundMediaRef, InboundMessage } from '../../core/channel/channel.port.ts';

/** What one Telegram update turns into: core events, and content-free reasons for anything left out. */
export interface TelegramMapping {
  events: InboundEvent[];
  /** Why parts of the update were not turned into events (group chat, unsupported update type); safe to log. */
  ignored: string[];
  /** A tapped inline button to acknowledge with answerCallbackQuery (stops the spinner in the customer's app). */
  callbackQueryId: string | undefined;
}

/**
 * Turns a chat id into the chat part of provider message ids. Telegram's `message_id` is unique only within one
 * chat, so the chat must be part of the id; but the chat id of a private chat is the customer's Telegram user id
 * (the address, personal data), and provider message ids are stored in plain text for deduplication. The chat part
 * is therefore a keyed hash: HMAC-SHA256(bot token, chat id), 96 bits in base64url. Stable for the bot, unique per
 * chat, and not reversible without the bot token.
 */
export type ChatKey = (chatId: number | string) => string;

export function telegramChatKey(botToken: string): ChatKey {
  return (chatId) =>
    createHmac('sha256', botToken).update(`sparsam:telegram-chat:${chatId}`).digest('base64url').slice(0, 16);
}

/** The provider message id of a Telegram message: `<chat key>:<message id>`, unique per bot, i.e. per channel. */
export function telegramMessageId(chatKey: string, messageId: number): string {
  return `${chatKey}:${messageId}`;
}

/** The Telegram message id inside a provider message id made by {@link telegramMessageId}. */
export function splitTelegramMessageId(id: string): { chatKey: string; messageId: number } | undefined {
  const match = /^([A-Za-z0-9_-]{16}):(\d+)$/.exec(id);
  return match ? { chatKey: match[1]!, messageId: Number(match[2]) } : undefined;
}

const GROUP_REASON = 'chat is not private: sparsam talks to customers one to one, group messages are not stored';

/**
 * Maps one Telegram `Update` to core events. Only private chats are accepted (a bot added to a group would otherwise
 * copy the group's conversation, including people who never agreed to anything). Messages from bots are ignored.
 *
 * - message → InboundMessage: text, photo (largest size), document, video, animation, audio, voice, video note,
 *   sticker, location, venue, contact; anything else (poll, dice, game…) → kind 'unsupported';
 * - edited_message → InboundEdit of the original `<chat>:<message>` id;
 * - callback_query (an inline keyboard button, e.g. the consent buttons) → InboundMessage kind 'button' with the
 *   button's `callback_data` as `buttonId` and its label as text;
 * - my_chat_member with status 'kicked' (the customer blocked the bot) → InboundSystem 'user_blocked'.
 *
 * @param now epoch ms; callback queries carry no time of their own.
 */
export function mapTelegramUpdate(update: Update, channelId: string, now: number, chatKey: ChatKey): TelegramMapping {
  const mapping: TelegramMapping = { events: [], ignored: [], callbackQueryId: undefined };
  if (update.message) {
    const message = update.message;
    if (!isCustomerChat(message.chat, message.from, mapping)) return mapping;
    mapping.events.push(mapMessage(message, channelId, chatKey));
  } else if (update.edited_message) {
    const message = update.edited_message;
    if (!isCustomerChat(message.chat, message.from, mapping)) return mapping;
    const original = telegramMessageId(chatKey(message.chat.id), message.message_id);
    mapping.events.push({
      type: 'edit',
      channelId,
      // One id per edit, so that two successive edits are two events but a redelivered edit is the same one.
      providerMessageId: `${original}:edit:${message.edit_date ?? message.date}`,
      originalProviderMessageId: original,
      address: String(message.chat.id),
      sentAt: (message.edit_date ?? message.date) * 1000,
      text: message.text ?? message.caption,
    });
  } else if (update.callback_query) {
    mapCallbackQuery(update.callback_query, channelId, now, chatKey, mapping);
  } else if (update.my_chat_member) {
    const member = update.my_chat_member;
    if (member.chat.type !== 'private') {
      mapping.ignored.push(GROUP_REASON);
    } else if (member.new_chat_member.status === 'kicked') {
      mapping.events.push({
        type: 'system',
        channelId,
        providerMessageId: `${chatKey(member.chat.id)}:blocked:${member.date}`,
        address: String(member.chat.id),
        sentAt: member.date * 1000,
        systemType: 'user_blocked',
        newAddress: undefined,
      });
    } else {
      mapping.ignored.push(`chat member status ${member.new_chat_member.status} needs no action`);
    }
  } else {
    const kind = Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
    mapping.ignored.push(`update type ${kind} is not handled`);
  }
  return mapping;
}

function isCustomerChat(chat: Chat, from: User | undefined, mapping: TelegramMapping): boolean {
  if (chat.type !== 'private') {
    mapping.ignored.push(GROUP_REASON);
    return false;
  }
  if (from?.is_bot) {
    mapping.ignored.push('message from a bot');
    return false;
  }
  return true;
}

function profileName(user: User | undefined, chat: Chat): string | undefined {
  const first = user?.first_name ?? ('first_name' in chat ? chat.first_name : undefined);
  const last = user?.last_name ?? ('last_name' in chat ? chat.last_name : undefined);
  const name = [first, last].filter((p) => p && p.trim()).join(' ');
  return name || undefined;
}

function mapMessage(message: Message, channelId: string, chatKey: ChatKey): InboundMessage {
  const key = chatKey(message.chat.id);
  const base: InboundMessage = {
    type: 'message',
    channelId,
    providerMessageId: telegramMessageId(key, message.message_id),
    address: String(message.chat.id),
    profileName: profileName(message.from, message.chat),
    sentAt: message.date * 1000,
    kind: 'unsupported',
    text: undefined,
    buttonId: undefined,
    media: undefined,
    replyToProviderMessageId: message.reply_to_message
      ? telegramMessageId(key, message.reply_to_message.message_id)
      : undefined,
    extra: undefined,
  };
  const caption = message.caption;
  const withMedia = (kind: InboundKind, media: InboundMediaRef): InboundMessage => ({
    ...base,
    kind,
    text: caption,
    media,
  });

  if (message.text !== undefined) return { ...base, kind: 'text', text: message.text };
  if (message.photo && message.photo.length > 0) {
    // Telegram lists every size it made, smallest first; take the largest by pixel count, not by position alone.
    const largest = message.photo.reduce((a, b) => (b.width * b.height >= a.width * a.height ? b : a));
    return withMedia('image', {
      providerMediaId: largest.file_id,
      mimeType: 'image/jpeg',
      fileName: undefined,
      sha256: undefined,
      size: largest.file_size,
    });
  }
  // An animation message also carries `document` for old clients: look at it first.
  if (message.animation) return withMedia('video', fileRef(message.animation, 'video/mp4'));
  if (message.video) return withMedia('video', fileRef(message.video, 'video/mp4'));
  if (message.video_note) return withMedia('video', fileRef(message.video_note, 'video/mp4'));
  if (message.voice) return withMedia('voice', fileRef(message.voice, 'audio/ogg'));
  if (message.audio) return withMedia('audio', fileRef(message.audio, 'audio/mpeg'));
  if (message.document) return withMedia('document', fileRef(message.document, undefined));
  if (message.sticker) {
    const s = message.sticker;
    const mime = s.is_animated ? 'application/x-tgsticker' : s.is_video ? 'video/webm' : 'image/webp';
    return { ...withMedia('sticker', fileRef(s, mime)), text: s.emoji };
  }
  if (message.venue) {
    const v = message.venue;
    return {
      ...base,
      kind: 'location',
      text: [v.title, v.address].filter(Boolean).join(', '),
      extra: {
        location: { latitude: v.location.latitude, longitude: v.location.longitude, name: v.title, address: v.address },
      },
    };
  }
  if (message.location) {
    const l = message.location;
    return {
      ...base,
      kind: 'location',
      extra: {
        location: {
          latitude: l.latitude,
          longitude: l.longitude,
          ...(l.horizontal_accuracy !== undefined ? { accuracyMeters: l.horizontal_accuracy } : {}),
          ...(l.live_period !== undefined ? { livePeriodSeconds: l.live_period } : {}),
        },
      },
    };
  }
  if (message.contact) {
    const c = message.contact;
    const name = [c.first_name, c.last_name].filter(Boolean).join(' ');
    return {
      ...base,
      kind: 'contacts',
      text: name,
      extra: {
        contacts: [
          {
            name: { formatted_name: name, first_name: c.first_name, last_name: c.last_name },
            phones: [{ phone: c.phone_number }],
            ...(c.user_id !== undefined ? { telegramUserId: c.user_id } : {}),
          },
        ],
      },
    };
  }
  const type = Object.keys(message).find((k) => !COMMON_MESSAGE_FIELDS.has(k)) ?? 'unknown';
  return { ...base, kind: 'unsupported', text: caption, extra: { telegramType: type } };
}

const COMMON_MESSAGE_FIELDS = new Set([
  'message_id',
  'message_thread_id',
  'from',
  'sender_chat',
  'date',
  'chat',
  'forward_origin',
  'is_topic_message',
  'is_automatic_forward',
  'reply_to_message',
  'external_reply',
  'quote',
  'via_bot',
  'edit_date',
  'has_protected_content',
  'author_signature',
  'entities',
  'caption',
  'caption_entities',
  'link_preview_options',
  'reply_markup',
]);

function fileRef(
  file: { file_id: string; file_size?: number; mime_type?: string; file_name?: string },
  fallbackMime: string | undefined,
): InboundMediaRef {
  return {
    providerMediaId: file.file_id,
    mimeType: file.mime_type ?? fallbackMime,
    fileName: file.file_name,
    sha256: undefined,
    size: file.file_size,
  };
}

function mapCallbackQuery(
  query: CallbackQuery,
  channelId: string,
  now: number,
  chatKey: ChatKey,
  mapping: TelegramMapping,
): void {
  const message = query.message;
  const chat = message?.chat;
  if (chat && chat.type !== 'private') {
    mapping.ignored.push(GROUP_REASON);
    return;
  }
  mapping.callbackQueryId = query.id;
  if (query.data === undefined) {
    // Game buttons carry `game_short_name` instead of data; sparsam sends none.
    mapping.ignored.push('callback query without data');
    return;
  }
  const chatId = chat?.id ?? query.from.id;
  let title: string | undefined;
  if (message && 'reply_markup' in message && message.reply_markup) {
    for (const row of message.reply_markup.inline_keyboard) {
      for (const button of row) {
        if ('callback_data' in button && button.callback_data === query.data) title = button.text;
      }
    }
  }
  mapping.events.push({
    type: 'message',
    channelId,
    // Callback query ids are unique per bot; a redelivered update carries the same id.
    providerMessageId: `${chatKey(chatId)}:cb:${query.id}`,
    address: String(chatId),
    profileName: profileName(query.from, chat ?? ({ id: chatId, type: 'private', first_name: '' } as Chat)),
    sentAt: now,
    kind: 'button',
    text: title,
    buttonId: query.data,
    media: undefined,
    replyToProviderMessageId: message ? telegramMessageId(chatKey(chatId), message.message_id) : undefined,
    extra: undefined,
  });
}
