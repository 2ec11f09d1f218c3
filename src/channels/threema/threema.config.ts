import { z } from 'zod';
import { channelBase, secret, url } from '../../config/config-fields.ts';

/** A Threema Gateway ID in end-to-end mode: `*` and seven capital letters or digits. */
export const THREEMA_GATEWAY_ID = /^\*[A-Z0-9]{7}$/;

/**
 * A Threema Gateway ID in end-to-end mode, as configured in `channels[]`. `privateKey` may be left out once sparsam
 * has sealed it into the key store (first start with it given); `doctor` warns while it stands inline in the file.
 */
export const threemaConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('threema'),
    gatewayId: z
      .string()
      .regex(THREEMA_GATEWAY_ID, 'must be a Threema Gateway ID: "*" and 7 capital letters or digits'),
    apiSecret: secret,
    privateKey: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the 32-byte private key of the gateway ID as 64 hex characters')
      .optional(),
    apiBaseUrl: url.default('https://msgapi.threema.ch'),
    /** The admin screen warns while the gateway account holds fewer credits than this. */
    creditsWarningBelow: z.number().int().min(0).default(100),
  })
  .strict();

export type ThreemaChannelConfig = z.output<typeof threemaConfigSchema>;
