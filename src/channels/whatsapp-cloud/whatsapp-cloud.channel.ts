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
import { LIST_LIMITS } from '../../core/inbox/interactive-list.ts';
import { WHATSAPP_LIMITS, WhatsAppClient, type WhatsAppEndpoints } from './whatsapp-cloud.client.ts';
import { WhatsAppAccountApi } from './whatsapp-cloud.account.ts';
import { answerWhatsAppHandshake } from './whatsapp-cloud.handshake.ts';
import { mapWhatsAppWebhook } from './whatsapp-cloud.mapper.ts';
import { parseWhatsAppWebhook } from './whatsapp-cloud.parser.ts';
import { WHATSAPP_SIGNATURE_HEADER, verifyWhatsAppSignature } from './whatsapp-cloud.signature.ts';

import type { WhatsAppCloudChannelConfig } from './whatsapp-cloud.config.ts';

export type { WhatsAppCloudChannelConfig };

/** The Cloud API's media limit (100 MB; larger inbound files arrive as an error webhook instead). */
export const WHATSAPP_MAX_MEDIA_BYTES = 100 * 1024 * 1024;

const MB = 1024 * 1024;

/**
 * What the Cloud API accepts per sent media type: images (JPEG, PNG) 5 MB, audio and video 16 MB, documents 100 MB
 * (Meta's "Supported media types" table, mirrored by AWS End User Messaging Social and 360dialog).
 */
export const WHATSAPP_OUTBOUND_MEDIA_BYTES = Object.freeze({
  image: 5 * MB,
  document: 100 * MB,
  audio: 16 * MB,
  video: 16 * MB,
});

/** Capabilities shared by every WhatsApp channel; only the throughput comes from configuration. */
export function whatsAppCapabilities(messagesPerSecond: number): ChannelCapabilities {
  return Object.freeze({
    // The customer-service window: free text only within 24 h of the customer's last message; templates after.
    messagingWindowHours: 24,
    supportsButtons: true,
    // Interactive lists: up to 10 rows behind one button (interactive-list-messages).
    supportsLists: true,
    // Up to 3 reply buttons, or an interactive list of up to 10 rows.
    maxReplyOptions: LIST_LIMITS.rows,
    supportsTemplates: true,
    supportsReadReceipts: true,
    messagesPerSecond,
    maxMediaBytes: WHATSAPP_MAX_MEDIA_BYTES,
    // Uploaded first (POST /{phone-number-id}/media), then sent by media id.
    supportsOutboundMedia: true,
    maxTextChars: WHATSAPP_LIMITS.maxTextBody,
    maxOutboundMediaBytes: WHATSAPP_OUTBOUND_MEDIA_BYTES,
  });
}

/** Dependencies of the WhatsApp channels; the timeouts are for tests and slow links. */
export interface WhatsAppChannelDeps extends ChannelDeps {
  /** Per API call, ms (default 15 s). */
  timeoutMs?: number;
  /** Per media download, ms (default 120 s). */
  downloadTimeoutMs?: number;
}

/** Client options from the channel dependencies. */
export function clientTimeouts(deps: WhatsAppChannelDeps): { timeoutMs?: number; downloadTimeoutMs?: number } {
  const options: { timeoutMs?: number; downloadTimeoutMs?: number } = {};
  if (deps.timeoutMs !== undefined) options.timeoutMs = deps.timeoutMs;
  if (deps.downloadTimeoutMs !== undefined) options.downloadTimeoutMs = deps.downloadTimeoutMs;
  return options;
}

/** The Graph API endpoints of one phone number. */
export function graphEndpoints(config: {
  graphBaseUrl: string;
  graphApiVersion: string;
  phoneNumberId: string;
  accessToken: string;
}): WhatsAppEndpoints {
  const root = `${config.graphBaseUrl.replace(/\/+$/, '')}/${config.graphApiVersion}`;
  return {
    messagesUrl: `${root}/${config.phoneNumberId}/messages`,
    mediaUploadUrl: `${root}/${config.phoneNumberId}/media`,
    mediaInfoUrl: (mediaId) => `${root}/${encodeURIComponent(mediaId)}?phone_number_id=${config.phoneNumberId}`,
    authHeaders: { authorization: `Bearer ${config.accessToken}` },
    providerName: 'WhatsApp Cloud API',
  };
}

/**
 * Sends an {@link OutboundCommand} through a WhatsApp client; shared by the Cloud API and 360dialog channels.
 * Media is uploaded first and then sent by its id (no public link to sparsam's media is ever handed out).
 */
