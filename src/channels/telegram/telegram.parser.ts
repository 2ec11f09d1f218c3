import type { Update } from 'grammy/types';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';

/**
 * The part of Telegram's `Update` that sparsam relies on, checked before mapping: an integer `update_id`, and for
 * each message-like field an integer `message_id`, a `date` and a `chat` with an id and a type. Everything else is
 * read through grammY's Bot API types (https://core.telegram.org/bots/api#update); unknown fields pass through.
 */
const chat = z.looseObject({ id: z.number().int(), type: z.string() });
const message = z.looseObject({ message_id: z.number().int(), date: z.number().int().nonnegative(), chat });
const updateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: message.optional(),
  edited_message: message.extend({ edit_date: z.number().int().optional() }).optional(),
  callback_query: z
    .looseObject({
      id: z.string().min(1),
      from: z.looseObject({ id: z.number().int() }),
      data: z.string().optional(),
      message: z.looseObject({ message_id: z.number().int(), chat }).optional(),
    })
    .optional(),
});

/**
 * Parses one webhook body (Telegram posts exactly one `Update` per request).
 *
 * @throws AppError('VALIDATION') when the body is not an Update; the message names the field, never its value.
 */
export function parseTelegramUpdate(body: unknown): Update {
  const result = updateSchema.safeParse(body);
  if (!result.success) {
    const field = result.error.issues[0]?.path.join('.') || '(body)';
    throw new AppError('VALIDATION', `not a Telegram update: ${field} is missing or malformed`, { field });
  }
  return result.data as unknown as Update;
}
