import { z } from 'zod';
import { CHANNEL_CONFIG_EXAMPLES, channelConfigSchema } from '../channels/registry.ts';
import { isValidTimeZone, parseInterval } from '../core/inbox/automation-hours.ts';
import { id, url } from './config-fields.ts';

/**
 * The YAML configuration file (`SPARSAM_CONFIG`) and the environment, as zod schemas. Secrets may be inline or
 * `env:NAME`; they are resolved before validation so that a missing variable is reported under its key.
 */

const retentionSchema = z
  .object({
    consentTimeoutHours: z.number().nonnegative().default(24),
    autoCloseAfterDays: z.number().nonnegative().default(14),
    eraseAfterCloseDays: z.number().nonnegative().default(0),
    auditRetentionDays: z
      .number()
      .int()
      .positive()
      .default(365 * 3),
  })
  .strict();

const weekdayHours = z
  .array(
    z.string().refine((v) => parseInterval(v) !== undefined, { message: 'must be "HH:MM-HH:MM", end after start' }),
  )
  .optional();

/** One text, or one per language (the inbox's language is sent, else the other). */
const automationText = z.union([
  z.string().min(1).max(2000),
  z
    .object({ de: z.string().min(1).max(2000).optional(), en: z.string().min(1).max(2000).optional() })
    .strict()
    .refine((t) => t.de !== undefined || t.en !== undefined, { message: 'needs a text in de or en' }),
]);

