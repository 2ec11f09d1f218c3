import { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';

/**
 * The WhatsApp Cloud API webhook payload (`object: "whatsapp_business_account"`), checked with zod. Shapes follow
 * Meta's webhook reference (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages)
 * and the fixtures of maintained SDKs; see /PROTOCOL.md §2 of the team notes.
 *
 * Tolerance rules, so that Meta adding a field or a type never makes sparsam refuse a whole batch:
 * - every object is loose: unknown fields are kept and ignored;
 * - a message `type` sparsam does not know is accepted with its common fields and mapped to kind `unsupported`;
 * - changes whose `field` is not `"messages"` (account_update, template status …) are kept as `ignored`;
 * - a status value sparsam does not know (`played`, `deleted` …) is kept and left out by the mapper.
 * - a known type whose object is not the documented shape becomes `unsupported` too (see {@link hasValidContent}).
 * Strictness where it matters: the envelope, the phone number id, and every message's id, sender and timestamp must
 * be there, or the request is refused with AppError('VALIDATION') and nothing of it is committed.
 */

const digits = z.string().regex(/^\d{1,12}$/, 'must be Unix seconds as a string');
const nonEmpty = z.string().min(1);

const mediaObject = z.looseObject({
  id: nonEmpty,
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
  file_size: z.union([z.string(), z.number()]).optional(),
});

const errorObject = z.looseObject({
  code: z.union([z.number(), z.string()]),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
  href: z.string().optional(),
});

const contextObject = z.looseObject({
  from: z.string().optional(),
  id: z.string().optional(),
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
  referred_product: z
    .looseObject({ catalog_id: z.string().optional(), product_retailer_id: z.string().optional() })
    .optional(),
});

const contactCard = z.looseObject({
  name: z
    .looseObject({
      formatted_name: z.string().optional(),
      first_name: z.string().optional(),
      last_name: z.string().optional(),
    })
    .optional(),
  phones: z
    .array(z.looseObject({ phone: z.string().optional(), wa_id: z.string().optional(), type: z.string().optional() }))
    .optional(),
  emails: z.array(z.looseObject({ email: z.string().optional(), type: z.string().optional() })).optional(),
  org: z.looseObject({ company: z.string().optional() }).optional(),
});

/** The type-specific objects sparsam reads, by `type`. */
export const messageContentSchemas = {
  text: z.looseObject({ body: z.string() }),
  image: mediaObject,
  video: mediaObject,
  audio: mediaObject,
  document: mediaObject,
  sticker: mediaObject,
  location: z.looseObject({
    latitude: z.number(),
    longitude: z.number(),
    name: z.string().optional(),
    address: z.string().optional(),
    url: z.string().optional(),
  }),
  contacts: z.array(contactCard),
  interactive: z.looseObject({
    type: nonEmpty,
    button_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
    list_reply: z.looseObject({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
    nfm_reply: z
      .looseObject({ response_json: z.string().optional(), body: z.string().optional(), name: z.string().optional() })
      .optional(),
  }),
  button: z.looseObject({ payload: z.string().optional(), text: z.string() }),
  reaction: z.looseObject({ message_id: nonEmpty, emoji: z.string().optional() }),
  order: z.looseObject({
    catalog_id: z.string().optional(),
    text: z.string().optional(),
    product_items: z
      .array(
        z.looseObject({
          product_retailer_id: z.string(),
          quantity: z.union([z.number(), z.string()]),
          item_price: z.union([z.number(), z.string()]).optional(),
          currency: z.string().optional(),
        }),
      )
      .default([]),
  }),
  system: z.looseObject({
    body: z.string().optional(),
    type: z.string().optional(),
    wa_id: z.string().optional(),
    new_wa_id: z.string().optional(),
    user_id: z.string().optional(),
    previous_user_id: z.string().optional(),
  }),
  revoke: z.looseObject({ original_message_id: nonEmpty }),
  edit: z.looseObject({
    original_message_id: nonEmpty,
    message: z.looseObject({ type: nonEmpty }).optional(),
  }),
} as const;

export type KnownMessageType = keyof typeof messageContentSchemas;

const messageSchema = z.looseObject({
  // `from` is missing on some system messages (user_changed_user_id); checked per type by the mapper.
  from: z.string().optional(),
  id: nonEmpty,
  timestamp: digits,
  type: nonEmpty,
  context: contextObject.optional(),
  referral: z.looseObject({ source_type: z.string().optional(), source_id: z.string().optional() }).optional(),
  errors: z.array(errorObject).optional(),
});

const statusSchema = z.looseObject({
  id: nonEmpty,
  status: nonEmpty,
  timestamp: digits,
  recipient_id: z.string().optional(),
  biz_opaque_callback_data: z.string().optional(),
  conversation: z
    .looseObject({
      id: z.string().optional(),
      expiration_timestamp: z.string().optional(),
      origin: z.looseObject({ type: z.string().optional() }).optional(),
    })
    .optional(),
  // Old CBP shape {billable, pricing_model: "CBP", category} and new PMP shape {pricing_model: "PMP", type, category}.
  pricing: z
    .looseObject({
      billable: z.boolean().optional(),
      pricing_model: z.string().optional(),
      type: z.string().optional(),
      category: z.string().optional(),
    })
    .optional(),
  errors: z.array(errorObject).optional(),
});

const messagesValueSchema = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: z.looseObject({ display_phone_number: z.string().optional(), phone_number_id: nonEmpty }),
  contacts: z
    .array(
      z.looseObject({
        wa_id: z.string().optional(),
        user_id: z.string().optional(),
        profile: z.looseObject({ name: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  messages: z.array(messageSchema).optional(),
  statuses: z.array(statusSchema).optional(),
  errors: z.array(errorObject).optional(),
});

const changeSchema = z.looseObject({ field: nonEmpty, value: z.unknown() });

const envelopeSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: z.string().optional(),
      time: z.number().optional(),
      changes: z.array(changeSchema).default([]),
    }),
  ),
});

export type WhatsAppMessage = z.infer<typeof messageSchema> & Record<string, unknown>;
export type WhatsAppStatus = z.infer<typeof statusSchema>;
export type WhatsAppError = z.infer<typeof errorObject>;
export type WhatsAppMessagesValue = z.infer<typeof messagesValueSchema>;

/** One `changes[]` item with `field: "messages"`, in payload order. */
export interface WhatsAppMessagesChange {
  entryIndex: number;
  /** The entry's `id`: the WhatsApp Business Account the change belongs to. */
  entryId: string | undefined;
  changeIndex: number;
  value: WhatsAppMessagesValue;
}

/**
 * A change whose `field` is not "messages" (message_template_status_update, template_category_update,
 * phone_number_quality_update, account_update, business_capability_update …): account-level, without
 * `metadata.phone_number_id`; it belongs to the WhatsApp Business Account named by the entry's `id`.
 */
export interface WhatsAppAccountChange {
  entryIndex: number;
  entryId: string | undefined;
  field: string;
  /** The change's `value`, unchecked (whatsapp-cloud.account-events.ts reads the fields it knows). */
  value: unknown;
  /** The entry's `time` (Unix seconds), when given. */
  time: number | undefined;
}

/** The parsed webhook: every messages change of every entry, in order; other fields only counted. */
export interface WhatsAppWebhook {
  changes: WhatsAppMessagesChange[];
  /** `field` values of changes left out (not "messages"). */
  ignoredFields: string[];
  /** The changes left out, with the account they belong to (for routing by `businessAccountId`). */
  accountChanges: WhatsAppAccountChange[];
}

/**
 * Parses and checks a webhook body (already JSON-decoded). Iterates every entry and every change: a POST can batch
 * several of each, for several numbers of one Meta app (the callback URL is set per app). When
 * `expectedPhoneNumberId` is given, messages changes for other numbers are left out (counted in `ignoredFields` as
 * `other-number`): the webhook routes decide where they go (whatsapp-cloud.router.ts).
 *
 * @throws AppError('VALIDATION') with the failing path (never a value) for bodies that are not this shape.
 */
export function parseWhatsAppWebhook(body: unknown, expectedPhoneNumberId?: string): WhatsAppWebhook {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) throw invalid('the body is not a WhatsApp Business Account webhook', envelope.error);
  const changes: WhatsAppMessagesChange[] = [];
  const ignoredFields: string[] = [];
  const accountChanges: WhatsAppAccountChange[] = [];
  envelope.data.entry.forEach((entry, entryIndex) => {
    entry.changes.forEach((change, changeIndex) => {
      if (change.field !== 'messages') {
        ignoredFields.push(change.field);
        accountChanges.push({
          entryIndex,
          entryId: entry.id,
          field: change.field,
          value: change.value,
          time: entry.time,
        });
        return;
      }
      const value = messagesValueSchema.safeParse(change.value);
      if (!value.success) {
        throw invalid('a messages change is not the Cloud API shape', value.error, [
          'entry',
          entryIndex,
          'changes',
          changeIndex,
          'value',
        ]);
      }
      value.data.messages?.forEach((message, messageIndex) => {
        checkMessageContent(message as WhatsAppMessage, [
          'entry',
          entryIndex,
          'changes',
          changeIndex,
          'value',
          'messages',
          messageIndex,
        ]);
      });
      if (expectedPhoneNumberId !== undefined && value.data.metadata.phone_number_id !== expectedPhoneNumberId) {
        ignoredFields.push('other-number');
        return;
      }
      changes.push({ entryIndex, entryId: entry.id, changeIndex, value: value.data });
    });
  });
  return { changes, ignoredFields, accountChanges };
}

