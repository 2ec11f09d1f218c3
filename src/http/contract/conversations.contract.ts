import { z } from 'zod';
import { TemplateButtonSchema, TemplateHeaderSchema } from './whatsapp-account.contract.ts';
import { IdParams, STAFF_ROLES, defineRoute } from './api-route.ts';

export const PersonSchema = z.object({ id: z.string(), name: z.string() });

/** A conversation as staff see it: a pseudonym label, never an address. Times are ISO strings. */
export const ConversationSummarySchema = z.object({
  id: z.string(),
  label: z.string().describe('pseudonym, e.g. "Anfrage 42"'),
  inboxId: z.string(),
  channelId: z.string(),
  channelKind: z.string(),
  state: z.enum(['open', 'closed']),
  assignee: PersonSchema.nullable(),
  labels: z.array(z.string()),
  priority: z.enum(['normal', 'high']).describe("set by staff (POST …/priority); 'high' shows as urgent"),
  unread: z.number().int(),
  snoozedUntil: z
    .string()
    .nullable()
    .describe('ISO time the snoozed conversation comes back (POST …/snooze); null when not snoozed'),
  lastActivityAt: z.string().describe('ISO time'),
  windowClosesAt: z.string().nullable().describe('end of the free-text window; null where the channel has none'),
  eraseAt: z.string().nullable(),
  canSendFiles: z.boolean().describe('the channel sends files from agents (POST …/attachments); false: 415'),
  maxTextChars: z.number().int().describe('longest reply the channel takes, in characters; longer: 422 TEXT_TOO_LONG'),
  preview: z
    .object({
      text: z.string().nullable().describe('cut to 80 characters; null for a file without caption or once erased'),
      kind: z.string(),
      direction: z.enum(['in', 'out', 'note']),
      at: z.string().describe('ISO time'),
    })
    .nullable()
    .optional()
    .describe('the newest message, opened for the viewer in memory (in the list only; never stored in plain text)'),
});

const ListViewSchema = z.object({
  button: z.string(),
  sections: z.array(
    z.object({
      title: z.string().optional(),
      rows: z.array(z.object({ id: z.string(), title: z.string(), description: z.string().optional() })),
    }),
  ),
});

/**
 * An interactive list in a reply. Loose bounds here (so that a list just over a limit gets the precise error); the
 * inbox checks WhatsApp's limits (interactive-list.ts LIST_LIMITS) and answers VALIDATION with `field: 'list'` and
 * a stable `reason`.
 */
const ListBodySchema = z
  .object({
    button: z.string().max(200).describe('the button that opens the list: 1-20 characters'),
    sections: z
      .array(
        z
          .object({
            title: z.string().max(200).optional().describe('at most 24 characters; required with several sections'),
            rows: z
              .array(
                z
                  .object({
                    id: z.string().max(400).optional().describe('1-200 characters, unique; default row-1, row-2 …'),
                    title: z.string().max(200).describe('1-24 characters'),
                    description: z.string().max(400).optional().describe('at most 72 characters'),
                  })
                  .strict(),
              )
              .max(20),
          })
          .strict(),
      )
      .max(20)
      .describe('1-10 sections with at most 10 rows in all'),
  })
  .strict();

export const MessageSchema = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out', 'note', 'system']),
  kind: z.string(),
  text: z.string().nullable(),
  status: z.string(),
  error: z.object({ code: z.string(), reason: z.string() }).nullable(),
  media: z
    .object({ id: z.string(), mimeType: z.string(), size: z.number(), state: z.string(), url: z.string() })
    .nullable(),
  author: PersonSchema.nullable(),
  createdAt: z.string(),
  edited: z.boolean(),
  deleted: z.boolean(),
  buttons: z.array(z.object({ id: z.string(), title: z.string() })).optional(),
  list: ListViewSchema.optional().describe('the interactive list sent with the text'),
  template: z
    .object({
      name: z.string(),
      language: z.string(),
      parameters: z.array(z.string()),
      header: z
        .union([
          z.object({ format: z.literal('TEXT'), text: z.string() }),
          z.object({ format: z.enum(['IMAGE', 'DOCUMENT', 'VIDEO']), link: z.string() }),
        ])
        .optional(),
      buttons: z.array(z.object({ index: z.number(), text: z.string() })).optional(),
    })
    .optional(),
  replyTo: z
    .object({
      id: z.string(),
      direction: z.enum(['in', 'out', 'note', 'system']),
      kind: z.string(),
      text: z.string().nullable(),
    })
    .optional()
    .describe('the message this one answers'),
  reactions: z.array(z.object({ emoji: z.string(), by: z.enum(['customer', 'staff']) })).optional(),
  location: z
    .object({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().optional(),
      address: z.string().optional(),
    })
    .optional(),
  contacts: z
    .array(
      z.object({
        name: z.string().optional(),
        phones: z.array(z.string()),
        emails: z.array(z.string()),
        company: z.string().optional(),
      }),
    )
    .optional(),
  unsupported: z.object({ providerType: z.string(), reason: z.string().nullable() }).optional(),
  senderKeyChanged: z
    .boolean()
    .optional()
    .describe("end-to-end channels (Threema): the customer's public key changed since the previous message"),
});

