import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';

/** A Facebook page on the Messenger Platform, as configured in `channels[]`. */
export const messengerConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('messenger'),
    pageId: z.string().regex(/^\d{5,25}$/, 'must be the numeric page id, in quotes'),
    pageAccessToken: secret,
    appSecret: secret,
    verifyToken: secret,
    graphBaseUrl: url.default('https://graph.facebook.com'),
    graphApiVersion: z
      .string()
      .regex(/^v\d+\.\d+$/)
      .default('v23.0'),
  })
  .strict();

export type MessengerChannelConfig = z.output<typeof messengerConfigSchema>;
