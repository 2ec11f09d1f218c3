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
import {
  clientTimeouts,
  sendWhatsAppCommand,
  whatsAppCapabilities,
  type WhatsAppChannelDeps,
} from '../whatsapp-cloud/whatsapp-cloud.channel.ts';
import { WhatsAppClient } from '../whatsapp-cloud/whatsapp-cloud.client.ts';
import { mapWhatsAppWebhook } from '../whatsapp-cloud/whatsapp-cloud.mapper.ts';
import { parseWhatsAppWebhook } from '../whatsapp-cloud/whatsapp-cloud.parser.ts';
import { Dialog360AccountApi } from './dialog360.account.ts';
import { dialog360Endpoints } from './dialog360.client.ts';
import { DIALOG360_SECRET_HEADER, verifyDialog360Secret } from './dialog360.signature.ts';

import type { Dialog360ChannelConfig } from './dialog360.config.ts';

export type { Dialog360ChannelConfig };

/**
 * A WhatsApp number hosted by the BSP 360dialog. Payloads in both directions are the Cloud API's, so the Cloud API
 * parser, mapper and client are reused; only the endpoints, the API key header and the webhook authentication (a
 * shared secret, see dialog360.signature.ts) differ. When `phoneNumberId` is configured, webhooks for another number
 * are refused like on the Cloud API.
 */
export class Dialog360Channel implements Channel {
  readonly kind = 'dialog360' as const;
  readonly id: string;
  readonly inboxId: string;
  readonly capabilities: ChannelCapabilities;
  readonly client: WhatsAppClient;
  readonly businessAccount: Dialog360AccountApi;

  constructor(
    private readonly config: Dialog360ChannelConfig,
    deps: WhatsAppChannelDeps,
  ) {
    this.id = config.id;
    this.inboxId = config.inbox;
    this.capabilities = whatsAppCapabilities(config.messagesPerSecond);
    this.client = new WhatsAppClient({
      endpoints: dialog360Endpoints(config),
      fetch: deps.fetch,
      ...clientTimeouts(deps),
    });
    this.businessAccount = new Dialog360AccountApi(this.client, config.apiBaseUrl);
  }

  verifyAndParse(request: WebhookRequest): WebhookResult {
    // 360dialog sets the webhook by API call: there is no GET handshake; a GET is refused like any unsigned call.
    verifyDialog360Secret(
      request.headers[DIALOG360_SECRET_HEADER],
      request.query,
      this.config.webhookSecret,
      this.config.webhookSecretInUrl,
    );
    if (request.method !== 'POST') throw new AppError('VALIDATION', '360dialog webhooks are POST requests');
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

/** The factory of kind `dialog360` (dialog360.module.ts). */
export function createDialog360Channel(config: Dialog360ChannelConfig, deps: WhatsAppChannelDeps): Dialog360Channel {
  return new Dialog360Channel(config, deps);
}
