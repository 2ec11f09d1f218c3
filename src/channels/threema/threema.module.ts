import { defineChannelModule } from '../channel-module.ts';
import { THREEMA_CAPABILITIES, createThreemaChannel } from './threema.channel.ts';
import { threemaConfigSchema } from './threema.config.ts';

/**
 * Kind `threema`: a Threema Gateway ID in end-to-end mode. Callbacks are form posts to `/webhooks/threema/:channelId`
 * with an HMAC-SHA256 `mac` over the fields; the private key is sealed into the key store on first start.
 */
export const threemaModule = defineChannelModule({
  kind: 'threema',
  displayName: 'Threema (Gateway, E2E)',
  configSchema: threemaConfigSchema,
  configExamples: {
    gatewayId: '"*SPARSAM"',
    apiSecret: 'env:THREEMA_API_SECRET',
    privateKey: 'env:THREEMA_PRIVATE_KEY',
    apiBaseUrl: 'https://msgapi.threema.ch',
  },
  secretFields: ['apiSecret', 'privateKey'],
  sealedFields: ['privateKey'],
  webhook: {
    segment: 'threema',
    providerName: 'Threema',
    methods: ['POST'],
    body: 'form',
  },
  capabilities: {
    // Threema IDs, not phone numbers.
    addressIsPhoneNumber: false,
    of: () => THREEMA_CAPABILITIES,
  },
  // GET /credits proves gateway ID and secret.
  connectionProbe: (config) => ({
    url: `${config.apiBaseUrl.replace(/\/+$/, '')}/credits?${new URLSearchParams({ from: config.gatewayId, secret: config.apiSecret })}`,
  }),
  setupHint: 'Threema Gateway > your ID > "Callback URL" (https only); the gateway checks it with a test request',
  processors: [
    {
      name: 'Threema GmbH, Pfäffikon SZ, Schweiz / Switzerland',
      role: {
        de: 'Threema Gateway: Weiterleitung Ende-zu-Ende-verschlüsselter Nachrichten (Inhalte für Threema nicht lesbar)',
        en: 'Threema Gateway: relaying end-to-end encrypted messages (contents unreadable for Threema)',
      },
      transfer: {
        de: 'Schweiz: Angemessenheitsbeschluss der EU-Kommission (Art. 45 DSGVO)',
        en: 'Switzerland: adequacy decision of the European Commission (Art. 45 GDPR)',
      },
    },
  ],
  create: (config, deps) => createThreemaChannel(config, deps),
});
