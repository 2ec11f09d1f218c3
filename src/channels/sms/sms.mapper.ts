import type { DeliveryStatus, InboundEvent, InboundKind } from '../../core/channel/channel.port.ts';
import type { TwilioWebhook } from './sms.parser.ts';

/**
 * Keywords carriers and Twilio act on by themselves on long codes and toll-free numbers
 * (https://help.twilio.com/articles/223134027): after STOP (or a synonym) Twilio blocks further messages to the
 * sender (error 21610) until START; HELP gets Twilio's or the configured help reply. The text reaches sparsam
 * unchanged, so the inbox's own stop keywords (consent withdrawal) apply to it as to any other channel; an SMS inbox
 * should list these synonyms in `stopKeywords` too.
 */
export const SMS_STOP_KEYWORDS = Object.freeze(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
export const SMS_START_KEYWORDS = Object.freeze(['START', 'YES', 'UNSTOP']);
export const SMS_HELP_KEYWORDS = Object.freeze(['HELP', 'INFO']);

/** Which carrier keyword a message is, when the whole message (trimmed, any case) is one. */
export function carrierKeyword(text: string): 'stop' | 'start' | 'help' | undefined {
  const word = text.trim().toUpperCase();
  if (SMS_STOP_KEYWORDS.includes(word)) return 'stop';
  if (SMS_START_KEYWORDS.includes(word)) return 'start';
  if (SMS_HELP_KEYWORDS.includes(word)) return 'help';
  return undefined;
}

/**
 * Twilio's MessageStatus values (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values)
 * mapped to sparsam's; queued, accepted, scheduled and sending are steps before "sent" and are not reported.
 */
const STATUS: Record<string, DeliveryStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

/** Short reasons for the Twilio error codes an agent meets most (https://www.twilio.com/docs/api/errors). */
const ERROR_REASONS: Record<string, string> = {
  '21610': 'the customer has replied STOP to this number; sending is blocked until they reply START',
  '21211': 'the number is not a valid phone number',
  '21408': 'sending to this region is not enabled for the account',
  '21614': 'the number cannot receive SMS',
  '30003': 'the phone is switched off or unreachable',
  '30004': 'the message was blocked (the customer or the carrier blocks it)',
  '30005': 'the number is unknown or no longer in service',
  '30006': 'the number is a landline or its carrier cannot be reached',
  '30007': 'the carrier filtered the message as spam',
  '30008': 'the carrier reported an unknown error',
  '30034': 'the sender number is not registered for A2P messaging',
};

export function twilioErrorReason(code: string): string {
  return ERROR_REASONS[code] ?? `Twilio error ${code}`;
}

/** What one Twilio webhook turns into, plus content-free reasons for what was left out. */
export interface SmsMapping {
  events: InboundEvent[];
  ignored: string[];
}

/**
 * Maps a parsed Twilio webhook to core events. An SMS/MMS becomes one message; an MMS with several files becomes one
 * message per file (the first carries the text), ids `<MessageSid>` and `<MessageSid>#<n>`. The text is passed on
 * exactly as received (STOP handling is the inbox's). Twilio sends no time with either webhook: `now` is used.
 */
export function mapTwilioWebhook(webhook: TwilioWebhook, channelId: string, now: number): SmsMapping {
  if (webhook.kind === 'status') {
    const status = STATUS[webhook.status];
    if (!status) return { events: [], ignored: [`message status ${webhook.status} is not reported`] };
    const failed = status === 'failed';
    const code = webhook.errorCode ?? (webhook.status === 'canceled' ? 'canceled' : 'unknown');
    return {
      events: [
        {
          type: 'status',
          channelId,
          providerMessageId: webhook.messageSid,
          status,
          at: now,
          error: failed
            ? { code, reason: webhook.status === 'canceled' ? 'the message was canceled' : twilioErrorReason(code) }
            : undefined,
          pricingCategory: undefined,
        },
      ],
      ignored: [],
    };
  }
  const keyword = carrierKeyword(webhook.body);
  const extra: Record<string, unknown> | undefined =
    keyword || webhook.optOutType
      ? {
          ...(keyword ? { carrierKeyword: keyword } : {}),
          ...(webhook.optOutType ? { optOutType: webhook.optOutType } : {}),
        }
      : undefined;
  const base = {
    type: 'message' as const,
    channelId,
    address: webhook.from,
    profileName: undefined,
    sentAt: now,
    buttonId: undefined,
    replyToProviderMessageId: undefined,
    extra,
  };
  if (webhook.media.length === 0) {
    return {
      events: [{ ...base, providerMessageId: webhook.messageSid, kind: 'text', text: webhook.body, media: undefined }],
      ignored: [],
    };
  }
  const events: InboundEvent[] = webhook.media.map((m, i) => ({
    ...base,
    providerMessageId: i === 0 ? webhook.messageSid : `${webhook.messageSid}#${i}`,
    kind: mediaKind(m.contentType),
    text: i === 0 && webhook.body !== '' ? webhook.body : undefined,
    media: {
      providerMediaId: m.url,
      mimeType: m.contentType,
      fileName: undefined,
      sha256: undefined,
      size: undefined,
    },
  }));
  return { events, ignored: [] };
}

function mediaKind(contentType: string | undefined): InboundKind {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'document';
}
