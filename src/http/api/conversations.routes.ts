import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_ATTACHMENT_BYTES, MAX_CAPTION_CHARS, type InboxService } from '../../core/inbox/inbox.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { Role } from '../../core/ports/model.ts';
import type { RouteModule } from '../app.ts';
import { requireRole, type Authenticator, type Principal } from '../auth/principal.ts';
import type { OpenApiRegistry } from './openapi.ts';

/** Inbox work is for admins and agents; the data protection officer works with exports, not conversations. */
export const INBOX_ROLES: readonly Role[] = ['admin', 'agent'];

// ------------------------------------------------------------------------------------------------ schemas

const Person = z.object({ id: z.string(), name: z.string() });

export const ConversationSummarySchema = z.object({
  id: z.string(),
  label: z.string().describe('pseudonym, e.g. "Anfrage 42"'),
  inboxId: z.string(),
  channelId: z.string(),
  channelKind: z.string(),
  state: z.enum(['open', 'closed']),
  assignee: Person.nullable(),
  labels: z.array(z.string()),
  unread: z.number().int(),
  lastActivityAt: z.string().describe('ISO time'),
  windowClosesAt: z.string().nullable().describe('end of the free-text window; null where the channel has none'),
  eraseAt: z.string().nullable(),
  canSendFiles: z.boolean().describe('the channel sends files from agents (POST …/attachments); false: 415'),
  maxTextChars: z.number().int().describe('longest reply the channel takes, in characters; longer: 422 TEXT_TOO_LONG'),
});

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
  author: Person.nullable(),
  createdAt: z.string(),
  edited: z.boolean(),
  deleted: z.boolean(),
  buttons: z.array(z.object({ id: z.string(), title: z.string() })).optional(),
  template: z.object({ name: z.string(), language: z.string(), parameters: z.array(z.string()) }).optional(),
});

export const ListQuerySchema = z
  .object({
    view: z.enum(['mine', 'unassigned', 'all', 'closed']).default('all'),
    label: z.string().max(100).optional(),
    channel: z.string().max(100).optional(),
    q: z.string().max(100).optional(),
  })
  .strict();

export const ReplyBodySchema = z.union([
  // The channel's own limit (maxTextChars, at most 4096) is checked by the inbox: 422 TEXT_TOO_LONG with the limit.
  z.object({ text: z.string().min(1).max(65_536) }).strict(),
  z
    .object({
      template: z
        .object({
          name: z.string().min(1).max(512),
          language: z.string().min(2).max(15),
          parameters: z.array(z.string().max(1024)).max(20).default([]),
        })
        .strict(),
    })
    .strict(),
]);

/** Header with the file name of an upload, percent-encoded UTF-8 (headers are Latin-1). */
export const ATTACHMENT_NAME_HEADER = 'x-attachment-name';
/** Header with the caption of an upload, percent-encoded UTF-8; never put in the URL, which access logs keep. */
export const ATTACHMENT_CAPTION_HEADER = 'x-attachment-caption';

function percentDecodedHeader(request: FastifyRequest, name: string, max: number): string | undefined {
  const raw = request.headers[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > max * 12) {
    throw new AppError('VALIDATION', `the ${name} header is too long`, { field: name });
  }
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('VALIDATION', `the ${name} header must be percent-encoded UTF-8`, { field: name });
  }
}

const IdParams = z.object({ id: z.string().min(1).max(100) });

const TemplateSchema = z.object({ name: z.string(), language: z.string(), category: z.string(), body: z.string() });

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  // No body at all counts as an empty object; a JSON `null` body is a wrong body, not an empty one.
  const result = schema.safeParse(value === undefined ? {} : value);
  if (!result.success) {
    const fields = result.error.issues.map((i) => [where, ...i.path.map(String)].join('.'));
    throw new AppError('VALIDATION', `the ${where} is not valid: ${result.error.issues[0]?.message ?? 'invalid'}`, {
      fields,
    });
  }
  return result.data;
}

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return request.principal;
}

