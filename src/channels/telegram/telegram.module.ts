import { defineChannelModule } from '../channel-module.ts';
import { TELEGRAM_CAPABILITIES, createTelegramChannel } from './telegram.channel.ts';
import { telegramConfigSchema } from './telegram.config.ts';

/**
 * Kind `telegram`: a Telegram bot. Webhooks at `/webhooks/telegram/:channelId`, authenticated by the secret-token
 * header; sparsam registers the webhook itself (`sparsam channel set-webhook`).
 */
export const telegramModule = defineChannelModule({
  kind: 'telegram',
  displayName: 'Telegram',
  configSchema: telegramConfigSchema,
  configExamples: { secretToken: 'env:TG_SECRET' },
  secretFields: ['botToken', 'secretToken'],
  webhook: {
    segment: 'telegram',
    providerName: 'Telegram',
    methods: ['POST'],
    body: 'json',
    verifySecretField: 'secretToken',
  },
  capabilities: {
    // Chat ids, not phone numbers.
    addressIsPhoneNumber: false,
    of: () => TELEGRAM_CAPABILITIES,
  },
  // getMe.
  connectionProbe: (config) => ({ url: `${config.apiBaseUrl.replace(/\/$/, '')}/bot${config.botToken}/getMe` }),
  setupHint: 'run: sparsam channel set-webhook <id> (sparsam calls setWebhook itself)',
  webhookRegistration: {
    register: (config, baseUrl, deps) => createTelegramChannel(config, deps).setWebhook(baseUrl),
    info: (config, deps) => createTelegramChannel(config, deps).client.getWebhookInfo(),
  },
  processors: [
    {
      name: 'Telegram Messenger Inc. / Telegram FZ-LLC, Dubai, Vereinigte Arabische Emirate / United Arab Emirates',
      role: { de: 'Telegram Bot API', en: 'Telegram Bot API' },
      transfer: {
        de: 'Drittland ohne Angemessenheitsbeschluss; Telegram bietet keinen Auftragsverarbeitungsvertrag an: Übermittlung nur, weil die betroffene Person selbst über Telegram schreibt (Art. 49 Abs. 1 lit. b DSGVO); vom DSB zu prüfen',
        en: 'third country without an adequacy decision; Telegram offers no processing agreement: transfer only because the data subject chose to write via Telegram (Art. 49(1)(b) GDPR); to be assessed by the DPO',
      },
    },
  ],
  create: (config, deps) => createTelegramChannel(config, deps),
});