const automationSchema = z
  .object({
    /** Sent once when a conversation opens after consent. */
    greeting: automationText.optional(),
    /** Sent outside business hours, at most once per conversation per cooldown. */
    away: z
      .object({
        text: automationText,
        cooldownHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(12),
        timeZone: z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' }),
        hours: z
          .object({
            mon: weekdayHours,
            tue: weekdayHours,
            wed: weekdayHours,
            thu: weekdayHours,
            fri: weekdayHours,
            sat: weekdayHours,
            sun: weekdayHours,
          })
          .strict(),
        holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

const marketingSchema = z
  .object({
    optInKeywords: z.array(z.string().min(1).max(40)).default([]),
    optOutKeywords: z.array(z.string().min(1).max(40)).default(['NEWS STOP', 'ABBESTELLEN']),
    optInReply: z.string().min(1).max(2000).optional(),
    optOutReply: z.string().min(1).max(2000).optional(),
  })
  .strict();

export const inboxSchema = z
  .object({
    id,
    labelPrefix: z.string().min(1).max(40).optional(),
    language: z.enum(['de', 'en']).default('de'),
    retention: retentionSchema.default({
      consentTimeoutHours: 24,
      autoCloseAfterDays: 14,
      eraseAfterCloseDays: 0,
      auditRetentionDays: 365 * 3,
    }),
    media: z.enum(['strip', 'reject', 'allow']).default('strip'),
    /** Overrides for the privacy notice sent to new contacts, by language. */
    notice: z
      .object({ de: z.string().min(1).optional(), en: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** Keywords that withdraw consent at any time (case-insensitive, whole message). */
    stopKeywords: z.array(z.string().min(1)).default(['STOP', 'WIDERRUF', 'ABMELDEN']),
    /** Automated messages (greeting, away message outside business hours); off unless configured. */
    automation: automationSchema.optional(),
    /** Marketing consent by keyword: opt-in off unless keywords are configured; the unsubscribe keywords always work. */
    marketing: marketingSchema.default({ optInKeywords: [], optOutKeywords: ['NEWS STOP', 'ABBESTELLEN'] }),
    /** The team that works this inbox, for the reports (inboxes with the same name are one team); default: the inbox id. */
    team: z.string().trim().min(1).max(60).optional(),
    /** One satisfaction question (1-5) after a conversation is closed by staff, on channels with buttons; off unless enabled. */
    csat: z
      .object({ enabled: z.boolean().default(false) })
      .strict()
      .default({ enabled: false }),
  })
  .strict();

/** One `channels[]` entry: the union of the channel modules' schemas (src/channels/<kind>/<kind>.config.ts). */
export const channelSchema = channelConfigSchema;

export const fileSchema = z
  .object({
    organisation: z
      .object({
        name: z.string().min(1).default('sparsam'),
        contact: z.string().min(3, 'must be an e-mail address, phone number or web page where people can reach you'),
        address: z.string().optional(),
        dpo: z.string().optional(),
        /**
         * Where the organisation publishes its full privacy notice (Art. 13 GDPR, https): the consent message links to
         * it, and the admin screen puts it into the WhatsApp business profile with one click. Without it, sparsam's
         * own page <baseUrl>/privacy-notice (generated from this configuration) is linked.
         */
        privacyNoticeUrl: z
          .string()
          .regex(/^https:\/\/\S+$/, 'must be the https address where the privacy notice is published')
          .max(256)
          .optional(),
        /** Times in documents for customers (the subject access summary) are shown in this zone. */
        timeZone: z
          .string()
          .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' })
          .default('Europe/Berlin'),
      })
      .strict()
      .default({ name: 'sparsam', contact: 'datenschutz@example.org', timeZone: 'Europe/Berlin' }),
    inboxes: z.array(inboxSchema).default([]),
    channels: z.array(channelSchema).default([]),
  })
  .strict();

const port = z.coerce
  .number({ error: 'must be a whole number between 0 and 65535' })
  .int('must be a whole number between 0 and 65535')
  .min(0, 'must be a whole number between 0 and 65535')
  .max(65535, 'must be a whole number between 0 and 65535');

export const envSchema = z.object({
  SPARSAM_PORT: port.default(8080),
  SPARSAM_HOST: z.string().min(1).default('0.0.0.0'),
  SPARSAM_DATA_DIR: z.string().min(1).default('./data'),
  SPARSAM_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL')
    .optional(),
  SPARSAM_KEYSTORE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/.+|sqlite:.+)/, 'must be a postgres:// URL or sqlite:/path/to/keys.db')
    .optional(),
  SPARSAM_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(v), {
      message: 'must be 32 random bytes in base64 (44 characters)',
    })
    .optional(),
  SPARSAM_KEY_EPOCH_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 30)
    .default(24),
  SPARSAM_EPOCH_KEY_FILE: z.string().min(1).optional(),
  SPARSAM_CONFIG: z.string().min(1).optional(),
  SPARSAM_BASE_URL: url.optional(),
  SPARSAM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Which reverse proxy to believe about the client address and scheme (X-Forwarded-For/-Proto). Unset: none, the
   * connection's address counts. A number of proxy hops, or the proxies' addresses/CIDRs comma-separated.
   */
  SPARSAM_TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|true|false|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/,
      'must be a number of proxy hops, or the proxy addresses (IP or CIDR) comma-separated',
    )
    .optional(),
  SPARSAM_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(3 * 1024 * 1024),
});

export type InboxConfig = z.infer<typeof inboxSchema>;
export type ChannelConfig = z.infer<typeof channelSchema>;
export type FileConfig = z.infer<typeof fileSchema>;
export type EnvConfig = z.infer<typeof envSchema>;

/** Examples of good values, quoted in error messages so that the fix is in the message. */
export const EXAMPLES: Record<string, string> = {
  SPARSAM_PORT: '8080',
  SPARSAM_DATA_DIR: './data',
  SPARSAM_DATABASE_URL: 'postgres://sparsam:secret@127.0.0.1:5432/sparsam',
  SPARSAM_KEYSTORE_URL: 'sqlite:/var/lib/sparsam-keys/keys.db',
  SPARSAM_MASTER_KEY: '(output of: openssl rand -base64 32)',
  SPARSAM_KEY_EPOCH_HOURS: '24',
  SPARSAM_EPOCH_KEY_FILE: '/var/lib/sparsam-epoch/epoch.key',
  SPARSAM_BASE_URL: 'https://inbox.example.org',
  SPARSAM_LOG_LEVEL: 'info',
  SPARSAM_BODY_LIMIT_BYTES: '3145728',
  SPARSAM_TRUST_PROXY: '127.0.0.1',
  id: 'service',
  inbox: 'service',
  kind: 'whatsapp-cloud',
  language: 'de',
  media: 'strip',
  contact: 'datenschutz@example.org',
  consentTimeoutHours: '24',
  autoCloseAfterDays: '14',
  eraseAfterCloseDays: '0',
  // The channels' own keys (phoneNumberId, accessToken, …), from their modules.
  ...CHANNEL_CONFIG_EXAMPLES,
};