export async function sendWhatsAppCommand(client: WhatsAppClient, command: OutboundCommand): Promise<SendResult> {
  switch (command.type) {
    case 'text':
      return {
        providerMessageId: await client.sendText(command.address, command.text, command.replyToProviderMessageId),
      };
    case 'buttons':
      // More answers than WhatsApp's three reply buttons: an interactive list (its rows' ids come back the same way).
      if (command.buttons.length > WHATSAPP_LIMITS.maxButtons) {
        return {
          providerMessageId: await client.sendInteractiveList(command.address, command.text, {
            button: command.listButton ?? 'Auswählen',
            sections: [{ rows: command.buttons }],
          }),
        };
      }
      return {
        providerMessageId: await client.sendButtons(command.address, command.text, command.buttons, command.footer),
      };
    case 'list':
      return { providerMessageId: await client.sendInteractiveList(command.address, command.text, command.list) };
    case 'template':
      return {
        providerMessageId: await client.sendTemplate(command.address, command.name, command.language, {
          parameters: command.parameters,
          ...(command.header ? { header: command.header } : {}),
          ...(command.buttons ? { buttons: command.buttons } : {}),
        }),
      };
    case 'media': {
      const mediaId = await client.uploadMedia(command.data, command.mimeType, command.fileName);
      const options: { caption?: string; fileName?: string; voice?: boolean } = {};
      if (command.caption !== undefined) options.caption = command.caption;
      if (command.voice) options.voice = true;
      if (command.fileName !== undefined) options.fileName = command.fileName;
      return { providerMessageId: await client.sendMedia(command.address, command.mediaType, mediaId, options) };
    }
    case 'read':
      await client.markRead(command.providerMessageId);
      return { providerMessageId: undefined };
  }
}

/**
 * A phone number on the WhatsApp Cloud API as a sparsam channel. Webhooks: GET is Meta's subscription handshake,
 * POST must carry a valid `X-Hub-Signature-256` over the raw body and be for this channel's phone number id; every
 * entry, change, message, status and error of a batch becomes an event.
 */
export class WhatsAppCloudChannel implements Channel {
  readonly kind = 'whatsapp-cloud' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities: ChannelCapabilities;
  readonly client: WhatsAppClient;
  readonly businessAccount: WhatsAppAccountApi;

  constructor(
    private readonly config: WhatsAppCloudChannelConfig,
    deps: WhatsAppChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.capabilities = whatsAppCapabilities(config.messagesPerSecond);
    this.client = new WhatsAppClient({ endpoints: graphEndpoints(config), fetch: deps.fetch, ...clientTimeouts(deps) });
    this.businessAccount = new WhatsAppAccountApi(this.client, {
      graphRoot: `${config.graphBaseUrl.replace(/\/+$/, '')}/${config.graphApiVersion}`,
      phoneNumberId: config.phoneNumberId,
      businessAccountId: config.businessAccountId,
      appId: config.appId,
      accessToken: config.accessToken,
    });
  }

  verifyAndParse(request: WebhookRequest): WebhookResult {
    if (request.method === 'GET') return answerWhatsAppHandshake(request.query, this.config.verifyToken);
    if (request.method !== 'POST') throw new AppError('VALIDATION', 'WhatsApp webhooks are GET or POST requests');
    verifyWhatsAppSignature(request.headers[WHATSAPP_SIGNATURE_HEADER], request.rawBody, this.config.appSecret);
    const mapping = mapWhatsAppWebhook(parseWhatsAppWebhook(request.body, this.config.phoneNumberId), this.id);
    return { kind: 'events', events: mapping.events, ignored: mapping.ignored };
  }

  send(command: OutboundCommand): Promise<SendResult> {
    return sendWhatsAppCommand(this.client, command);
  }

  async react(address: string, providerMessageId: string, emoji: string): Promise<SendResult> {
    return { providerMessageId: await this.client.sendReaction(address, providerMessageId, emoji) };
  }

  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia> {
    return this.client.downloadMedia(ref.providerMediaId, this.capabilities.maxMediaBytes);
  }
}

/** The factory of kind `whatsapp-cloud` (whatsapp-cloud.module.ts). */
export function createWhatsAppCloudChannel(
  config: WhatsAppCloudChannelConfig,
  deps: ChannelDeps,
): WhatsAppCloudChannel {
  return new WhatsAppCloudChannel(config, deps);
}
