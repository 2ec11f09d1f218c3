import { defineChannelModule } from '../channel-module.ts';
import { META_IRELAND, META_TRANSFER } from '../meta-platforms.ts';
import { createWhatsAppCloudChannel, whatsAppCapabilities } from './whatsapp-cloud.channel.ts';
import { whatsappCloudConfigSchema } from './whatsapp-cloud.config.ts';

/**
 * Kind `whatsapp-cloud`: a phone number on Meta's WhatsApp Cloud API. Webhooks at `/webhooks/whatsapp/:channelId`
 * (GET is Meta's subscription handshake, POST is signed with X-Hub-Signature-256 over the raw body).
 */
export const whatsappCloudModule = defineChannelModule({
  kind: 'whatsapp-cloud',
  displayName: 'WhatsApp (Cloud API)',
  configSchema: whatsappCloudConfigSchema,
  configExamples: {
    phoneNumberId: '"106540352242922"',
    accessToken: 'env:WA_TOKEN',
    appSecret: 'env:WA_APP_SECRET',
    verifyToken: 'env:WA_VERIFY_TOKEN',
    graphBaseUrl: 'https://graph.facebook.com',
    messagesPerSecond: '80',
  },
  secretFields: ['accessToken', 'appSecret', 'verifyToken'],
  webhook: {
    segment: 'whatsapp',
    providerName: 'WhatsApp',
    methods: ['GET', 'POST'],
    body: 'json',
    verifySecretField: 'verifyToken',
    quiet: true,
  },
  capabilities: {
    addressIsPhoneNumber: true,
    of: (config) => whatsAppCapabilities(config.messagesPerSecond),
  },
  // GET /{version}/{phone-number-id}
  // (https://developers.facebook.com/docs/graph-api/reference/whatsapp-business-phone-number/)
  connectionProbe: (config) => ({
    url: `${config.graphBaseUrl.replace(/\/$/, '')}/${config.graphApiVersion}/${config.phoneNumberId}?fields=verified_name,quality_rating`,
    headers: { authorization: `Bearer ${config.accessToken}` },
  }),
  setupHint: 'Meta App Dashboard > WhatsApp > Configuration > Callback URL (with the verifyToken)',
  processors: [
    {
      name: META_IRELAND,
      role: { de: 'WhatsApp Business Plattform (Cloud API)', en: 'WhatsApp Business Platform (Cloud API)' },
      transfer: META_TRANSFER,
    },
  ],
  create: (config, deps) => createWhatsAppCloudChannel(config, deps),
});
