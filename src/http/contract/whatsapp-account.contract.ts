import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, OkSchema, defineRoute } from './api-route.ts';

/** A template button as the admin screen and the inbox show it. */
export const TemplateButtonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('QUICK_REPLY'), text: z.string().max(25) }).strict(),
  z
    .object({
      type: z.literal('URL'),
      text: z.string().max(25),
      url: z.string().max(2000),
      example: z.string().max(2000).optional(),
    })
    .strict(),
  z.object({ type: z.literal('PHONE_NUMBER'), text: z.string().max(25), phoneNumber: z.string().max(20) }).strict(),
]);

export const TemplateHeaderSchema = z.discriminatedUnion('format', [
  z.object({ format: z.literal('TEXT'), text: z.string().max(60), example: z.string().max(200).optional() }).strict(),
  z.object({ format: z.enum(['IMAGE', 'DOCUMENT', 'VIDEO']) }).strict(),
]);

/** A template of a channel: what it says and where it stands at Meta. */
export const ChannelTemplateSchema = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string(),
  status: z.string().describe('APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … (CONFIGURED: from the config file)'),
  reason: z.string().nullable().describe("Meta's reason for a rejection, pause or disable"),
  providerId: z.string().nullable(),
  header: TemplateHeaderSchema.nullable(),
  body: z.string(),
  bodyExamples: z.array(z.string()),
  footer: z.string().nullable(),
  buttons: z.array(TemplateButtonSchema),
  updatedAt: z.string().nullable(),
});

/**
 * A new template to submit; a media header takes a sample file for Meta's review (base64 in the JSON body, so it
 * must fit the request body limit, SPARSAM_BODY_LIMIT_BYTES).
 */
export const TemplateDraftBody = z
  .object({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']),
    header: TemplateHeaderSchema.optional(),
    headerSample: z
      .object({
        data: z.string().max(7_000_000).describe('base64'),
        mimeType: z.string().max(100),
        fileName: z.string().max(200),
      })
      .strict()
      .optional(),
    body: z.string().min(1).max(1024),
    bodyExamples: z.array(z.string().max(200)).max(100).default([]),
    footer: z.string().max(60).optional(),
    buttons: z.array(TemplateButtonSchema).max(10).default([]),
  })
  .strict();

export const ChannelHealthSchema = z.object({
  needsAttention: z.boolean(),
  reasons: z.array(z.string()).describe('content-free keys: quality_low, flagged, restricted, banned, violation'),
  qualityRating: z.string().nullable(),
  qualityEvent: z.string().nullable(),
  messagingLimit: z.string().nullable(),
  capability: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
  accountEvent: z.string().nullable(),
  violationType: z.string().nullable(),
  banState: z.string().nullable(),
  restrictions: z.array(z.object({ type: z.string(), expiresAt: z.string().nullable() })),
  updatedAt: z.string().nullable(),
});

export const PhoneNumberInfoSchema = z.object({
  verifiedName: z.string().nullable(),
  displayPhoneNumber: z.string().nullable(),
  qualityRating: z.string().nullable(),
  messagingLimit: z.string().nullable(),
  nameStatus: z.string().nullable(),
  /** 360dialog: `health_status.can_send_message` (AVAILABLE, LIMITED, BLOCKED); null on the Cloud API. */
  messagingStatus: z.string().nullable(),
});

export const BusinessProfileSchema = z.object({
  about: z.string(),
  description: z.string(),
  address: z.string(),
  email: z.string(),
  websites: z.array(z.string()),
  vertical: z.string(),
  profilePictureUrl: z.string().nullable(),
});

/** Meta's limits (docs/channels.md): about 1-139, description 512, address 256, e-mail 128, 2 websites of 256. */
export const BusinessProfileBody = z
  .object({
    about: z.string().min(1).max(139).optional(),
    description: z.string().max(512).optional(),
    address: z.string().max(256).optional(),
    email: z.union([z.literal(''), z.email().max(128)]).optional(),
    websites: z
      .array(
        z
          .string()
          .max(256)
          .regex(/^https?:\/\/\S+$/, 'must start with http:// or https://'),
      )
      .max(2)
      .optional(),
    vertical: z.string().max(40).optional(),
  })
  .strict();

