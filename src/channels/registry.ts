import { z } from 'zod';
import type { Channel } from '../core/channel/channel.port.ts';
import type { ChannelKindFacts, ChannelKindFactsLookup } from '../core/channel/channel-kind-facts.ts';
import { AppError } from '../shared/app-error.ts';
import type { ChannelKind } from './channel-kind.ts';
import type { ChannelDeps, ChannelModule } from './channel-module.ts';
import { dialog360Module } from './dialog360/dialog360.module.ts';
import { messengerModule } from './messenger/messenger.module.ts';
import { smsModule } from './sms/sms.module.ts';
import { telegramModule } from './telegram/telegram.module.ts';
import { webchatModule } from './webchat/webchat.module.ts';
import { threemaModule } from './threema/threema.module.ts';
import { whatsappCloudModule } from './whatsapp-cloud/whatsapp-cloud.module.ts';

export type { ChannelKind } from './channel-kind.ts';

/**
 * Every channel kind's module. Typed as a record over {@link ChannelKind}: a kind added to the union without its
 * module here, or a module here whose kind is not in the union, does not compile. Everything that differs by kind
 * (configuration schema, secrets, webhook routes, connection check, set-up hint, processors, phone-number
 * addresses, the factory) is read from here.
 */
export const CHANNEL_MODULES = Object.freeze({
  'whatsapp-cloud': whatsappCloudModule,
  dialog360: dialog360Module,
  telegram: telegramModule,
  messenger: messengerModule,
  sms: smsModule,
  webchat: webchatModule,
  threema: threemaModule,
} as const satisfies { readonly [K in ChannelKind]: ChannelModule<K> });

type Modules = typeof CHANNEL_MODULES;
type ConfigSchemaOf<K extends ChannelKind> = Modules[K]['configSchema'];

/** The modules in the order above. */
export const channelModules: readonly ChannelModule[] = Object.values(CHANNEL_MODULES) as readonly ChannelModule[];

/** One `channels[]` entry of the configuration file: the union of the modules' schemas, told apart by `kind`. */
export const channelConfigSchema = z.discriminatedUnion(
  'kind',
  Object.values(CHANNEL_MODULES).map((m) => m.configSchema) as unknown as [
    ConfigSchemaOf<ChannelKind>,
    ...ConfigSchemaOf<ChannelKind>[],
  ],
);

/** A validated channel configuration of any kind. */
export type ChannelConfig = z.output<typeof channelConfigSchema>;

/** The kinds, for messages that list them ("must be one of …"). */
export const CHANNEL_KINDS = Object.keys(CHANNEL_MODULES) as ChannelKind[];

/** The module of a kind; undefined for a kind this sparsam does not know (a channel row of another version). */
export function channelModule(kind: string): ChannelModule | undefined {
  return Object.hasOwn(CHANNEL_MODULES, kind) ? (CHANNEL_MODULES[kind as ChannelKind] as ChannelModule) : undefined;
}

/**
 * Examples of good values of the channels' keys, over every kind, for configuration errors; where two kinds have a
 * key of the same name, the first module's example is quoted.
 */
export const CHANNEL_CONFIG_EXAMPLES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(channelModules.flatMap((m) => Object.entries(m.configExamples) as [string, string][]).reverse()),
);

/** Configuration keys whose values are secrets, over every kind. */
export const CHANNEL_SECRET_FIELDS: ReadonlySet<string> = new Set(channelModules.flatMap((m) => m.secretFields));

/** What core needs to know about each kind (phone-number addresses, processors), handed in by the composition root. */
export const channelKindFacts: ChannelKindFactsLookup = (kind: string): ChannelKindFacts | undefined => {
  const module = channelModule(kind);
  if (!module) return undefined;
  return {
    displayName: module.displayName,
    addressIsPhoneNumber: module.capabilities.addressIsPhoneNumber,
    processors: module.processors,
  };
};

/** The webhook URL sparsam serves for a channel: `<baseUrl>/webhooks/<segment>/<channelId>`. */
export function webhookUrl(baseUrl: string, kind: string, channelId: string): string {
  const segment = channelModule(kind)?.webhook.segment ?? kind;
  return `${baseUrl.replace(/\/+$/, '')}/webhooks/${segment}/${encodeURIComponent(channelId)}`;
}

/** Builds one channel from its configuration. @throws AppError('CONFIG') for a kind without a module. */
export function createChannel(config: ChannelConfig, deps: ChannelDeps): Channel {
  const module = channelModule(config.kind);
  if (!module) {
    throw new AppError(
      'CONFIG',
      `channels: channel "${config.id}" has kind "${config.kind}", which this sparsam cannot run yet ` +
        `(supported: ${CHANNEL_KINDS.join(', ')})`,
    );
  }
  return module.create(config, deps);
}

/**
 * The running channels, looked up by id (the webhook route `/webhooks/:segment/:channelId`, the outbound queue, the
 * media fetcher): those declared in the configuration file, built once at start, and those an admin created in the
 * admin screen ("managed"), replaced as a whole whenever any instance changes one ({@link setManaged}). Disabled
 * channels (`enabled: false`) are built too, so that their webhooks can still be verified and answered; whether to
 * process them is the caller's decision (the channel row's switch and the inbox kill switch).
 */
export class ChannelRegistry {
  readonly #deps: ChannelDeps;
  readonly #declared = new Map<string, { config: ChannelConfig; channel: Channel }>();
  #managed = new Map<string, { config: ChannelConfig; channel: Channel; fingerprint: string }>();

  /** @throws AppError('CONFIG') for duplicate ids or a kind without a module. */
  constructor(configs: readonly ChannelConfig[], deps: ChannelDeps) {
    this.#deps = deps;
    for (const config of configs) {
      if (this.#declared.has(config.id)) {
        throw new AppError('CONFIG', `channels: the id "${config.id}" is used twice; every channel needs its own id`);
      }
      this.#declared.set(config.id, { config, channel: createChannel(config, deps) });
    }
  }

  /**
   * Replaces the channels created in the admin screen by these. A channel whose configuration did not change keeps
   * its object (and its client's state); ids declared in the configuration file are skipped (the file wins).
   */
  setManaged(configs: readonly ChannelConfig[]): void {
    const next = new Map<string, { config: ChannelConfig; channel: Channel; fingerprint: string }>();
    for (const config of configs) {
      if (this.#declared.has(config.id)) continue;
      const fingerprint = JSON.stringify(config);
      const current = this.#managed.get(config.id);
      next.set(
        config.id,
        current?.fingerprint === fingerprint
          ? current
          : { config, channel: createChannel(config, this.#deps), fingerprint },
      );
    }
    this.#managed = next;
  }

  /** True when the channel was declared in the configuration file (read-only in the admin screen). */
  isDeclared(channelId: string): boolean {
    return this.#declared.has(channelId);
  }

  get(channelId: string): Channel | undefined {
    return (this.#declared.get(channelId) ?? this.#managed.get(channelId))?.channel;
  }

  all(): Channel[] {
    return [...this.#declared.values(), ...this.#managed.values()].map((e) => e.channel);
  }

  /** The validated configuration of a running channel (secrets included: never hand it to a screen). */
  config(channelId: string): ChannelConfig | undefined {
    return (this.#declared.get(channelId) ?? this.#managed.get(channelId))?.config;
  }

  /** Every running channel's configuration, declared ones first. */
  configs(): ChannelConfig[] {
    return [...this.#declared.values(), ...this.#managed.values()].map((e) => e.config);
  }
}
