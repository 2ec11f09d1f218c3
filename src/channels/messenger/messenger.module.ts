import { defineChannelModule } from '../channel-module.ts';
import { META_IRELAND, META_TRANSFER } from '../meta-platforms.ts';
import { MESSENGER_CAPABILITIES, createMessengerChannel } from './messenger.channel.ts';
import { messengerConfigSchema } from './messenger.config.ts';

/**
 * Kind `messenger`: a Facebook page on the Messenger Platform. Webhooks at `/webhooks/messenger/:channelId` (GET is
 * Meta's hub challenge, POST is signed with X-Hub-Signature-256).
 */
export const messengerModule = defineChannelModule({
  kind: 'messenger',
  displayName: 'Facebook Messenger',
  configSchema: messengerConfigSchema,
  configExamples: { pageId: '"1234567890"' },
  secretFields: ['pageAccessToken', 'appSecret', 'verifyToken'],
  webhook: {
    segment: 'messenger',
    providerName: 'Messenger',
    methods: ['GET', 'POST'],
    body: 'json',
    verifySecretField: 'verifyToken',
  },
  capabilities: {
    // Page-scoped ids, not phone numbers.
    addressIsPhoneNumber: false,
    of: () => MESSENGER_CAPABILITIES,
  },
  connectionProbe: (config) => ({
    url: `${config.graphBaseUrl.replace(/\/$/, '')}/${config.graphApiVersion}/${config.pageId}?fields=name`,
    headers: { authorization: `Bearer ${config.pageAccessToken}` },
  }),
  setupHint: 'Meta App Dashboard > Messenger > Settings > Webhooks > Callback URL (with the verifyToken)',
  processors: [
    { name: META_IRELAND, role: { de: 'Messenger-Plattform', en: 'Messenger Platform' }, transfer: META_TRANSFER },
  ],
  create: (config, deps) => createMessengerChannel(config, deps),
});
