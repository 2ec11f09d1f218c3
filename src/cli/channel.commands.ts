import type { Command } from 'commander';
import { ChannelApiError, ChannelNetworkError } from '../channels/channel-errors.ts';
import { messengerWebhookUrl } from '../channels/messenger/messenger.channel.ts';
import { smsWebhookUrl } from '../channels/sms/sms.channel.ts';
import { createTelegramChannel, telegramWebhookUrl } from '../channels/telegram/telegram.channel.ts';
import type { AppConfig, ChannelConfig } from '../config/config.ts';
import { AppError } from '../shared/app-error.ts';

/** The webhook URL sparsam serves for a channel, by kind (DESIGN.md's webhook contract). */
export function webhookUrlFor(baseUrl: string, channel: ChannelConfig): string {
  const base = baseUrl.replace(/\/+$/, '');
  switch (channel.kind) {
    case 'telegram':
      return telegramWebhookUrl(base, channel.id);
    case 'messenger':
      return messengerWebhookUrl(base, channel.id);
    case 'sms':
      return smsWebhookUrl(base, channel.id);
    case 'whatsapp-cloud':
    case 'dialog360':
      return `${base}/webhooks/whatsapp/${encodeURIComponent(channel.id)}`;
  }
}

/** Where the admin pastes the URL, for the kinds whose webhook is set in the provider's console. */
const WHERE: Record<ChannelConfig['kind'], string> = {
  'whatsapp-cloud': 'Meta App Dashboard > WhatsApp > Configuration > Callback URL (with the verifyToken)',
  dialog360: '360dialog: POST /v1/configs/webhook with this URL and your webhookSecret header',
  messenger: 'Meta App Dashboard > Messenger > Settings > Webhooks > Callback URL (with the verifyToken)',
  sms: 'Twilio Console > Phone Numbers > your number > Messaging > "A message comes in" (Webhook, HTTP POST)',
  telegram: 'run: sparsam channel set-webhook <id> (sparsam calls setWebhook itself)',
};

function findChannel(config: AppConfig, id: string): ChannelConfig {
  const channel = config.channels.find((c) => c.id === id);
  if (!channel) {
    const known = config.channels.map((c) => c.id).join(', ') || 'none';
    throw new AppError('NOT_FOUND', `no channel with id "${id}" in the configuration (configured: ${known})`);
  }
  return channel;
}

/**
 * `sparsam channel …`: `webhook-url <id>` prints the URL to give the provider and where it goes;
 * `set-webhook <id>` registers it with Telegram (`setWebhook` with the channel's secretToken, so that every update
 * carries X-Telegram-Bot-Api-Secret-Token); `webhook-info <id>` shows what Telegram has registered.
 * The URL is built from SPARSAM_BASE_URL; Telegram only calls https URLs on ports 443, 80, 88 or 8443.
 */
export function registerChannelCommands(program: Command, loadAppConfig: () => AppConfig): void {
  const channel = program.command('channel').description('connect messenger channels to their providers');

  channel
    .command('webhook-url')
    .description('print the webhook URL of a channel and where to paste it')
    .argument('<channelId>', 'the channel id from the configuration')
    .action((channelId: string) => {
      const config = loadAppConfig();
      const found = findChannel(config, channelId);
      console.log(webhookUrlFor(config.baseUrl, found));
      console.error(`${found.kind}: ${WHERE[found.kind]}`);
    });

  channel
    .command('set-webhook')
    .description('register the webhook URL and secret token with Telegram (kind telegram)')
    .argument('<channelId>', 'the channel id from the configuration')
    .action(async (channelId: string) => {
      const config = loadAppConfig();
      const found = findChannel(config, channelId);
      if (found.kind !== 'telegram') {
        throw new AppError(
          'VALIDATION',
          `channel "${found.id}" is ${found.kind}: its webhook is set in the provider's console, not by sparsam. ` +
            `URL: ${webhookUrlFor(config.baseUrl, found)}; where: ${WHERE[found.kind]}`,
        );
      }
      if (!config.baseUrl.startsWith('https://')) {
        console.error(`warning: SPARSAM_BASE_URL is ${config.baseUrl}; Telegram only delivers to https URLs`);
      }
      const telegram = createTelegramChannel(found, { fetch: globalThis.fetch });
      try {
        const { url } = await telegram.setWebhook(config.baseUrl);
        console.log(`webhook set: ${url}`);
      } catch (error) {
        throw providerFailure(error);
      }
    });

  channel
    .command('webhook-info')
    .description("show the webhook Telegram has registered for a channel's bot")
    .argument('<channelId>', 'the channel id from the configuration')
    .action(async (channelId: string) => {
      const config = loadAppConfig();
      const found = findChannel(config, channelId);
      if (found.kind !== 'telegram')
        throw new AppError('VALIDATION', `channel "${found.id}" is not a Telegram channel`);
      try {
        const info = await createTelegramChannel(found, { fetch: globalThis.fetch }).client.getWebhookInfo();
        const expected = telegramWebhookUrl(config.baseUrl, found.id);
        console.log(`url: ${info.url || '(none)'}${info.url === expected ? '' : ` (expected ${expected})`}`);
        console.log(`pending updates: ${info.pendingUpdateCount}`);
        if (info.lastErrorMessage) console.log(`last error: ${info.lastErrorMessage}`);
      } catch (error) {
        throw providerFailure(error);
      }
    });
}

/** A provider failure as a one-line CLI error (the bot token is never part of it). */
function providerFailure(error: unknown): Error {
  if (error instanceof ChannelApiError) return new AppError('VALIDATION', `Telegram refused: ${error.reason}`);
  if (error instanceof ChannelNetworkError)
    return new AppError('VALIDATION', `Telegram did not answer: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
