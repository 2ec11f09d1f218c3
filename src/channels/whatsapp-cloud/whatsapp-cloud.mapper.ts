import type {
  DeliveryStatus,
  InboundError,
  InboundEvent,
  InboundKind,
  InboundMediaRef,
  InboundMessage,
  InboundStatus,
} from '../../core/channel/channel.port.ts';
import { shortReason } from './whatsapp-cloud.client.ts';
import {
  hasValidContent,
  isKnownMessageType,
  messageContent,
  type WhatsAppError,
  type WhatsAppMessage,
  type WhatsAppMessagesValue,
  type WhatsAppStatus,
  type WhatsAppWebhook,
} from './whatsapp-cloud.parser.ts';

/** What the mapper made of a webhook: the events in payload order, and content-free notes on what it left out. */
export interface WhatsAppMapping {
  events: InboundEvent[];
  /** Short, content-free reasons ("status:played", "field:account_update") for the log. */
  ignored: string[];
}

const DELIVERY_STATUSES: ReadonlySet<string> = new Set(['sent', 'delivered', 'read', 'failed']);

/**
 * Turns a parsed Cloud API webhook into the port's {@link InboundEvent}s: every message of every change of every
 * entry, then its statuses, then its out-of-band errors. Used unchanged by the 360dialog channel (same payload).
 */
export function mapWhatsAppWebhook(webhook: WhatsAppWebhook, channelId: string): WhatsAppMapping {
  const events: InboundEvent[] = [];
  const ignored = webhook.ignoredFields.map((f) => `field:${f}`);
  for (const { value } of webhook.changes) {
    for (const message of value.messages ?? []) {
      const event = mapMessage(message as WhatsAppMessage, value, channelId);
      if (event) events.push(event);
      else ignored.push(`message:${message.type}`);
    }
    for (const status of value.statuses ?? []) {
      const event = mapStatus(status, channelId);
      if (event) events.push(event);
      else ignored.push(`status:${status.status}`);
    }
    for (const error of value.errors ?? []) events.push(mapError(error, channelId));
  }
  return { events, ignored };
}

