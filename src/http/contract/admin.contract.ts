import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, defineRoute } from './api-route.ts';

const retention = z
  .object({
    consentTimeoutHours: z.number(),
    autoCloseAfterDays: z.number(),
    eraseAfterCloseDays: z.number(),
    auditRetentionDays: z.number(),
  })
  .partial()
  .strict();
const texts = z.object({ de: z.string().max(4096).optional(), en: z.string().max(4096).optional() }).strict();
const dayHours = z.array(z.string().max(40)).max(24);
/** Greeting and away message; every part optional (a weekday given replaces that day's hours). */
const automation = z
  .object({
    greeting: z.object({ enabled: z.boolean().optional(), text: texts.optional() }).strict().optional(),
    away: z
      .object({
        enabled: z.boolean().optional(),
        text: texts.optional(),
        timeZone: z.string().max(100).optional(),
        hours: z
          .object({
            mon: dayHours.optional(),
            tue: dayHours.optional(),
            wed: dayHours.optional(),
            thu: dayHours.optional(),
            fri: dayHours.optional(),
            sat: dayHours.optional(),
            sun: dayHours.optional(),
          })
          .strict()
          .optional(),
        holidays: z.array(z.string().max(40)).max(1000).optional(),
        cooldownHours: z.number().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
/**
 * A change of an inbox's settings, or `{ reset: true }` alone to return to the configuration file's values. Strict: a
 * misspelt field or `{reset: "yes"}` is a 400 naming it, never an empty change that is answered 200, written and
 * audited as a settings change.
 */
export const InboxSettingsBody = z
  .object({
    reset: z.literal(true).optional(),
    retention: retention.optional(),
    media: z.enum(['strip', 'reject', 'allow']).optional(),
    notice: z
      .object({ de: z.string().max(4096).nullable().optional(), en: z.string().max(4096).nullable().optional() })
      .strict()
      .optional(),
    automation: automation.optional(),
    team: z.string().max(200).nullable().optional(),
    csat: z.object({ enabled: z.boolean() }).strict().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' })
  .refine((body) => body.reset === undefined || Object.keys(body).length === 1, {
    message: 'reset cannot be combined with changes',
  });
export const ChannelEnabledBody = z.object({ enabled: z.boolean() }).strict();

/** A channel as the admin screen shows it: where its webhook goes and a hint of its verify token, never secrets. */
export const ChannelInfoSchema = z.object({
  id: z.string(),
  kind: z.string(),
  inboxId: z.string(),
  enabled: z.boolean(),
  source: z.string().describe('where the channel was declared (configuration file or UI)'),
  webhookUrl: z.string(),
  verifyTokenHint: z.string().nullable().describe('length and last two characters of the verify token or secret'),
  phoneNumberId: z.string().nullable(),
  apiBaseUrl: z.string().nullable(),
  hasBalance: z.boolean().describe('the provider bills per message from a prepaid balance (Threema credits)'),
});
/** A channel's prepaid balance (Threema Gateway credits). */
export const ChannelBalanceSchema = z.object({
  credits: z.number().int().nullable().describe('credits left; null when the provider could not be asked'),
  warnBelow: z.number().int().describe('the configured threshold below which the admin screen warns'),
  low: z.boolean().describe('credits are below the threshold: sends will soon be refused (HTTP 402)'),
  error: z.string().optional().describe('why the balance could not be read (content-free)'),
});
/** The verdict of a connection test; `detail` is content-free (a provider code or a name). */
export const ChannelCheckSchema = z.object({
  ok: z.boolean(),
  detail: z.string(),
  reason: z.enum(['connected', 'refused', 'timeout', 'unreachable', 'unsupported']).optional(),
  name: z.string().optional().describe("the provider's name of the account"),
  httpStatus: z.number().optional(),
});

export const WeekdaySchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const LangTexts = z.object({ de: z.string(), en: z.string() });
/** Greeting and away message of an inbox as the admin screen edits them. */
export const AutomationFormSchema = z.object({
  greeting: z.object({ enabled: z.boolean(), text: LangTexts }),
  away: z.object({
    enabled: z.boolean(),
    text: LangTexts,
    timeZone: z.string().describe('IANA time zone, e.g. Europe/Berlin'),
    hours: z.record(WeekdaySchema, z.array(z.string())).describe('opening intervals "HH:MM-HH:MM" per weekday'),
    holidays: z.array(z.string()).describe('local dates YYYY-MM-DD, closed all day'),
    cooldownHours: z.number(),
  }),
});
export const InboxPrivacySchema = z.object({
  retention: z.object({
    consentTimeoutHours: z.number(),
    autoCloseAfterDays: z.number(),
    eraseAfterCloseDays: z.number(),
    auditRetentionDays: z.number(),
  }),
  media: z.enum(['strip', 'reject', 'allow']),
  notice: z.object({ de: z.string().optional(), en: z.string().optional() }).nullable(),
  stopKeywords: z.array(z.string()),
  automation: z.unknown().optional().describe('the configuration file’s automated messages, carried through'),
  marketing: z.unknown().optional().describe('the configuration file’s marketing keywords, carried through'),
  team: z.string().nullable().describe('the team that works the inbox in the reports; null = the inbox id'),
  csat: z
    .object({ enabled: z.boolean() })
    .describe('one satisfaction question (1-5) after staff closed a conversation'),
});
export const InboxSettingsSchema = z.object({
  id: z.string(),
  labelPrefix: z.string(),
  language: z.string(),
  settings: InboxPrivacySchema,
  defaults: InboxPrivacySchema,
  overridden: z.boolean(),
  automation: AutomationFormSchema,
  defaultNotice: z
    .object({ de: z.string(), en: z.string() })
    .describe('sparsam’s own privacy notice for this inbox, sent while the inbox has no text of its own'),
});

/** The website chat's look, as the admin sets it (colour, position, greeting per language). */
export const WebchatAppearanceSchema = z
  .object({
    primaryColour: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour in the form "#0b5cad"'),
    position: z.enum(['right', 'left']),
    greeting: z.object({ de: z.string().max(300).optional(), en: z.string().max(300).optional() }).strict(),
  })
  .strict();
export const WebchatSettingsSchema = z.object({
  channelId: z.string(),
  appearance: WebchatAppearanceSchema,
  defaults: WebchatAppearanceSchema,
  overridden: z.boolean(),
  /** The tag to put on the organisation's pages. */
  embedCode: z.string(),
  /** The chat's own page (linked where WhatsApp is paused). */
  pageUrl: z.string(),
  allowedOrigins: z.array(z.string()),
});
export const WebchatAppearanceBody = z.union([WebchatAppearanceSchema, z.object({ reset: z.literal(true) }).strict()]);

const tags = ['admin'];
const roles = ADMIN_ROLES;

/** Admin screens: channels (webhook URL, verify-token hint, test connection, on/off) and inbox privacy settings. */
export const adminApi = {
  setup: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/setup',
    summary: 'First-run checklist: whether the controller is still a placeholder and a DPO contact is configured',
    tags,
    roles,
    response: {
      description: 'the configuration facts the checklist needs (no personal data)',
      schema: z.object({
        organisation: z.object({
          placeholders: z.array(z.enum(['name', 'contact'])),
          dpoContact: z.boolean(),
        }),
      }),
    },
  }),
  channels: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels',
    summary: 'Channels with webhook URL and a verify-token hint (never secrets)',
    tags,
    roles,
    response: { description: 'the channels', schema: z.object({ items: z.array(ChannelInfoSchema) }) },
  }),
  testChannel: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/test',
    summary: 'Test the connection with the provider',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'verdict', schema: ChannelCheckSchema },
    errors: { 404: 'no such channel' },
  }),
  channelBalance: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/balance',
    summary: "The channel's prepaid balance at the provider (Threema Gateway credits)",
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'credits and the warning threshold', schema: ChannelBalanceSchema },
    errors: { 404: 'no such channel, or its provider has no prepaid balance' },
  }),
  setChannelEnabled: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/channels/:id/enabled',
    summary: 'Switch a channel on or off',
    tags,
    roles,
    params: AnyIdParams,
    body: ChannelEnabledBody,
    response: { description: 'the new state', schema: z.object({ id: z.string(), enabled: z.boolean() }) },
    errors: { 404: 'no such channel' },
  }),
  webchat: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/webchat',
    summary: 'A website chat: its colour, position and greeting, the embed code and its own page',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the chat', schema: z.object({ item: WebchatSettingsSchema }) },
    errors: { 404: 'no website chat with this id' },
  }),
  updateWebchat: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/channels/:id/webchat',
    summary: "Change a website chat's colour, position and greeting (or reset to the configuration's)",
    tags,
    roles,
    params: AnyIdParams,
    body: WebchatAppearanceBody,
    response: { description: 'the chat', schema: z.object({ item: WebchatSettingsSchema }) },
    errors: { 404: 'no website chat with this id' },
  }),
  inboxes: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/inboxes',
    summary: 'Inbox privacy settings with the configured defaults',
    tags,
    roles,
    response: { description: 'the inboxes', schema: z.object({ items: z.array(InboxSettingsSchema) }) },
  }),
  updateInbox: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/inboxes/:id',
    summary: 'Change notice texts, retention, media policy and automated messages (or reset)',
    tags,
    roles,
    params: AnyIdParams,
    body: InboxSettingsBody,
    response: { description: 'the inbox', schema: z.object({ item: InboxSettingsSchema }) },
  }),
} as const;