/** The health of every WhatsApp channel that needs an admin's attention (the banner). */
export const HealthAlertSchema = z.object({ channelId: z.string(), reasons: z.array(z.string()) });

const tags = ['whatsapp-account'];
const roles = ADMIN_ROLES;
const notWhatsApp = { 404: 'no such channel', 409: 'not a WhatsApp Cloud API channel' };

/** Admin screens of a WhatsApp channel: templates, account health, business profile, phone number info. */
export const whatsappAccountApi = {
  templates: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/whatsapp/templates',
    summary: "The channel's templates with their status at Meta",
    tags,
    roles,
    params: AnyIdParams,
    response: {
      description: 'the templates',
      schema: z.object({ items: z.array(ChannelTemplateSchema), businessAccount: z.boolean() }),
    },
    errors: notWhatsApp,
  }),
  syncTemplates: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/whatsapp/templates/sync',
    summary: "Fetch every template of the channel's WhatsApp Business Account from Meta",
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the templates', schema: z.object({ items: z.array(ChannelTemplateSchema) }) },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  createTemplate: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/whatsapp/templates',
    summary: 'Submit a new template for review',
    tags,
    roles,
    params: AnyIdParams,
    body: TemplateDraftBody,
    response: { status: 201, description: 'submitted', schema: z.object({ item: ChannelTemplateSchema }) },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  deleteTemplate: defineRoute({
    method: 'DELETE',
    url: '/api/v1/admin/channels/:id/whatsapp/templates/:name',
    summary: 'Delete a template (every language of the name) at Meta and here',
    tags,
    roles,
    params: z.object({ id: z.string(), name: z.string().min(1).max(512) }),
    response: { description: 'deleted', schema: OkSchema },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  health: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/whatsapp/health',
    summary: 'Quality rating, messaging limit, violations, restrictions and bans from Meta’s webhooks',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the health', schema: ChannelHealthSchema },
    errors: notWhatsApp,
  }),
  alerts: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/whatsapp/alerts',
    summary: 'WhatsApp channels whose account health needs attention (the admins’ banner)',
    tags,
    roles,
    response: { description: 'the alerts', schema: z.object({ items: z.array(HealthAlertSchema) }) },
  }),
  phoneNumber: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/whatsapp/phone-number',
    summary: 'What Meta knows of the phone number (verified name, quality rating, messaging limit)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the phone number info', schema: PhoneNumberInfoSchema },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  profile: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id/whatsapp/profile',
    summary: 'The business profile customers see',
    tags,
    roles,
    params: AnyIdParams,
    response: {
      description: 'the profile',
      schema: z.object({ profile: BusinessProfileSchema, privacyNoticeUrl: z.string().nullable() }),
    },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  updateProfile: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/whatsapp/profile',
    summary: 'Change fields of the business profile',
    tags,
    roles,
    params: AnyIdParams,
    body: BusinessProfileBody,
    response: { description: 'the profile', schema: z.object({ profile: BusinessProfileSchema }) },
    errors: { ...notWhatsApp, 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  profilePhoto: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/whatsapp/profile/photo',
    summary: 'Set the profile photo (the raw image; cleaned of metadata first, JPEG or PNG, at most 5 MB)',
    tags,
    roles,
    params: AnyIdParams,
    bodyContentType: 'application/octet-stream',
    response: { description: 'the profile', schema: z.object({ profile: BusinessProfileSchema }) },
    errors: { ...notWhatsApp, 415: 'not an image', 502: 'PROVIDER_REFUSED: Meta refused (details.reason)' },
  }),
  privacyLink: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/whatsapp/profile/privacy-link',
    summary: 'Put the link to the published privacy notice into the profile (a website, else the description)',
    tags,
    roles,
    params: AnyIdParams,
    body: z
      .object({
        url: z
          .string()
          .max(256)
          .regex(/^https:\/\/\S+$/, 'must be an https address')
          .optional(),
      })
      .strict(),
    response: {
      description: 'the profile and where the link went',
      schema: z.object({
        profile: BusinessProfileSchema,
        placed: z.enum(['websites', 'description', 'already']),
      }),
    },
    errors: {
      ...notWhatsApp,
      400: 'no privacy notice URL configured or given, or no room left',
      502: 'PROVIDER_REFUSED: Meta refused (details.reason)',
    },
  }),
} as const;
