import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ChannelRegistry } from '../../channels/registry.ts';
import { WebchatChannel } from '../../channels/webchat/webchat.channel.ts';
import type { WebchatAppearances } from '../../channels/webchat/webchat.appearance.ts';
import type { WebchatAppearance } from '../../channels/webchat/webchat.config.ts';
import type { AuditPort } from '../../core/inbox/inbox.ports.ts';
import { parseFields, registerRoute } from '../api/contract-route.ts';
import type { Authenticator } from '../auth/principal.ts';
import { actorOf } from '../auth/session.ts';
import { adminApi } from '../contract/admin.contract.ts';
import type { VisitorChatService } from '../../core/inbox/visitor-chat.service.ts';
import { VISITOR_MAX_FILE_BYTES } from '../../core/inbox/visitor-chat.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { onPrimary } from './webchat-colours.ts';

export interface WebchatRouteDeps {
  visitor: VisitorChatService;
  channels: ChannelRegistry;
  /** sparsam's public URL: its origin may always use the chat (the chat's own page). */
  baseUrl: string;
  organisationName: string;
  /** The appearance of each chat (configuration with the admin's changes). */
  appearances: WebchatAppearances;
  /** The admin screen's routes (GET/PUT /api/v1/admin/channels/:id/webchat): who may call them, and the audit log. */
  admin: {
    authenticate: Authenticator;
    audit: AuditPort;
  };
  /** web/dist/webchat: the built widget (widget.js, widget.css). */
  widgetDir: string;
  /** Keep-alive period of the live stream (tests shorten it). */
  keepAliveMs?: number;
}

const KEEP_ALIVE_MS = 20_000;
const LANGUAGE = z.enum(['de', 'en']);
const AcceptBody = z.object({ language: LANGUAGE, noticeVersion: z.string().min(1).max(128) }).strict();
const MessageBody = z.object({ clientId: z.string().min(1).max(64), text: z.string().max(20_000) }).strict();
const AckBody = z
  .object({ messageIds: z.array(z.string().min(1).max(64)).min(1).max(200), status: z.enum(['delivered', 'read']) })
  .strict();

/** Content security policy of the chat's own page: its script and stylesheet from sparsam, nothing inline. */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The website chat's routes, all under `/webchat/:channelId/`:
 * - `widget.js`, `widget.css`: the chat window (one `<script>` tag on the organisation's page; the script puts the
 *   window in a shadow root and links the stylesheet, so a strict CSP without 'unsafe-inline' allows it);
 * - `config`: title, greeting, colours, position and the privacy notice with its version;
 * - `consent` (POST): the visitor accepted the notice; answers with the token, the only thing the browser keeps;
 * - `messages` (GET history, POST text), `files` (POST upload, GET `files/:messageId`), `ack` (delivered/read),
 *   `stream` (server-sent events, read with fetch so that the token travels in the Authorization header, never in
 *   a URL), `visitor` (DELETE: forget this chat);
 * - `/webchat/:channelId` itself: a page of its own with the chat open (linked where WhatsApp is paused).
 *
 * No cookies are set or read. Cross-origin requests are answered (CORS) only for the chat's `allowedOrigins` and
 * sparsam's own origin; any other Origin gets 403 and changes nothing. Rate limits per client address and per token.
 */
