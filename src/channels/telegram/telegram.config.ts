import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';

/** A Telegram bot, as configured in `channels[]`. */
export const telegramConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('telegram'),
    botToken: secret,
    secretToken: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z a-z 0-9 _ -'),
    apiBaseUrl: url.default('https://api.telegram.org'),
  })
  .strict();

export type TelegramChannelConfig = z.output<typeof telegramConfigSchema>;
