import type { ChannelConfig, ChannelKind } from '../config/config.ts';
import { AppError } from '../shared/app-error.ts';
import type { Channel, ChannelDeps, ChannelFactory } from './channel.ts';
import { createDialog360Channel } from './dialog360/dialog360.channel.ts';
import { createWhatsAppCloudChannel } from './whatsapp-cloud/whatsapp-cloud.channel.ts';
import { createTelegramChannel } from './telegram/telegram.channel.ts';
import { createSmsChannel } from './sms/sms.channel.ts';
import { createMessengerChannel } from './messenger/messenger.channel.ts';

type FactoryTable = { [K in ChannelKind]?: ChannelFactory<Extract<ChannelConfig, { kind: K }>> };

/**
 * One factory per channel kind. Adding a messenger is one line here plus its folder under channels/ (the same file
 * set as whatsapp-cloud/: signature, parser, mapper, client, channel).
 */
export const CHANNEL_FACTORIES: Readonly<FactoryTable> = Object.freeze({
  'whatsapp-cloud': createWhatsAppCloudChannel,
  dialog360: createDialog360Channel,
  telegram: createTelegramChannel,
  sms: createSmsChannel,
  messenger: createMessengerChannel,
});

/** Builds one channel from its configuration. @throws AppError('CONFIG') for a kind without a factory. */
export function createChannel(config: ChannelConfig, deps: ChannelDeps): Channel {
  const factory = CHANNEL_FACTORIES[config.kind] as ChannelFactory | undefined;
  if (!factory) {
    throw new AppError(
      'CONFIG',
      `channels: channel "${config.id}" has kind "${config.kind}", which this sparsam cannot run yet ` +
        `(supported: ${Object.keys(CHANNEL_FACTORIES).join(', ')})`,
    );
  }
  return factory(config, deps);
}

/**
 * The configured channels, built once at start from the validated configuration, looked up by id (the webhook
 * route `/webhooks/:kind/:channelId`, the outbound queue, the media fetcher). Disabled channels (`enabled: false`)
 * are built too, so that their webhooks can still be verified and answered; whether to process them is the
 * caller's decision (config and the inbox kill switch).
 */
export class ChannelRegistry {
  private readonly channels = new Map<string, Channel>();

  /** @throws AppError('CONFIG') for duplicate ids or a kind without a factory. */
  constructor(configs: readonly ChannelConfig[], deps: ChannelDeps) {
    for (const config of configs) {
      if (this.channels.has(config.id)) {
        throw new AppError('CONFIG', `channels: the id "${config.id}" is used twice; every channel needs its own id`);
      }
      this.channels.set(config.id, createChannel(config, deps));
    }
  }

  get(channelId: string): Channel | undefined {
    return this.channels.get(channelId);
  }

  all(): Channel[] {
    return [...this.channels.values()];
  }
}
