import { createHmac } from 'node:crypto';
import type { InboundEvent, InboundKind, InboundMessage } from '../../core/channel/channel.port.ts';
import type { MessengerAttachment, MessengerMessaging, MessengerWebhook } from './messenger.parser.ts';

/** What one Messenger webhook turns into: core events, and content-free reasons for anything left out. */
export interface MessengerMapping {
  events: InboundEvent[];
  ignored: string[];
}

/**
 * Where Messenger gives no id of its own (older postbacks, reactions), sparsam builds one from the sender and the
 * time. The sender's PSID is the customer's address and provider ids are stored in plain text, so the sender part is
 * a keyed hash: HMAC-SHA256(app secret, PSID), 96 bits in base64url.
 */
export type SenderKey = (psid: string) => string;

export function messengerSenderKey(appSecret: string): SenderKey {
  return (psid) =>
    createHmac('sha256', appSecret).update(`sparsam:messenger-sender:${psid}`).digest('base64url').slice(0, 16);
}

/**
 * Maps a parsed Messenger webhook to core events. The customer's address is the page-scoped id (PSID) in
 * `sender.id`; provider ids are Messenger's `mid`s; timestamps are already epoch ms.
 *
 * - message → InboundMessage: text; a quick reply → kind 'button' with its payload as `buttonId`; each attachment
 *   (image, video, audio, file; sticker; location; shared link) → one message, ids `<mid>`, `<mid>#1`, …, media
 *   referenced by its URL (downloaded later by URL);
 * - postback (a button of a button template, e.g. the consent buttons) → kind 'button' with the payload;
 * - reaction → kind 'reaction' on the message reacted to; message_edit → InboundEdit;
 * - message echo (`is_echo`, a message the page sent) → status 'sent' of that mid;
 * - delivery with `mids` → status 'delivered' of each; read (only a watermark, no ids) cannot be tied to messages
 *   and is left out, as are delivery watermarks without ids;
 * - standby (another app owns the thread, e.g. Meta's Page Inbox) and anything else → left out with a reason.
 */
export function mapMessengerWebhook(
  webhook: MessengerWebhook,
  channelId: string,
  senderKey: SenderKey,
): MessengerMapping {
  const mapping: MessengerMapping = { events: [], ignored: [] };
  for (const entry of webhook.entry) {
    if (entry.standby && entry.standby.length > 0) {
      mapping.ignored.push(`${entry.standby.length} standby event(s): another app owns the thread`);
    }
    for (const item of entry.messaging ?? []) mapItem(item, channelId, senderKey, mapping);
  }
  return mapping;
}