/** True when sparsam reads this message type (otherwise the mapper makes it `unsupported`). */
export function isKnownMessageType(type: string): type is KnownMessageType {
  return Object.hasOwn(messageContentSchemas, type);
}

/** Reads the type object of a message whose content was checked by {@link parseWhatsAppWebhook}. */
export function messageContent<T extends KnownMessageType>(
  message: WhatsAppMessage,
  type: T,
): z.infer<(typeof messageContentSchemas)[T]> {
  return messageContentSchemas[type].parse(message[type]) as z.infer<(typeof messageContentSchemas)[T]>;
}

function checkMessageContent(message: WhatsAppMessage, at: (string | number)[]): void {
  if (message.type !== 'system' && (message.from === undefined || message.from.length === 0)) {
    throw new AppError('VALIDATION', 'a message has no sender', { path: pathOf([...at, 'from']) });
  }
}

/**
 * True when the type object of a known message type has the documented shape (for `edit`, the edited message's
 * too). A signed message that fails this is still Meta's: the mapper keeps it as kind `unsupported` (flagged
 * `malformed`) instead of refusing the batch, which Meta would redeliver for days and then drop with every other
 * message in it.
 */
export function hasValidContent(message: WhatsAppMessage): boolean {
  const type = message.type;
  if (!isKnownMessageType(type)) return false;
  const result = messageContentSchemas[type].safeParse(message[type]);
  if (!result.success) return false;
  if (type === 'edit') {
    const inner = (result.data as { message?: Record<string, unknown> & { type: string } }).message;
    if (inner && isKnownMessageType(inner.type) && inner.type !== 'edit') {
      return messageContentSchemas[inner.type].safeParse(inner[inner.type]).success;
    }
  }
  return true;
}

function invalid(message: string, error: z.ZodError, prefix: (string | number)[] = []): AppError {
  const issue = error.issues[0];
  const path = pathOf([...prefix, ...((issue?.path ?? []) as (string | number)[])]);
  // Only the path and zod's message go out: never a value from the payload (it is personal data).
  return new AppError('VALIDATION', `${message}: ${path || '(body)'} ${issue?.message ?? 'is invalid'}`, { path });
}

function pathOf(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
