import type { Command } from 'commander';
import { channelModule, webhookUrl } from '../channels/registry.ts';
import type { ChannelModule } from '../channels/channel-module.ts';
import type { AppConfig, ChannelConfig } from '../config/config.ts';
import { ChannelApiError, ChannelNetworkError } from '../core/channel/channel-errors.ts';
import type { Sparsam } from '../main.ts';
import { AppError } from '../shared/app-error.ts';

/** The webhook URL sparsam serves for a channel, from its kind's webhook shape (DESIGN.md's webhook contract). */
export function webhookUrlFor(baseUrl: string, channel: ChannelConfig): string {
  return webhookUrl(baseUrl, channel.kind, channel.id);
}

function findChannel(config: AppConfig, id: string): { channel: ChannelConfig; module: ChannelModule } {
  const channel = config.channels.find((c) => c.id === id);
  if (!channel) {
    const known = config.channels.map((c) => c.id).join(', ') || 'none';
    throw new AppError('NOT_FOUND', `no channel with id "${id}" in the configuration (configured: ${known})`);
  }
  const module = channelModule(channel.kind);
  if (!module)
    throw new AppError('CONFIG', `channel "${id}" has kind "${channel.kind}", which this sparsam cannot run`);
  return { channel, module };
}

/**
 * `sparsam channel …`: `webhook-url <id>` prints the URL to give the provider and where it goes (the kind's set-up
 * hint); `set-webhook <id>` registers it with providers whose webhook sparsam sets itself (Telegram: `setWebhook`
 * with the channel's secretToken, so that every update carries X-Telegram-Bot-Api-Secret-Token); `webhook-info <id>`
 * shows what such a provider has registered. The URL is built from SPARSAM_BASE_URL; Telegram only calls https URLs
 * on ports 443, 80, 88 or 8443.
 */
export function registerChannelCommands(
  program: Command,
  loadAppConfig: () => AppConfig,
  withSparsam?: <T>(fn: (s: Sparsam) => Promise<T>) => Promise<T>,
): void {
  const channel = program.command('channel').description('connect messenger channels to their providers');
  const deps = () => ({ fetch: globalThis.fetch });

  channel
    .command('webhook-url')
    .description('print the webhook URL of a channel and where to paste it')
    .argument('<channelId>', 'the channel id from the configuration')
    .action((channelId: string) => {
      const config = loadAppConfig();
      const found = findChannel(config, channelId);
      console.log(webhookUrlFor(config.baseUrl, found.channel));
      console.error(`${found.channel.kind}: ${found.module.setupHint}`);
      if (found.module.webhook.segment === 'whatsapp') {
        // Meta sets one callback URL per app: the app-level URL serves every number (and account) of the app.
        console.error(
          `app-level URL for every number of the Meta app (routed by phone number id and businessAccountId): ` +
            `${config.baseUrl.replace(/\/+$/, '')}/webhooks/whatsapp`,
        );
      }
    });

  if (withSparsam) {
    channel
      .command('templates')
      .description("list a WhatsApp channel's message templates and their status at Meta (--sync fetches them first)")
      .argument('<channelId>', 'the channel id from the configuration')
      .option('--sync', "fetch every template of the channel's WhatsApp Business Account from Meta first")
      .option('--json', 'print a JSON array (name, language, category, status, reason, …)')
      .action(async (channelId: string, options: { sync?: boolean; json?: boolean }) => {
        const config = loadAppConfig();
        findChannel(config, channelId);
        await withSparsam(async (s) => {
          s.businessAccount.assertManaged(channelId);
          const items = options.sync
            ? await s.businessAccount.syncTemplates(channelId, 'cli')
            : await s.businessAccount.listTemplates(channelId);
          if (options.json) {
            const out = items.map((t) => ({
              name: t.name,
              language: t.language,
              category: t.category,
              status: t.status,
              reason: t.reason ?? null,
              providerId: t.providerId ?? null,
              header: t.header ?? null,
              body: t.body,
              footer: t.footer ?? null,
              buttons: t.buttons,
            }));
            console.log(JSON.stringify(out, null, 2));
            return;
          }
          if (items.length === 0) {
            console.log(
              options.sync ? 'no templates at Meta' : 'no templates (run with --sync to fetch them from Meta)',
            );
            return;
          }
          const rows = items.map((t) => [t.name, t.language, t.category, t.status, t.reason ?? '']);
          const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), 4));
          for (const r of [['NAME', 'LANG', 'CATEGORY', 'STATUS', 'REASON'], ...rows]) {
            console.log(
              r
                .map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell))
                .join('  ')
                .trimEnd(),
            );
          }
        });
      });
  }

  channel
    .command('set-webhook')
    .description('register the webhook URL and secret token with Telegram (kind telegram)')
    .argument('<channelId>', 'the channel id from the configuration')
    .action(async (channelId: string) => {
      const config = loadAppConfig();
      const { channel: found, module } = findChannel(config, channelId);
      const registration = module.webhookRegistration;
      if (!registration) {
        throw new AppError(
          'VALIDATION',
          `channel "${found.id}" is ${found.kind}: its webhook is set in the provider's console, not by sparsam. ` +
            `URL: ${webhookUrlFor(config.baseUrl, found)}; where: ${module.setupHint}`,
        );
      }
      if (!config.baseUrl.startsWith('https://')) {
        console.error(
          `warning: SPARSAM_BASE_URL is ${config.baseUrl}; ${module.displayName} only delivers to https URLs`,
        );
      }
      try {
        const { url } = await registration.register(found, config.baseUrl, deps());
        console.log(`webhook set: ${url}`);
      } catch (error) {
        throw providerFailure(module, error);
      }
    });

  channel
    .command('webhook-info')
    .description("show the webhook Telegram has registered for a channel's bot")
    .argument('<channelId>', 'the channel id from the configuration')
    .action(async (channelId: string) => {
      const config = loadAppConfig();
      const { channel: found, module } = findChannel(config, channelId);
      const registration = module.webhookRegistration;
      if (!registration) throw new AppError('VALIDATION', `channel "${found.id}" is not a Telegram channel`);
      try {
        const info = await registration.info(found, deps());
        const expected = webhookUrlFor(config.baseUrl, found);
        console.log(`url: ${info.url || '(none)'}${info.url === expected ? '' : ` (expected ${expected})`}`);
        console.log(`pending updates: ${info.pendingUpdateCount}`);
        if (info.lastErrorMessage) console.log(`last error: ${info.lastErrorMessage}`);
      } catch (error) {
        throw providerFailure(module, error);
      }
    });
}

/** A provider failure as a one-line CLI error (the bot token is never part of it). */
function providerFailure(module: ChannelModule, error: unknown): Error {
  if (error instanceof ChannelApiError)
    return new AppError('VALIDATION', `${module.displayName} refused: ${error.reason}`);
  if (error instanceof ChannelNetworkError)
    return new AppError('VALIDATION', `${module.displayName} did not answer: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
