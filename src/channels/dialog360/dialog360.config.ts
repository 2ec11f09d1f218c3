import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';
import { templateSchema } from '../whatsapp-cloud/whatsapp-cloud.config.ts';

/** A WhatsApp number hosted by 360dialog, as configured in `channels[]`. */
export const dialog360ConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('dialog360'),
    phoneNumberId: z
      .string()
      .regex(/^\d{5,20}$/, 'must be the numeric phone number id, in quotes')
      .optional(),
    apiKey: secret,
    /** 360dialog does not sign webhooks: a secret header value (or URL token) set with the webhook URL. */
    webhookSecret: secret.min(16, 'must be at least 16 characters'),
    /**
     * Also accept the secret as `?token=` on the webhook URL. Off by default: a URL ends up in access logs of every
     * proxy on the way. Only for a webhook that can be registered with a URL alone (a WABA-level webhook entered in
     * the 360dialog Hub form); the phone-number webhook takes the secret as a header (`POST /v1/configs/webhook`).
     */
    webhookSecretInUrl: z.boolean().default(false),
    apiBaseUrl: url.default('https://waba-v2.360dialog.io'),
    /**
     * The WhatsApp Business Account id (the webhook's `entry.id`): account-level webhooks (template status,
     * quality rating, account updates) carry no phone number id and are routed to the channel by this id.
     */
    businessAccountId: z
      .string()
      .regex(/^\d{5,20}$/, 'must be the numeric WhatsApp Business Account id from Meta, in quotes')
      .optional(),
    messagesPerSecond: z.number().int().min(1).max(1000).default(80),
    templates: z.array(templateSchema).optional(),
  })
  .strict();

export type Dialog360ChannelConfig = z.output<typeof dialog360ConfigSchema>;
