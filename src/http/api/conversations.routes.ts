import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_ATTACHMENT_BYTES, MAX_CAPTION_CHARS, type InboxService } from '../../core/inbox/inbox.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator, Principal } from '../auth/principal.ts';
import { STAFF_ROLES } from '../contract/api-route.ts';
import {
  ATTACHMENT_CAPTION_HEADER,
  ATTACHMENT_NAME_HEADER,
  ATTACHMENT_VOICE_HEADER,
  MAX_CAPTION_CHARS as DOCUMENTED_CAPTION_CHARS,
  conversationsApi as api,
} from '../contract/conversations.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export { ATTACHMENT_CAPTION_HEADER, ATTACHMENT_NAME_HEADER };

/** Inbox work is for admins and agents; the data protection officer works with exports, not conversations. */
export const INBOX_ROLES = STAFF_ROLES;

// The caption limit the contract documents is the one the inbox enforces (both are the literal type 1024).
const _sameCaptionLimit: typeof DOCUMENTED_CAPTION_CHARS = MAX_CAPTION_CHARS;

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

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return request.principal;
}

/** Registers the conversation operations in the OpenAPI document. */
export function documentConversationRoutes(docs: OpenApiRegistry): void {
  docs.addAll(api);
}

/**
 * The /api/v1 conversation routes of the REST contract. Thin: validate with the contract's schemas, call
 * {@link InboxService}, shape the answer. Every route is guarded by the contract's roles (admin, agent).
 */
export function conversationRoutes(deps: {
  inbox: InboxService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}): RouteModule {
  if (deps.docs) documentConversationRoutes(deps.docs);
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseNamed };

    registerRoute(app, api.list, options, async ({ query }, request) => {
      const items = await deps.inbox.listConversations(principalOf(request), query);
      return { items };
    });

    registerRoute(app, api.search, options, async ({ query }, request) =>
      deps.inbox.searchConversations(principalOf(request), query),
    );

    registerRoute(app, api.get, options, async ({ params }, request) =>
      deps.inbox.getConversation(principalOf(request), params.id),
    );

    registerRoute(app, api.reply, options, async ({ params, body }, request) => {
      const message = await deps.inbox.sendReply(principalOf(request), params.id, body);
      return { message };
    });

    registerRoute(app, api.react, options, async ({ params, body }, request) => {
      const message = await deps.inbox.react(principalOf(request), params.id, params.messageId, body.emoji);
      return { message };
    });

    // Uploads: the raw bytes are the body, whatever the Content-Type (it is never trusted: the sanitizer reads the
    // type from the bytes). Own scope, so that this catch-all parser serves this route only.
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ATTACHMENT_BYTES }, (_request, body, done) =>
        done(null, body),
      );
      registerRoute(
        scope,
        api.attach,
        { ...options, fastify: { bodyLimit: MAX_ATTACHMENT_BYTES } },
        async ({ params }, request) => {
          const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const claimed = request.headers['content-type'];
          const message = await deps.inbox.sendAttachment(principalOf(request), params.id, {
            data,
            claimedMime: typeof claimed === 'string' ? claimed.split(';')[0]!.trim() : undefined,
            fileName: percentDecodedHeader(request, ATTACHMENT_NAME_HEADER, 255),
            caption: percentDecodedHeader(request, ATTACHMENT_CAPTION_HEADER, MAX_CAPTION_CHARS),
            voice: request.headers[ATTACHMENT_VOICE_HEADER] === '1',
          });
          return { message };
        },
      );
    });

    registerRoute(app, api.close, options, async ({ params }, request) => {
      const conversation = await deps.inbox.close(principalOf(request), params.id);
      return { conversation };
    });

    registerRoute(app, api.media, options, async ({ params }, request, reply) => {
      const file = await deps.inbox.mediaFor(principalOf(request), params.id);
      return reply
        .header('content-type', file.mimeType)
        .header('cache-control', 'no-store, private')
        .header('content-disposition', 'inline')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(file.data);
    });

    registerRoute(app, api.templates, options, async ({ params }, request) => ({
      items: await deps.inbox.templates(principalOf(request), params.id),
    }));
  };
}
