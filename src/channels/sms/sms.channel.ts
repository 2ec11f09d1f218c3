import { AppError } from '../../shared/app-error.ts';
import type {
  Channel,
  ChannelCapabilities,
  DownloadedMedia,
  InboundMediaRef,
  OutboundCommand,
  SendResult,
  WebhookRequest,
  WebhookResult,
} from '../../core/channel/channel.port.ts';
import type { ChannelDeps } from '../channel-module.ts';
import { NO_OUTBOUND_MEDIA } from '../../core/channel/channel.port.ts';
import { ChannelApiError } from '../../core/channel/channel-errors.ts';
import { TWILIO_MAX_BODY, TwilioClient } from './sms.client.ts';
import { mapTwilioWebhook } from './sms.mapper.ts';
import { parseForm, parseTwilioWebhook } from './sms.parser.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioSignature } from './sms.signature.ts';

import type { SmsChannelConfig } from './sms.config.ts';

export type { SmsChannelConfig };

/** MMS files are at most 5 MB at Twilio (https://www.twilio.com/docs/messaging/guides/accepted-mime-types). */
export const SMS_MAX_MEDIA_BYTES = 5 * 1024 * 1024;

/**
 * SMS has no window and no templates, and no buttons: the consent notice asks for a keyword reply instead (core's
 * fallback). One message per second is the safe rate for a long code (Twilio queues above it).
 */
export const SMS_CAPABILITIES: ChannelCapabilities = Object.freeze({
  messagingWindowHours: null,
  supportsButtons: false,
  supportsLists: false,
  supportsTemplates: false,
  supportsReadReceipts: false,
  messagesPerSecond: 1,
  maxMediaBytes: SMS_MAX_MEDIA_BYTES,
  // Twilio fetches MMS media from a public URL; sparsam never publishes media, so core refuses files for SMS.
  supportsOutboundMedia: false,
  maxTextChars: TWILIO_MAX_BODY,
  maxOutboundMediaBytes: NO_OUTBOUND_MEDIA,
});

/**
 * The dependencies an SMS channel uses. `baseUrl` is sparsam's public base URL (config `baseUrl`, from
 * SPARSAM_BASE_URL): Twilio signs the URL it calls, so the signature is checked over `<baseUrl><path>`, and sends
 * carry `<baseUrl>/webhooks/sms/<id>` as StatusCallback. Without it the URL is rebuilt from the request's origin
 * (scheme and host as the HTTP layer saw them; trustProxy honours X-Forwarded-*).
 */
export type SmsChannelDeps = ChannelDeps;

/** An SMS number at Twilio as a sparsam channel (see {@link createSmsChannel}). */
export class SmsChannel implements Channel {
  readonly kind = 'sms' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities = SMS_CAPABILITIES;
  readonly client: TwilioClient;
  private readonly now: () => number;
  private readonly baseUrl: string | undefined;

  constructor(
    private readonly config: SmsChannelConfig,
    deps: SmsChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.now = deps.now ?? Date.now;
    this.baseUrl = deps.baseUrl?.replace(/\/+$/, '');
    this.client = new TwilioClient({
      accountSid: config.accountSid,
      authToken: config.authToken,
      fromNumber: config.fromNumber,
      apiBaseUrl: config.apiBaseUrl,
      fetch: deps.fetch,
    });
  }

  /**
   * Verifies `X-Twilio-Signature` over the public URL and every form parameter (from the raw bytes), then maps the
   * inbound message or status callback. The route answers Twilio with an empty TwiML `<Response/>`.
   */
  verifyAndParse(request: WebhookRequest): WebhookResult {
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'Twilio webhooks are POST requests');
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      throw new AppError('SIGNATURE_INVALID', 'Twilio webhooks are form posts; this request is not one');
    }
    const params = parseForm(request.rawBody);
    verifyTwilioSignature(
      request.headers[TWILIO_SIGNATURE_HEADER],
      this.config.authToken,
      this.publicUrl(request),
      params,
    );
    const webhook = parseTwilioWebhook(params, { accountSid: this.config.accountSid, number: this.config.fromNumber });
    const mapping = mapTwilioWebhook(webhook, this.id, this.now());
    return { kind: 'events', events: mapping.events, ignored: mapping.ignored };
  }

  async send(command: OutboundCommand): Promise<SendResult> {
    if ('address' in command) command = { ...command, address: e164(command.address) };
    switch (command.type) {
      case 'text':
        return {
          providerMessageId: await this.client.sendMessage(command.address, command.text, this.statusCallback()),
        };
      case 'buttons': {
        // capabilities.supportsButtons is false, so core sends keyword prompts as text; should buttons arrive
        // anyway, their titles are listed so that the customer can still answer with one of them.
        const lines = [command.text, '', ...command.buttons.map((b) => `- ${b.title}`)];
        if (command.footer) lines.push('', command.footer);
        return {
          providerMessageId: await this.client.sendMessage(command.address, lines.join('\n'), this.statusCallback()),
        };
      }
      case 'media':
        // Twilio fetches MMS media from a public URL; sparsam never publishes media, so files are not sent by SMS.
        throw new ChannelApiError('unsupported', 'files cannot be sent by SMS from sparsam', 400, false);
      case 'template':
        throw new ChannelApiError('unsupported', 'SMS has no message templates', 400, false);
      case 'list':
        // capabilities.supportsLists is false: core never asks; refusing keeps a wrong call visible.
        throw new ChannelApiError('unsupported', 'SMS has no list messages', 400, false);
      case 'read':
        return { providerMessageId: undefined };
    }
  }

  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    return this.client.downloadMedia(ref.providerMediaId, this.capabilities.maxMediaBytes);
  }

  private publicUrl(request: WebhookRequest): string {
    const base = this.baseUrl ?? request.origin;
    return `${base}${request.url}`;
  }

  private statusCallback(): string | undefined {
    return this.baseUrl ? smsWebhookUrl(this.baseUrl, this.id) : undefined;
  }
}

/** Twilio wants E.164 with the plus; the contact directory may keep phone numbers as digits only. */
function e164(address: string): string {
  const trimmed = address.trim();
  return /^\d{6,15}$/.test(trimmed) ? `+${trimmed}` : trimmed;
}

/** The URL to paste into Twilio's number configuration ("A message comes in", HTTP POST). */
export function smsWebhookUrl(baseUrl: string, channelId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/webhooks/sms/${encodeURIComponent(channelId)}`;
}

/** The factory of kind `sms` (sms.module.ts). */
export function createSmsChannel(config: SmsChannelConfig, deps: SmsChannelDeps): SmsChannel {
  return new SmsChannel(config, deps);
}
