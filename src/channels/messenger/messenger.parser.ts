import { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';

/**
 * The Messenger Platform webhook envelope (https://developers.facebook.com/docs/messenger-platform/webhooks):
 * `{"object":"page","entry":[{"id":<page id>,"time":<ms>,"messaging":[…]}|{…,"standby":[…]}]}`. Each messaging item
 * has `sender.id` (the customer's page-scoped id, PSID), `recipient.id`, `timestamp` (ms) and one event field.
 * Only the fields sparsam reads are checked; everything else passes through.
 */
const id = z.union([z.string().min(1), z.number().transform(String)]);
const attachment = z.looseObject({
  type: z.string(),
  payload: z
    .looseObject({
      url: z.string().optional(),
      sticker_id: z.union([z.number(), z.string()]).optional(),
      title: z.string().optional(),
      coordinates: z.looseObject({ lat: z.number(), long: z.number() }).optional(),
    })
    .nullish(),
  title: z.string().optional(),
  url: z.string().optional(),
});
const messaging = z.looseObject({
  sender: z.looseObject({ id }),
  recipient: z.looseObject({ id }),
  timestamp: z.number().int().nonnegative(),
  message: z
    .looseObject({
      mid: z.string().min(1),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      quick_reply: z.looseObject({ payload: z.string() }).optional(),
      reply_to: z.looseObject({ mid: z.string().optional() }).optional(),
      attachments: z.array(attachment).optional(),
    })
    .optional(),
  postback: z.looseObject({ payload: z.string(), title: z.string().optional(), mid: z.string().optional() }).optional(),
  delivery: z.looseObject({ mids: z.array(z.string()).optional(), watermark: z.number() }).optional(),
  read: z.looseObject({ watermark: z.number() }).optional(),
  reaction: z
    .looseObject({ mid: z.string(), action: z.string(), emoji: z.string().optional(), reaction: z.string().optional() })
    .optional(),
  message_edit: z
    .looseObject({ mid: z.string(), text: z.string().optional(), num_edit: z.number().optional() })
    .optional(),
});
const envelope = z.looseObject({
  object: z.literal('page'),
  entry: z.array(
    z.looseObject({
      id,
      time: z.number().optional(),
      messaging: z.array(messaging).optional(),
      standby: z.array(z.unknown()).optional(),
    }),
  ),
});

export type MessengerWebhook = z.infer<typeof envelope>;
export type MessengerMessaging = z.infer<typeof messaging>;
export type MessengerAttachment = z.infer<typeof attachment>;

/**
 * Parses a Messenger webhook body and checks that every entry is for this channel's page.
 *
 * @throws AppError('VALIDATION') for another shape (naming the field, never a value) or another page.
 */
export function parseMessengerWebhook(body: unknown, pageId: string): MessengerWebhook {
  const result = envelope.safeParse(body);
  if (!result.success) {
    const field = result.error.issues[0]?.path.join('.') || '(body)';
    throw new AppError('VALIDATION', `not a Messenger page webhook: ${field} is missing or malformed`, { field });
  }
  for (const entry of result.data.entry) {
    if (entry.id !== pageId) {
      throw new AppError('VALIDATION', 'this webhook is for another Facebook page', { field: 'entry.id' });
    }
  }
  return result.data;
}
