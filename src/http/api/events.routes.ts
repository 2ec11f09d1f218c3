import type { FastifyInstance } from 'fastify';
import type { InboxEvent } from '../../core/inbox/inbox-events.ts';
import { eventVisibleTo, type InboxScope } from '../../core/teams/inbox-scope.ts';
import type { RouteModule } from '../app.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { teamApi } from '../contract/team.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

export const KEEP_ALIVE_MS = 20_000;

/**
 * GET /api/v1/events: the content-free inbox events as server-sent events, for admins and agents. A comment line
 * every 20 s keeps proxies from closing the stream and re-checks the session; logging out ends the stream at once.
 *
 * The data protection officer gets 403: the events tell which conversation changed when, which the DPO's work (audit,
 * subject requests, documents) does not need, and the DPO sees no inbox to update. The web inbox opens the stream
 * only for roles that see the inbox.
 */
export function eventsRoutes(deps: WebDeps, keepAliveMs = KEEP_ALIVE_MS): RouteModule {
  return async (app: FastifyInstance) => {
    // One listener on the server for every open stream, not one per stream: reconnecting browsers would otherwise
    // pile up 'close' listeners (MaxListenersExceededWarning) for streams long gone.
    const open = new Set<() => void>();
    app.server.once('close', () => {
      for (const close of [...open]) close();
    });
    registerRoute(
      app,
      teamApi.events,
      { authenticate: deps.authenticate, parse: parseFields },
      async (_input, request, reply) => {
        const principal = request.principal!;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store, private',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-content-type-options': 'nosniff',
        });
        res.write(`retry: 3000\n: connected\n\n`);
        let closed = false;
        // Only events of the caller's inboxes, and notifications only for the caller. The scope is read again when
        // an admin changes this user's inboxes (this instance: at once; others: at the next keep-alive).
        let scope: InboxScope = principal.scope;
        const refreshScope = async () => {
          const who = { id: principal.id, role: principal.role };
          scope = principal.kind === 'session' ? await deps.scopes.forUser(who) : await deps.scopes.forToken(who);
        };
        const send = (event: InboxEvent) => {
          if (closed || !eventVisibleTo(event, { scope, userId: principal.userId })) return;
          res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        };
        const unsubscribe = deps.events.subscribe(send);
        const unwatch = deps.teams.onMembershipChanged((userId) => {
          if (userId === principal.userId) void refreshScope().catch(() => undefined);
        });
        const close = () => {
          if (closed) return;
          closed = true;
          clearInterval(timer);
          open.delete(close);
          unsubscribe();
          unwatch();
          removeStream?.();
          res.end();
        };
        const session = request.sessionAuth;
        const removeStream = session ? deps.streams.add(session.idHash, principal.id, close) : undefined;
        const timer = setInterval(() => {
          void (async () => {
            if (session) {
              const found = await deps.auth.resolve(session.token).catch(() => undefined);
              if (!found || found.step !== 'done') return close();
            }
            await refreshScope().catch(() => undefined);
            if (!closed) res.write(`: keep-alive\n\n`);
          })();
        }, keepAliveMs);
        timer.unref();
        request.raw.on('close', close);
        open.add(close);
      },
    );
  };
}
