import type { z } from 'zod';
import type { Channel, ChannelCapabilities } from '../core/channel/channel.port.ts';
import type { Processor } from '../core/channel/channel-kind-facts.ts';
import type { PublicKeyPinPort } from '../core/ports/public-key-pin.port.ts';
import type { Logger } from '../shared/logger.ts';
import type { ChannelKind } from './channel-kind.ts';

/**
 * Everything sparsam knows about one channel kind, in one object exported by `src/channels/<kind>/<kind>.module.ts`.
 * The configuration schema, the secret list, the webhook routes, the admin's connection check, the CLI's set-up
 * hint, the record of processing activities and the pseudonym lookup all read these modules
 * (src/channels/registry.ts); none of them names a kind.
 */
export interface ChannelModule<
  K extends ChannelKind = ChannelKind,
  S extends ChannelConfigSchema<K> = ChannelConfigSchema<K>,
> {
  readonly kind: K;
  /** How screens and documents name the kind ("WhatsApp (Cloud API)"). */
  readonly displayName: string;
  /** The channel's entry in the configuration file (`channels[]`), `kind` the literal of this module. */
  readonly configSchema: S;
  /** Examples of good values of the kind's own keys, quoted in configuration errors (`env:NAME` for secrets). */
  readonly configExamples: Partial<Record<keyof z.output<S> & string, string>>;
  /** Configuration keys whose values are secrets: never printed, never stored in the database's settings copy. */
  readonly secretFields: readonly (keyof z.output<S> & string)[];
  /**
   * Secret keys sealed into the key store on first start (a private key): optional in the file once sealed, read
   * back from the key store at start; `doctor` warns while one stands inline in the file.
   */
  readonly sealedFields?: readonly (keyof z.output<S> & string)[];
  readonly webhook: WebhookShape<keyof z.output<S> & string>;
  readonly capabilities: {
    /** Customer addresses are phone numbers (the pseudonym lookup then ignores spaces, dashes and a leading +). */
    readonly addressIsPhoneNumber: boolean;
    /** The capability flags of one configured channel (the throughput may come from its configuration). */
    of(config: z.output<S>): ChannelCapabilities;
  };
  /**
   * The read-only provider call of the admin's "test connection" (e.g. GET the phone number), or undefined where the
   * kind has none; run by src/channels/connection-check.ts, which reads the answer's name and never the credentials.
   */
  connectionProbe(config: z.output<S>): ConnectionProbe | undefined;
  /** Where the admin enters the webhook URL (`sparsam channel webhook-url`). */
  readonly setupHint: string;
  /** Kinds whose webhook sparsam registers itself (`sparsam channel set-webhook`, `webhook-info`). */
  readonly webhookRegistration?: WebhookRegistration<z.output<S>>;
  /** The providers a message passes through, for the record of processing activities (Art. 30 GDPR). */
  readonly processors: readonly Processor[];
  /** Builds one channel from its validated configuration. */
  create(config: z.output<S>, deps: ChannelDeps): Channel;
}

/** A configuration schema of one kind: an object whose `kind` is the kind's literal. */
export type ChannelConfigSchema<K extends ChannelKind = ChannelKind> = z.ZodObject<
  { kind: z.ZodLiteral<K> } & z.ZodRawShape
>;

/** How a kind's provider calls sparsam: `<methods> /webhooks/<segment>/:channelId`. */
export interface WebhookShape<Key extends string = string> {
  /** The path segment; kinds with the same payload may share it (whatsapp-cloud and dialog360: `whatsapp`). */
  readonly segment: string;
  /** The provider as named in a 404 ("no WhatsApp channel with this id"); the same for every kind of a segment. */
  readonly providerName: string;
  readonly methods: readonly ('GET' | 'POST')[];
  /** What the provider posts; sparsam's raw-body parsers keep the exact bytes of both for the signature check. */
  readonly body: 'json' | 'form';
  /** The secret the admin enters with the URL in the provider's console, shown as a hint on the admin screen. */
  readonly verifySecretField?: Key;
  /** The 200 answer once the events are committed; default `{ "ok": true }` (Twilio wants TwiML). */
  readonly acknowledge?: { readonly contentType: string; readonly body: string };
  /** Providers that post thousands of webhooks a minute: no per-request info log lines (warn and above only). */
  readonly quiet?: boolean;
}

/** A read-only provider call that proves the credentials work. */
export interface ConnectionProbe {
  url: string;
  headers?: Record<string, string>;
}

/** Kinds whose webhook sparsam registers with the provider (Telegram's setWebhook). */
export interface WebhookRegistration<C> {
  register(config: C, baseUrl: string, deps: ChannelDeps): Promise<{ url: string }>;
  info(config: C, deps: ChannelDeps): Promise<{ url: string; pendingUpdateCount: number; lastErrorMessage?: string }>;
}

/** What a channel may use besides its configuration; one object for every kind, built by the composition root. */
export interface ChannelDeps {
  /** fetch, replaceable in tests; real runs use globalThis.fetch. */
  fetch: typeof fetch;
  /** sparsam's public URL (SPARSAM_BASE_URL): SMS checks Twilio's signature over it and sets status callbacks. */
  baseUrl?: string;
  /** Epoch ms; Telegram and SMS stamp events that carry no time of their own. */
  now?: () => number;
  /** For failures after the webhook was answered (Telegram's answerCallbackQuery); content-free entries only. */
  logger?: Pick<Logger, 'warn'>;
  /** Customers' pinned public keys (end-to-end channels: Threema); in memory when not given. */
  publicKeyPins?: PublicKeyPinPort;
}

/** Declares a channel module; checks the object against {@link ChannelModule} and freezes it. */
export function defineChannelModule<const K extends ChannelKind, S extends ChannelConfigSchema<K>>(
  module: ChannelModule<K, S>,
): ChannelModule<K, S> {
  return Object.freeze(module);
}