/** Registers the conversation operations in the OpenAPI document. */
export function documentConversationRoutes(docs: OpenApiRegistry): void {
  const roles = INBOX_ROLES;
  const tags = ['conversations'];
  docs.add({
    method: 'get',
    path: '/api/v1/conversations',
    summary: 'List conversations (never those waiting for consent)',
    tags,
    roles,
    query: ListQuerySchema,
    responses: {
      200: { description: 'the conversations', schema: z.object({ items: z.array(ConversationSummarySchema) }) },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/conversations/:id',
    summary: 'One conversation with its messages (the read is audited)',
    tags,
    roles,
    responses: {
      200: {
        description: 'the conversation',
        schema: z.object({
          conversation: ConversationSummarySchema.extend({ eraseAfterCloseDays: z.number() }),
          messages: z.array(MessageSchema),
        }),
      },
      404: { description: 'no such conversation' },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/conversations/:id/messages',
    summary: 'Queue a reply: free text inside the messaging window, or an approved template',
    tags,
    roles,
    body: ReplyBodySchema,
    responses: {
      202: { description: 'queued', schema: z.object({ message: MessageSchema }) },
      404: { description: 'no such conversation' },
      409: { description: 'the conversation is closed' },
      422: {
        description:
          'WINDOW_CLOSED: free text outside the messaging window; send a template. TEXT_TOO_LONG: longer than the channel takes (details.limit, see maxTextChars)',
      },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/conversations/:id/attachments',
    summary:
      'Queue a file for the customer (raw bytes as the body, at most 25 MB). The type is read from the bytes: ' +
      'images (JPEG, PNG, WebP, GIF, HEIC; re-encoded without EXIF, GPS and XMP), PDF, audio, video. Optional ' +
      `headers: ${ATTACHMENT_NAME_HEADER} (file name) and ${ATTACHMENT_CAPTION_HEADER} (caption, at most ` +
      `${MAX_CAPTION_CHARS} characters), both percent-encoded UTF-8`,
    tags,
    roles,
    body: z.string().describe('the file itself (Content-Type: its MIME type, or application/octet-stream)'),
    bodyContentType: 'application/octet-stream',
    headers: [
      { name: ATTACHMENT_NAME_HEADER, description: 'file name shown on documents, percent-encoded UTF-8' },
      { name: ATTACHMENT_CAPTION_HEADER, description: 'caption, percent-encoded UTF-8 (not for audio on WhatsApp)' },
    ],
    responses: {
      202: { description: 'queued', schema: z.object({ message: MessageSchema }) },
      400: { description: 'empty file, caption too long, or a header that is not percent-encoded' },
      404: { description: 'no such conversation' },
      409: { description: 'the conversation is closed' },
      413: { description: "larger than 25 MB or than the channel's limit for the type" },
      415: {
        description: 'a type that is not allowed, a damaged file, or a channel that sends no files (SMS, Messenger)',
      },
      422: { description: 'WINDOW_CLOSED: outside the messaging window; send a template' },
    },
  });
  docs.add({
    method: 'post',
    path: '/api/v1/conversations/:id/close',
    summary: "Close a conversation; it is erased at once or after the inbox's eraseAfterCloseDays",
    tags,
    roles,
    responses: {
      200: {
        description: 'closed',
        schema: z.object({ conversation: ConversationSummarySchema.extend({ erased: z.boolean() }) }),
      },
      404: { description: 'no such conversation' },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/media/:id',
    summary: 'The decrypted bytes of an attachment (metadata stripped on arrival; the read is audited)',
    tags,
    roles,
    responses: {
      200: { description: 'the file', contentType: 'application/octet-stream' },
      404: { description: 'no such file, or not stored' },
    },
  });
  docs.add({
    method: 'get',
    path: '/api/v1/channels/:id/templates',
    summary: 'Approved templates of a channel, as configured',
    tags: ['channels'],
    roles,
    responses: {
      200: { description: 'the templates', schema: z.object({ items: z.array(TemplateSchema) }) },
      404: { description: 'no such channel' },
    },
  });
}

/**
 * The /api/v1 conversation routes of the REST contract. Thin: validate with zod, call {@link InboxService}, shape
 * the answer. Every route is guarded by requireRole(admin, agent).
 */
export function conversationRoutes(deps: {
  inbox: InboxService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}): RouteModule {
  if (deps.docs) documentConversationRoutes(deps.docs);
  return (app: FastifyInstance) => {
    const guard = { preHandler: requireRole(deps.authenticate, ...INBOX_ROLES) };

    app.get('/api/v1/conversations', guard, async (request) => {
      const query = parse(ListQuerySchema, request.query, 'query');
      const items = await deps.inbox.listConversations(principalOf(request), query);
      return { items };
    });

    app.get('/api/v1/conversations/:id', guard, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      return deps.inbox.getConversation(principalOf(request), id);
    });

    app.post('/api/v1/conversations/:id/messages', guard, async (request, reply) => {
      const { id } = parse(IdParams, request.params, 'path');
      const body = parse(ReplyBodySchema, request.body, 'body');
      const message = await deps.inbox.sendReply(principalOf(request), id, body);
      return reply.status(202).send({ message });
    });

    // Uploads: the raw bytes are the body, whatever the Content-Type (it is never trusted: the sanitizer reads the
    // type from the bytes). Own scope, so that this catch-all parser serves this route only.
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ATTACHMENT_BYTES }, (_request, body, done) =>
        done(null, body),
      );
      scope.post(
        '/api/v1/conversations/:id/attachments',
        { ...guard, bodyLimit: MAX_ATTACHMENT_BYTES },
        async (request, reply) => {
          const { id } = parse(IdParams, request.params, 'path');
          const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const claimed = request.headers['content-type'];
          const message = await deps.inbox.sendAttachment(principalOf(request), id, {
            data,
            claimedMime: typeof claimed === 'string' ? claimed.split(';')[0]!.trim() : undefined,
            fileName: percentDecodedHeader(request, ATTACHMENT_NAME_HEADER, 255),
            caption: percentDecodedHeader(request, ATTACHMENT_CAPTION_HEADER, MAX_CAPTION_CHARS),
          });
          return reply.status(202).send({ message });
        },
      );
    });

    app.post('/api/v1/conversations/:id/close', guard, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      const conversation = await deps.inbox.close(principalOf(request), id);
      return { conversation };
    });

    app.get('/api/v1/media/:id', guard, async (request, reply) => {
      const { id } = parse(IdParams, request.params, 'path');
      const file = await deps.inbox.mediaFor(principalOf(request), id);
      return reply
        .header('content-type', file.mimeType)
        .header('cache-control', 'no-store, private')
        .header('content-disposition', 'inline')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(file.data);
    });

    app.get('/api/v1/channels/:id/templates', guard, async (request) => {
      const { id } = parse(IdParams, request.params, 'path');
      return { items: deps.inbox.templates(id) };
    });
  };
}