export const ConversationDetailSchema = z.object({
  conversation: ConversationSummarySchema.extend({
    eraseAfterCloseDays: z.number(),
    canReact: z.boolean().describe("the channel has reactions (WhatsApp): agents may react to the customer's messages"),
    canSendButtons: z.boolean().describe('the channel has reply buttons: agents may add up to 3 to a reply'),
    canSendLists: z
      .boolean()
      .describe('the channel has interactive lists (WhatsApp): agents may add a list of up to 10 rows to a reply'),
  }),
  messages: z.array(MessageSchema),
});

export const TemplateSchema = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string(),
  body: z.string(),
  header: TemplateHeaderSchema.optional(),
  footer: z.string().optional(),
  buttons: z.array(TemplateButtonSchema).optional(),
});

export const ListQuerySchema = z
  .object({
    view: z
      .enum(['mine', 'unassigned', 'all', 'closed', 'snoozed'])
      .default('all')
      .describe("'snoozed': the snoozed ones, soonest wake-up first; the others leave them out"),
    label: z.string().max(100).optional(),
    channel: z.string().max(100).optional(),
    q: z.string().max(100).optional(),
    sort: z.enum(['activity', 'priority']).optional().describe("'priority': high priority first, then newest activity"),
  })
  .strict();

export const SearchQuerySchema = z
  .object({
    q: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .describe('text to find in messages, labels ("1" finds Anfrage 1, 10, 21) and tags'),
    view: z
      .enum(['mine', 'unassigned', 'all', 'closed', 'snoozed'])
      .default('all')
      .describe("'snoozed': the snoozed ones, soonest wake-up first; the others leave them out"),
    label: z.string().max(100).optional(),
    channel: z.string().max(100).optional(),
  })
  .strict();

export const SearchResultSchema = z.object({
  items: z.array(
    ConversationSummarySchema.extend({
      match: z
        .object({ messageId: z.string(), snippet: z.string(), createdAt: z.string() })
        .nullable()
        .describe('the newest matching message, an excerpt of its text; null when the label or a tag matched'),
    }),
  ),
  scanned: z.object({ conversations: z.number().int(), messages: z.number().int() }),
  bound: z
    .object({ conversations: z.number().int(), messages: z.number().int() })
    .describe('the most conversations and messages one search decrypts'),
  limited: z.boolean().describe('true when the bound cut the search short: older messages were not searched'),
});

export const ReplyBodySchema = z.union([
  // The channel's own limit (maxTextChars, at most 4096) is checked by the inbox: 422 TEXT_TOO_LONG with the limit.
  z
    .object({
      text: z.string().min(1).max(65_536),
      replyTo: z.string().max(64).optional().describe("id of the customer's message this reply answers (quoted)"),
      buttons: z
        .array(z.string().max(40))
        .max(3)
        .optional()
        .describe('reply buttons the customer can tap: 1-3 distinct titles of 1-20 characters (text at most 1024)'),
      list: ListBodySchema.optional().describe(
        'an interactive list (WhatsApp): a button that opens up to 10 rows; the text at most 1024 characters. ' +
          "Refused with 400 VALIDATION, details.field 'list' and a stable details.reason (list_unsupported, " +
          'list_button, list_rows …)',
      ),
    })
    .strict(),
  z
    .object({
      template: z
        .object({
          name: z.string().min(1).max(512),
          language: z.string().min(2).max(15),
          parameters: z.array(z.string().max(1024)).max(20).default([]),
          header: z.string().max(2000).optional().describe('header placeholder value, or https address of its file'),
          buttons: z.array(z.string().max(2000)).max(2).optional().describe('values of URL buttons with {{1}}'),
        })
        .strict(),
    })
    .strict(),
]);

/** Header with the file name of an upload, percent-encoded UTF-8 (headers are Latin-1). */
export const ATTACHMENT_NAME_HEADER = 'x-attachment-name';
/** Header with the caption of an upload, percent-encoded UTF-8; never put in the URL, which access logs keep. */
export const ATTACHMENT_CAPTION_HEADER = 'x-attachment-caption';
/** Header `1` on an upload recorded with the microphone button: sent as a voice message where the channel has them. */
export const ATTACHMENT_VOICE_HEADER = 'x-attachment-voice';
/** Longest caption of an upload, in characters. */
export const MAX_CAPTION_CHARS = 1024;

const tags = ['conversations'];
const roles = STAFF_ROLES;
const queued = { status: 202, description: 'queued', schema: z.object({ message: MessageSchema }) };