function mapItem(item: MessengerMessaging, channelId: string, senderKey: SenderKey, mapping: MessengerMapping): void {
  const address = item.sender.id;
  const at = item.timestamp;
  if (item.message?.is_echo) {
    mapping.events.push({
      type: 'status',
      channelId,
      providerMessageId: item.message.mid,
      status: 'sent',
      at,
      error: undefined,
      pricingCategory: undefined,
    });
    return;
  }
  const base: Omit<InboundMessage, 'providerMessageId' | 'kind' | 'text'> = {
    type: 'message',
    channelId,
    address,
    profileName: undefined,
    sentAt: at,
    buttonId: undefined,
    media: undefined,
    replyToProviderMessageId: undefined,
    extra: undefined,
  };
  if (item.message) {
    const message = item.message;
    const replyTo = message.reply_to?.mid;
    const common = { ...base, replyToProviderMessageId: replyTo };
    if (message.quick_reply) {
      mapping.events.push({
        ...common,
        providerMessageId: message.mid,
        kind: 'button',
        text: message.text,
        buttonId: message.quick_reply.payload,
      });
      return;
    }
    const attachments = message.attachments ?? [];
    if (attachments.length === 0) {
      mapping.events.push({
        ...common,
        providerMessageId: message.mid,
        kind: message.text !== undefined ? 'text' : 'unsupported',
        text: message.text,
      });
      return;
    }
    attachments.forEach((attachment, i) => {
      mapping.events.push({
        ...common,
        ...mapAttachment(attachment),
        providerMessageId: i === 0 ? message.mid : `${message.mid}#${i}`,
        ...(i === 0 && message.text !== undefined ? { text: message.text } : {}),
      });
    });
    return;
  }
  if (item.postback) {
    mapping.events.push({
      ...base,
      // Newer payloads carry a mid on postbacks; older ones do not: sender and time are unique per tap.
      providerMessageId: item.postback.mid ?? `postback:${senderKey(address)}:${at}`,
      kind: 'button',
      text: item.postback.title,
      buttonId: item.postback.payload,
    });
    return;
  }
  if (item.reaction) {
    const r = item.reaction;
    mapping.events.push({
      ...base,
      providerMessageId: `${r.mid}:reaction:${senderKey(address)}:${at}`,
      kind: 'reaction',
      // An empty text is a removed reaction, as on WhatsApp.
      text: r.action === 'unreact' ? '' : (r.emoji ?? r.reaction ?? ''),
      replyToProviderMessageId: r.mid,
    });
    return;
  }
  if (item.message_edit) {
    const edit = item.message_edit;
    mapping.events.push({
      type: 'edit',
      channelId,
      providerMessageId: `${edit.mid}:edit:${edit.num_edit ?? at}`,
      originalProviderMessageId: edit.mid,
      address,
      sentAt: at,
      text: edit.text,
    });
    return;
  }
  if (item.delivery) {
    const mids = item.delivery.mids ?? [];
    if (mids.length === 0) mapping.ignored.push('delivery watermark without message ids');
    for (const mid of mids) {
      mapping.events.push({
        type: 'status',
        channelId,
        providerMessageId: mid,
        status: 'delivered',
        at,
        error: undefined,
        pricingCategory: undefined,
      });
    }
    return;
  }
  if (item.read) {
    mapping.ignored.push('read watermark: Messenger names no message ids');
    return;
  }
  const kind = Object.keys(item).find((k) => !['sender', 'recipient', 'timestamp'].includes(k)) ?? 'empty';
  mapping.ignored.push(`messaging event ${kind} is not handled`);
}

const MEDIA_KINDS: Record<string, { kind: InboundKind; mime: string | undefined }> = {
  image: { kind: 'image', mime: undefined },
  video: { kind: 'video', mime: undefined },
  audio: { kind: 'audio', mime: undefined },
  file: { kind: 'document', mime: undefined },
};

function mapAttachment(attachment: MessengerAttachment): Pick<InboundMessage, 'kind' | 'text' | 'media' | 'extra'> {
  const payload = attachment.payload ?? undefined;
  const media = MEDIA_KINDS[attachment.type];
  if (media && payload?.url) {
    const sticker = attachment.type === 'image' && payload.sticker_id !== undefined;
    return {
      kind: sticker ? 'sticker' : media.kind,
      text: undefined,
      media: {
        providerMediaId: payload.url,
        mimeType: media.mime,
        fileName: undefined,
        sha256: undefined,
        size: undefined,
      },
      extra: undefined,
    };
  }
  if (attachment.type === 'location' && payload?.coordinates) {
    return {
      kind: 'location',
      text: payload.title ?? attachment.title,
      media: undefined,
      extra: { location: { latitude: payload.coordinates.lat, longitude: payload.coordinates.long } },
    };
  }
  if (attachment.type === 'fallback') {
    // A shared link: its title and URL are the message.
    const text = [attachment.title ?? payload?.title, attachment.url ?? payload?.url].filter(Boolean).join('\n');
    return { kind: 'text', text: text || undefined, media: undefined, extra: undefined };
  }
  return { kind: 'unsupported', text: undefined, media: undefined, extra: { messengerType: attachment.type } };
}