export function webchatRoutes(deps: WebchatRouteDeps): RouteModule {
  return async (app: FastifyInstance) => {
    await app.register(rateLimit, { global: false });
    const ownOrigin = new URL(deps.baseUrl).origin;
    const limited = (error: { ttlInSeconds: number }) =>
      new AppError('RATE_LIMITED', `too many requests; try again in ${error.ttlInSeconds} seconds`, {
        retryAfterSeconds: error.ttlInSeconds,
      });
    const perIp = app.createRateLimit({
      keyGenerator: (request) => `${channelOf(request).id}\0${request.ip}`,
      max: (request) => channelOf(request as FastifyRequest).config.rateLimit.perIpPerMinute,
      timeWindow: 60_000,
    });
    const perToken = app.createRateLimit({
      keyGenerator: (request) =>
        `${channelOf(request).id}\0${createHash('sha256')
          .update(tokenOf(request) ?? '')
          .digest('base64url')}`,
      max: (request) => channelOf(request as FastifyRequest).config.rateLimit.perTokenPerMinute,
      timeWindow: 60_000,
    });

    const channelOf = (request: FastifyRequest): WebchatChannel => {
      const id = (request.params as { channelId?: string }).channelId ?? '';
      const channel = deps.channels.get(id);
      if (!(channel instanceof WebchatChannel)) throw new AppError('NOT_FOUND', 'no website chat with this id');
      return channel;
    };

    /** CORS: the configured origins and sparsam's own; a request from any other page is refused before it acts. */
    const cors = (request: FastifyRequest, reply: FastifyReply, channel: WebchatChannel): void => {
      const origin = request.headers.origin;
      reply.header('vary', 'Origin');
      reply.header('cache-control', 'no-store');
      if (origin === undefined) return; // not a browser's cross-origin request (same-origin GET, curl)
      if (origin !== ownOrigin && !channel.config.allowedOrigins.includes(origin)) {
        throw new AppError('FORBIDDEN', 'this website may not use this chat', { reason: 'origin' });
      }
      reply.header('access-control-allow-origin', origin);
    };

    const api = async (request: FastifyRequest, reply: FastifyReply, withToken: boolean): Promise<WebchatChannel> => {
      const channel = channelOf(request);
      cors(request, reply, channel);
      // (The plugin's answer is `isAllowed: true` only for allow-listed keys; a counted request says `isExceeded`.)
      const ip = await perIp(request);
      if (!ip.isAllowed && ip.isExceeded) throw limited(ip);
      if (withToken) {
        const token = await perToken(request);
        if (!token.isAllowed && token.isExceeded) throw limited(token);
      }
      return channel;
    };

    // Preflights: only the configured origins learn that the chat accepts their requests.
    app.options('/webchat/:channelId/*', async (request, reply) => {
      const channel = channelOf(request);
      cors(request, reply, channel);
      return reply
        .header('access-control-allow-methods', 'GET, POST, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type, x-client-id, x-file-name')
        .header('access-control-max-age', '600')
        .status(204)
        .send();
    });

    // ------------------------------------------------------------------------------------------ widget files

    const asset = (name: string) => {
      const file = path.join(deps.widgetDir, name);
      try {
        const stat = statSync(file);
        return {
          body: readFileSync(file),
          etag: `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
        };
      } catch {
        throw new AppError('NOT_FOUND', 'the chat widget is not built; run  npm run build:web');
      }
    };

    app.get('/webchat/:channelId/widget.js', async (request, reply) => {
      channelOf(request);
      const { body, etag } = asset('widget.js');
      return reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('etag', etag)
        .send(body);
    });

    app.get('/webchat/:channelId/widget.css', async (request, reply) => {
      const channel = channelOf(request);
      const { appearance: look } = await deps.appearances.get(channel.id);
      const { body } = asset('widget.css');
      // The chosen colour and the text colour that reads on it (WCAG contrast at least 4.5:1).
      const vars = `:host{--sc-primary:${look.primaryColour};--sc-on-primary:${onPrimary(look.primaryColour)};}\n`;
      return reply
        .header('content-type', 'text/css; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('cross-origin-resource-policy', 'cross-origin')
        .send(vars + body.toString('utf8'));
    });

    app.get('/webchat/:channelId', async (request, reply) => {
      const channel = channelOf(request);
      const query = request.query as { lang?: string };
      const lang = query.lang === 'en' ? 'en' : query.lang === 'de' ? 'de' : preferred(request);
      const title = escapeHtml(channel.config.title ?? deps.organisationName);
      const id = encodeURIComponent(channel.id);
      const heading = lang === 'de' ? 'Chat' : 'Chat';
      const html =
        `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${title} – ${heading}</title><link rel="stylesheet" href="/webchat/${id}/page.css"></head>` +
        `<body><main><h1>${title}</h1></main>` +
        `<script src="/webchat/${id}/widget.js" data-open="true" async></script></body></html>`;
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', PAGE_CSP)
        .header('cache-control', 'no-cache')
        .send(html);
    });

    app.get('/webchat/:channelId/page.css', async (request, reply) => {
      channelOf(request);
      const { body } = asset('page.css');
      return reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(body);
    });

    // ----------------------------------------------------------------------------------------------- the API

    app.get('/webchat/:channelId/config', async (request, reply) => {
      const channel = await api(request, reply, false);
      const language = LANGUAGE.catch('de').parse((request.query as { lang?: string }).lang);
      const { appearance: look } = await deps.appearances.get(channel.id);
      const notice = await deps.visitor.notice(channel.id, language);
      const enabled = await deps.visitor.isEnabled(channel.id);
      return {
        title: channel.config.title ?? deps.organisationName,
        language,
        greeting: look.greeting[language] ?? null,
        position: look.position,
        primaryColour: look.primaryColour,
        notice,
        paused: enabled ? null : await deps.visitor.pausedText(channel.id, language),
        maxFileBytes: VISITOR_MAX_FILE_BYTES,
      };
    });

    app.post('/webchat/:channelId/consent', async (request, reply) => {
      const channel = await api(request, reply, false);
      const body = parse(AcceptBody, request.body);
      const { token } = await deps.visitor.accept(channel.id, body.language, body.noticeVersion);
      return reply.status(201).send({ token });
    });

    app.get('/webchat/:channelId/messages', async (request, reply) => {
      const channel = await api(request, reply, false);
      return { messages: await deps.visitor.history(channel.id, tokenOf(request)) };
    });

    app.post('/webchat/:channelId/messages', async (request, reply) => {
      const channel = await api(request, reply, true);
      const body = parse(MessageBody, request.body);
      const message = await deps.visitor.sendText(channel.id, tokenOf(request), body.clientId, body.text);
      return reply.status(201).send({ message });
    });

    app.post('/webchat/:channelId/files', { bodyLimit: VISITOR_MAX_FILE_BYTES + 1024 }, async (request, reply) => {
      const channel = await api(request, reply, true);
      const data = request.body;
      if (!Buffer.isBuffer(data)) throw new AppError('VALIDATION', 'send the file as the request body');
      const clientId = header(request, 'x-client-id') ?? '';
      const rawName = header(request, 'x-file-name');
      let fileName: string | undefined;
      try {
        fileName = rawName ? decodeURIComponent(rawName).slice(0, 200) : undefined;
      } catch {
        throw new AppError('VALIDATION', 'x-file-name must be URI-encoded', { field: 'x-file-name' });
      }
      const mimeType = request.headers['content-type']?.split(';')[0]?.trim() || undefined;
      const message = await deps.visitor.sendFile(channel.id, tokenOf(request), clientId, {
        data,
        mimeType,
        fileName,
      });
      return reply.status(201).send({ message });
    });

    app.get('/webchat/:channelId/files/:messageId', async (request, reply) => {
      const channel = await api(request, reply, false);
      const { messageId } = request.params as { messageId: string };
      const file = await deps.visitor.file(channel.id, tokenOf(request), messageId);
      return reply
        .header('content-type', file.mimeType)
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.fileName)}`)
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(file.data);
    });

    app.post('/webchat/:channelId/ack', async (request, reply) => {
      const channel = await api(request, reply, false);
      const body = parse(AckBody, request.body);
      const count = await deps.visitor.acknowledge(channel.id, tokenOf(request), body.messageIds, body.status);
      return { acknowledged: count };
    });

    app.delete('/webchat/:channelId/visitor', async (request, reply) => {
      const channel = await api(request, reply, true);
      await deps.visitor.forget(channel.id, tokenOf(request));
      return reply.status(204).send();
    });

    // Live updates: content-free "sync" events (the window fetches its history), read with fetch() so that the
    // token travels in the Authorization header, never in a URL that proxies and logs keep.
    const open = new Set<() => void>();
    app.server.once('close', () => {
      for (const close of [...open]) close();
    });
    app.get('/webchat/:channelId/stream', async (request, reply) => {
      const channel = await api(request, reply, false);
      const token = tokenOf(request);
      const { contact } = await deps.visitor.identify(channel.id, token);
      const headers: Record<string, string> = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        vary: 'Origin',
      };
      const allowOrigin = reply.getHeader('access-control-allow-origin');
      if (typeof allowOrigin === 'string') headers['access-control-allow-origin'] = allowOrigin;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, headers);
      res.write(`retry: 3000\n: connected\n\n`);
      let closed = false;
      const unsubscribe = await deps.visitor.follow(contact, (event) => {
        if (!closed) res.write(`event: sync\ndata: ${JSON.stringify({ type: event.type })}\n\n`);
      });
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        open.delete(close);
        unsubscribe();
        res.end();
      };
      const timer = setInterval(() => {
        void deps.visitor.identify(channel.id, token).then(
          () => {
            if (!closed) res.write(`: keep-alive\n\n`);
          },
          () => {
            // Forgotten or erased meanwhile: the window starts over.
            if (!closed) res.write(`event: gone\ndata: {}\n\n`);
            close();
          },
        );
      }, deps.keepAliveMs ?? KEEP_ALIVE_MS);
      timer.unref();
      request.raw.on('close', close);
      open.add(close);
    });

    // ------------------------------------------------------------------------------------- the admin screen

    const adminOptions = { authenticate: deps.admin.authenticate, parse: parseFields };
    const settingsOf = async (channel: WebchatChannel) => {
      const { appearance, overridden } = await deps.appearances.get(channel.id);
      const page = `${deps.baseUrl.replace(/\/+$/, '')}/webchat/${encodeURIComponent(channel.id)}`;
      return {
        channelId: channel.id,
        appearance,
        defaults: deps.appearances.defaults(channel.id),
        overridden,
        embedCode: `<script src="${page}/widget.js" async></script>`,
        pageUrl: page,
        allowedOrigins: [...channel.config.allowedOrigins],
      };
    };
    const chatById = (id: string): WebchatChannel => {
      const channel = deps.channels.get(id);
      if (!(channel instanceof WebchatChannel)) throw new AppError('NOT_FOUND', 'no website chat with this id');
      return channel;
    };
    registerRoute(app, adminApi.webchat, adminOptions, async ({ params }) => ({
      item: await settingsOf(chatById(params.id)),
    }));
    registerRoute(app, adminApi.updateWebchat, adminOptions, async ({ params, body }, request) => {
      const channel = chatById(params.id);
      const reset = 'reset' in body;
      await deps.appearances.set(channel.id, reset ? 'reset' : (body as WebchatAppearance));
      await deps.admin.audit.append({
        actor: actorOf(request.principal!),
        action: 'channel.webchat_appearance',
        targetType: 'channel',
        targetId: channel.id,
        details: reset ? { reset: true } : { reset: false, position: (body as WebchatAppearance).position },
      });
      return { item: await settingsOf(channel) };
    });

    // Uploads arrive as the file's bytes with the file's own content type (checked by the sanitizer, not trusted).
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  };
}

function tokenOf(request: FastifyRequest): string | undefined {
  const value = request.headers.authorization;
  if (!value?.startsWith('Bearer ')) return undefined;
  return value.slice('Bearer '.length).trim();
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new AppError('VALIDATION', 'the request is not valid', {
      fields: result.error.issues.map((i) => i.path.join('.')),
    });
  }
  return result.data;
}

function preferred(request: FastifyRequest): 'de' | 'en' {
  const accept = request.headers['accept-language'] ?? '';
  return /^\s*de\b/i.test(accept) ? 'de' : accept.trim() === '' ? 'de' : 'en';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