function mapMessage(message: WhatsAppMessage, value: WhatsAppMessagesValue, channelId: string): InboundEvent | null {
  const sentAt = Number(message.timestamp) * 1000;
  const address = message.from ?? '';
  const type = message.type;
  const malformed = isKnownMessageType(type) && !hasValidContent(message);

  if (type === 'system' && !malformed) {
    const system = messageContent(message, 'system');
    const systemType = system.type ?? 'unknown';
    return {
      type: 'system',
      channelId,
      providerMessageId: message.id,
      address: message.from,
      sentAt,
      systemType,
      // user_changed_number carries the new number in `wa_id` (older payloads: `new_wa_id`).
      newAddress: systemType === 'user_changed_number' ? (system.wa_id ?? system.new_wa_id) : undefined,
    };
  }
  if (type === 'revoke' && !malformed) {
    const revoke = messageContent(message, 'revoke');
    return {
      type: 'revoke',
      channelId,
      providerMessageId: message.id,
      originalProviderMessageId: revoke.original_message_id,
      address,
      sentAt,
    };
  }
  if (type === 'edit' && !malformed) {
    const edit = messageContent(message, 'edit');
    const inner = edit.message as (Record<string, unknown> & { type: string }) | undefined;
    return {
      type: 'edit',
      channelId,
      providerMessageId: message.id,
      originalProviderMessageId: edit.original_message_id,
      address,
      sentAt,
      text: inner ? editedText(inner) : undefined,
    };
  }

  const contact = value.contacts?.find((c) => c.wa_id === message.from) ?? value.contacts?.[0];
  const base: InboundMessage = {
    type: 'message',
    channelId,
    providerMessageId: message.id,
    address,
    profileName: contact?.profile?.name || undefined,
    sentAt,
    kind: 'unsupported',
    text: undefined,
    buttonId: undefined,
    media: undefined,
    replyToProviderMessageId: message.context?.id,
    extra: undefined,
  };
  const extra: Record<string, unknown> = {};
  if (message.context?.forwarded) extra.forwarded = true;
  if (message.context?.frequently_forwarded) extra.frequentlyForwarded = true;
  if (message.referral) {
    extra.referral = { sourceType: message.referral.source_type, sourceId: message.referral.source_id };
  }
  const done = (fields: Partial<InboundMessage>): InboundMessage => {
    const merged = { ...extra, ...(fields.extra ?? {}) };
    return { ...base, ...fields, extra: Object.keys(merged).length > 0 ? merged : undefined };
  };

  if (!isKnownMessageType(type) || malformed) {
    return done({
      kind: 'unsupported',
      extra: { providerType: type, errors: errorSummaries(message.errors), ...(malformed ? { malformed: true } : {}) },
    });
  }
  switch (type) {
    case 'text':
      return done({ kind: 'text', text: messageContent(message, 'text').body });
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const media = messageContent(message, type);
      const kind: InboundKind = type === 'audio' && media.voice ? 'voice' : type;
      return done({ kind, text: media.caption || undefined, media: mediaRef(media) });
    }
    case 'location': {
      const location = messageContent(message, 'location');
      const text = [location.name, location.address].filter(Boolean).join(', ') || undefined;
      return done({
        kind: 'location',
        text,
        extra: {
          location: {
            latitude: location.latitude,
            longitude: location.longitude,
            name: location.name,
            address: location.address,
            url: location.url,
          },
        },
      });
    }
    case 'contacts': {
      const cards = messageContent(message, 'contacts');
      const names = cards.map((c) => c.name?.formatted_name).filter((n): n is string => Boolean(n));
      return done({
        kind: 'contacts',
        text: names.length > 0 ? names.join(', ') : undefined,
        extra: {
          contacts: cards.map((c) => ({
            name: c.name?.formatted_name,
            phones: (c.phones ?? []).map((p) => ({ phone: p.phone, waId: p.wa_id, type: p.type })),
            emails: (c.emails ?? []).map((e) => e.email).filter(Boolean),
            company: c.org?.company,
          })),
        },
      });
    }
    case 'interactive': {
      const interactive = messageContent(message, 'interactive');
      if (interactive.type === 'button_reply' && interactive.button_reply) {
        return done({ kind: 'button', buttonId: interactive.button_reply.id, text: interactive.button_reply.title });
      }
      if (interactive.type === 'list_reply' && interactive.list_reply) {
        return done({
          kind: 'button',
          buttonId: interactive.list_reply.id,
          text: interactive.list_reply.title,
          extra: interactive.list_reply.description ? { description: interactive.list_reply.description } : undefined,
        });
      }
      if (interactive.type === 'nfm_reply' && interactive.nfm_reply) {
        // A WhatsApp Flow was completed: the answers are the customer's, kept encrypted with the message.
        return done({
          kind: 'text',
          text: interactive.nfm_reply.body,
          extra: {
            flow: { name: interactive.nfm_reply.name, response: parseJsonObject(interactive.nfm_reply.response_json) },
          },
        });
      }
      return done({ kind: 'unsupported', extra: { providerType: `interactive:${interactive.type}` } });
    }
    case 'button': {
      // A quick-reply button of a template; `context.id` points at the template message.
      const button = messageContent(message, 'button');
      return done({ kind: 'button', buttonId: button.payload ?? button.text, text: button.text });
    }
    case 'reaction': {
      const reaction = messageContent(message, 'reaction');
      const emoji = reaction.emoji || undefined;
      return done({
        kind: 'reaction',
        text: emoji,
        replyToProviderMessageId: reaction.message_id,
        // An empty or missing emoji means the customer took the reaction back.
        extra: { reaction: { removed: emoji === undefined } },
      });
    }
    case 'order': {
      const order = messageContent(message, 'order');
      return done({
        kind: 'order',
        text: order.text || undefined,
        extra: {
          order: {
            catalogId: order.catalog_id,
            items: order.product_items.map((i) => ({
              productId: i.product_retailer_id,
              quantity: Number(i.quantity),
              price: i.item_price === undefined ? undefined : Number(i.item_price),
              currency: i.currency,
            })),
          },
        },
      });
    }
  }
  return null;
}

function editedText(inner: Record<string, unknown> & { type: string }): string | undefined {
  const body = inner[inner.type] as { body?: unknown; caption?: unknown } | undefined;
  if (typeof body?.body === 'string') return body.body;
  if (typeof body?.caption === 'string') return body.caption;
  return undefined;
}

function mediaRef(media: {
  id: string;
  mime_type?: string | undefined;
  sha256?: string | undefined;
  filename?: string | undefined;
  file_size?: string | number | undefined;
}): InboundMediaRef {
  const size = media.file_size === undefined ? undefined : Number(media.file_size);
  return {
    providerMediaId: media.id,
    // "audio/ogg; codecs=opus" → "audio/ogg": the parameters say nothing the sanitizer does not find itself.
    mimeType: media.mime_type?.split(';')[0]?.trim() || undefined,
    fileName: media.filename,
    sha256: media.sha256,
    size: Number.isFinite(size) ? size : undefined,
  };
}

function mapStatus(status: WhatsAppStatus, channelId: string): InboundStatus | null {
  if (!DELIVERY_STATUSES.has(status.status)) return null;
  const first = status.errors?.[0];
  return {
    type: 'status',
    channelId,
    providerMessageId: status.id,
    status: status.status as DeliveryStatus,
    at: Number(status.timestamp) * 1000,
    error: first ? { code: String(first.code), reason: errorReason(first) } : undefined,
    pricingCategory: status.pricing?.category,
  };
}

function mapError(error: WhatsAppError, channelId: string): InboundError {
  return { type: 'error', channelId, code: String(error.code), reason: errorReason(error) };
}

/** The most useful short text Meta gives: details, else message, else title; shortened, phone numbers masked. */
export function errorReason(error: WhatsAppError): string {
  return shortReason(error.error_data?.details || error.message || error.title || 'unknown error');
}

function errorSummaries(errors: WhatsAppError[] | undefined): { code: string; reason: string }[] | undefined {
  return errors?.map((e) => ({ code: String(e.code), reason: errorReason(e) }));
}

function parseJsonObject(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
