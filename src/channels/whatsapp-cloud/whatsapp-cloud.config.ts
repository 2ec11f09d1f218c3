import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';

/**
 * Pre-approved WhatsApp message templates of a channel (the only messages allowed outside the 24-hour window), as
 * approved in Meta's WhatsApp Manager: name, language code, category and the body with {{1}}, {{2}} … placeholders.
 * Shared by the Cloud API and 360dialog channels.
 */
export const templateSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9_]{1,512}$/, 'must be the template name as approved: lower-case letters, digits and _'),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code such as de or en_US'),
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).default('UTILITY'),
    body: z.string().min(1).max(1024),
  })
  .strict();

export type TemplateConfig = z.infer<typeof templateSchema>;

/** A phone number on Meta's WhatsApp Cloud API, as configured in `channels[]`. */
export const whatsappCloudConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('whatsapp-cloud'),
    phoneNumberId: z.string().regex(/^\d{5,20}$/, 'must be the numeric phone number id from Meta, in quotes'),
    accessToken: secret,
    appSecret: secret,
    verifyToken: secret,
    graphBaseUrl: url.default('https://graph.facebook.com'),
    graphApiVersion: z
      .string()
      .regex(/^v\d+\.\d+$/)
      .default('v23.0'),
    /**
     * The WhatsApp Business Account id (the webhook's `entry.id`): account-level webhooks (template status,
     * quality rating, account updates) carry no phone number id and are routed to the channel by this id.
     */
    businessAccountId: z
      .string()
      .regex(/^\d{5,20}$/, 'must be the numeric WhatsApp Business Account id from Meta, in quotes')
      .optional(),
    /**
     * The Meta app's id: needed to upload files through the Resumable Upload API (the profile photo, samples of
     * template headers with an image or document).
     */
    appId: z
      .string()
      .regex(/^\d{5,20}$/, 'must be the numeric app id from the Meta App Dashboard, in quotes')
      .optional(),
    messagesPerSecond: z.number().int().min(1).max(1000).default(80),
    templates: z.array(templateSchema).optional(),
  })
  .strict();

export type WhatsAppCloudChannelConfig = z.output<typeof whatsappCloudConfigSchema>;
