import { z } from 'zod';
import { channelBase } from '../../config/config-fields.ts';

/** A colour as CSS hex (`#0b5cad`): the only form accepted, so nothing else can reach the widget's stylesheet. */
export const hexColour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour in the form "#0b5cad"')
  .transform((v) => v.toLowerCase());

/** An origin (scheme, host, port) a page embedding the chat is served from, without a path. */
const origin = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v.replace(/\/+$/, '');
    } catch {
      return false;
    }
  }, 'must be an origin such as "https://www.autohaus.example" (scheme and host, no path)')
  .transform((v) => v.replace(/\/+$/, ''));

/** What the admin can change in the admin screen (and the configuration sets as defaults). */
export const webchatAppearanceSchema = z
  .object({
    /** The window's title bar and launcher button. */
    primaryColour: hexColour.default('#0b5cad'),
    /** Bottom right or bottom left of the page. */
    position: z.enum(['right', 'left']).default('right'),
    /** The first line the visitor reads, per language; empty = sparsam's default. */
    greeting: z
      .object({ de: z.string().max(300).optional(), en: z.string().max(300).optional() })
      .strict()
      .default({}),
  })
  .strict();

export type WebchatAppearance = z.output<typeof webchatAppearanceSchema>;

/** A website chat, as configured in `channels[]`. */
export const webchatConfigSchema = z
  .object({
    ...channelBase,
    kind: z.literal('webchat'),
    /**
     * Origins of the pages that embed the chat; the chat's API answers cross-origin requests from these only (CORS).
     * sparsam's own origin (its chat page) is always allowed.
     */
    allowedOrigins: z.array(origin).default([]),
    /** The chat's name in the title bar (default: the organisation's name). */
    title: z.string().min(1).max(60).optional(),
    ...webchatAppearanceSchema.shape,
    /**
     * Requests per minute and client address (every API request; visitors behind one office NAT share it), and per
     * visitor token (sends, uploads, forgetting).
     */
    rateLimit: z
      .object({
        perIpPerMinute: z.number().int().min(1).max(10_000).default(120),
        perTokenPerMinute: z.number().int().min(1).max(10_000).default(30),
      })
      .strict()
      .default({ perIpPerMinute: 120, perTokenPerMinute: 30 }),
  })
  .strict();

export type WebchatChannelConfig = z.output<typeof webchatConfigSchema>;
