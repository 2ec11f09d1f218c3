import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';

/** A Twilio phone number for SMS, as configured in `channels[]`. */
export const smsConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('sms'),
    provider: z.literal('twilio').default('twilio'),
    accountSid: secret,
    authToken: secret,
    fromNumber: z.string().regex(/^\+\d{6,15}$/, 'must be an E.164 number such as "+4915112345678"'),
    apiBaseUrl: url.default('https://api.twilio.com'),
  })
  .strict();

export type SmsChannelConfig = z.output<typeof smsConfigSchema>;
