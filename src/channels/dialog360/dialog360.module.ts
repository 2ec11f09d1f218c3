import { defineChannelModule } from '../channel-module.ts';
import { META_IRELAND, META_TRANSFER } from '../meta-platforms.ts';
import { whatsAppCapabilities } from '../whatsapp-cloud/whatsapp-cloud.channel.ts';
import { createDialog360Channel } from './dialog360.channel.ts';
import { dialog360ConfigSchema } from './dialog360.config.ts';

/**
 * Kind `dialog360`: a WhatsApp number hosted by 360dialog. Same payloads and webhook path as the Cloud API
 * (`/webhooks/whatsapp/:channelId`); the webhook carries a shared secret header instead of a signature.
 */
export const dialog360Module = defineChannelModule({
  kind: 'dialog360',
  displayName: 'WhatsApp (360dialog)',
  configSchema: dialog360ConfigSchema,
  configExamples: { apiBaseUrl: 'https://waba-v2.360dialog.io', webhookSecret: 'env:D360_WEBHOOK_SECRET' },
  secretFields: ['apiKey', 'webhookSecret'],
  webhook: {
    segment: 'whatsapp',
    providerName: 'WhatsApp',
    methods: ['GET', 'POST'],
    body: 'json',
    verifySecretField: 'webhookSecret',
    quiet: true,
  },
  capabilities: {
    addressIsPhoneNumber: true,
    of: (config) => whatsAppCapabilities(config.messagesPerSecond),
  },
  // GET /v1/configs/webhook with D360-API-KEY.
  connectionProbe: (config) => ({
    url: `${config.apiBaseUrl.replace(/\/$/, '')}/v1/configs/webhook`,
    headers: { 'D360-API-KEY': config.apiKey },
  }),
  setupHint: '360dialog: POST /v1/configs/webhook with this URL and your webhookSecret header',
  processors: [
    {
      name: '360dialog GmbH, Berlin, Deutschland / Germany',
      role: {
        de: 'WhatsApp Business Solution Provider (API-Zugang)',
        en: 'WhatsApp Business Solution Provider (API access)',
      },
      transfer: null,
    },
    {
      name: META_IRELAND,
      role: {
        de: 'WhatsApp Business Plattform (Unterauftragsverarbeiter)',
        en: 'WhatsApp Business Platform (sub-processor)',
      },
      transfer: META_TRANSFER,
    },
  ],
  create: (config, deps) => createDialog360Channel(config, deps),
});