/** The conversation operations: list, read, reply, send a file, close, media bytes, a channel's templates. */
export const conversationsApi = {
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/conversations',
    summary: 'List conversations (never those waiting for consent)',
    tags,
    roles,
    query: ListQuerySchema,
    response: { description: 'the conversations', schema: z.object({ items: z.array(ConversationSummarySchema) }) },
  }),
  search: defineRoute({
    method: 'GET',
    url: '/api/v1/conversations/search',
    summary:
      'Search message texts (case- and accent-insensitive), labels and tags of the conversations the caller may see; ' +
      'decrypted in memory, newest first, within a stated bound (the search is audited without the query)',
    tags,
    roles,
    query: SearchQuerySchema,
    response: { description: 'the matching conversations', schema: SearchResultSchema },
  }),
  get: defineRoute({
    method: 'GET',
    url: '/api/v1/conversations/:id',
    summary: 'One conversation with its messages (the read is audited)',
    tags,
    roles,
    params: IdParams,
    response: { description: 'the conversation', schema: ConversationDetailSchema },
    errors: { 404: 'no such conversation' },
  }),
  reply: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/messages',
    summary: 'Queue a reply: free text inside the messaging window, or an approved template',
    tags,
    roles,
    params: IdParams,
    body: ReplyBodySchema,
    response: queued,
    errors: {
      404: 'no such conversation',
      409: 'the conversation is closed',
      422: 'WINDOW_CLOSED: free text outside the messaging window; send a template. TEXT_TOO_LONG: longer than the channel takes (details.limit, see maxTextChars)',
    },
  }),
  react: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/messages/:messageId/reaction',
    summary: "React to one of the customer's messages with an emoji, or take the reaction back (emoji empty)",
    tags,
    roles,
    params: z.object({ id: z.string().min(1).max(100), messageId: z.string().min(1).max(100) }),
    body: z.object({ emoji: z.string().max(16).describe('one emoji; empty takes the reaction back') }).strict(),
    response: queued,
    errors: {
      400: 'not a customer message of this conversation, not one emoji, or the channel has no reactions',
      404: 'no such conversation',
      409: 'the conversation is closed',
      422: 'WINDOW_CLOSED: outside the messaging window',
    },
  }),
  attach: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/attachments',
    summary:
      'Queue a file for the customer (raw bytes as the body, at most 25 MB). The type is read from the bytes: ' +
      'images (JPEG, PNG, WebP, GIF, HEIC; re-encoded without EXIF, GPS and XMP), PDF, audio, video. Optional ' +
      `headers: ${ATTACHMENT_NAME_HEADER} (file name) and ${ATTACHMENT_CAPTION_HEADER} (caption, at most ` +
      `${MAX_CAPTION_CHARS} characters), both percent-encoded UTF-8`,
    tags,
    roles,
    params: IdParams,
    body: z.string().describe('the file itself (Content-Type: its MIME type, or application/octet-stream)'),
    bodyContentType: 'application/octet-stream',
    headers: [
      { name: ATTACHMENT_NAME_HEADER, description: 'file name shown on documents, percent-encoded UTF-8' },
      { name: ATTACHMENT_CAPTION_HEADER, description: 'caption, percent-encoded UTF-8 (not for audio on WhatsApp)' },
      {
        name: ATTACHMENT_VOICE_HEADER,
        description:
          '1: a voice note (audio only; a WebM/Opus recording is remuxed to Ogg/Opus and goes out as a WhatsApp or ' +
          'Telegram voice message)',
      },
    ],
    response: queued,
    errors: {
      400: 'empty file, caption too long, or a header that is not percent-encoded',
      404: 'no such conversation',
      409: 'the conversation is closed',
      413: "larger than 25 MB or than the channel's limit for the type",
      415: 'a type that is not allowed, a damaged file, or a channel that sends no files (SMS, Messenger)',
      422: 'WINDOW_CLOSED: outside the messaging window; send a template',
    },
  }),
  close: defineRoute({
    method: 'POST',
    url: '/api/v1/conversations/:id/close',
    summary: "Close a conversation; it is erased at once or after the inbox's eraseAfterCloseDays",
    tags,
    roles,
    params: IdParams,
    response: {
      description: 'closed',
      schema: z.object({ conversation: ConversationSummarySchema.extend({ erased: z.boolean() }) }),
    },
    errors: { 404: 'no such conversation' },
  }),
  media: defineRoute({
    method: 'GET',
    url: '/api/v1/media/:id',
    summary: 'The decrypted bytes of an attachment (metadata stripped on arrival; the read is audited)',
    tags,
    roles,
    params: IdParams,
    response: { description: 'the file', contentType: 'application/octet-stream' },
    errors: { 404: 'no such file, or not stored' },
  }),
  templates: defineRoute({
    method: 'GET',
    url: '/api/v1/channels/:id/templates',
    summary: 'Approved templates of a channel, as configured',
    tags: ['channels'],
    roles,
    params: IdParams,
    response: { description: 'the templates', schema: z.object({ items: z.array(TemplateSchema) }) },
    errors: { 404: 'no such channel' },
  }),
} as const;
