import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteModule } from '../app.ts';
import { requireRole } from '../auth/principal.ts';
import { parseWith, teamActor, type WebDeps } from '../auth/web-deps.ts';

export const QuickReplyBody = z.object({
  shortcut: z.string().min(1).max(40),
  title: z.string().min(1).max(120),
  text: z.string().min(1).max(2048),
});

/** Quick replies (Textbausteine): agents and admins read them in the composer; admins manage them. */
export function quickRepliesRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const staff = requireRole(deps.authenticate, 'admin', 'agent');
    const admin = requireRole(deps.authenticate, 'admin');

    app.get('/api/v1/quick-replies', { preHandler: staff }, async () => ({
      items: await deps.team.listQuickReplies(),
    }));

    app.post('/api/v1/quick-replies', { preHandler: admin }, async (request, reply) => {
      const input = parseWith(QuickReplyBody, request.body);
      return reply.status(201).send({ item: await deps.team.createQuickReply(teamActor(request.principal!), input) });
    });

    app.put<{ Params: { id: string } }>('/api/v1/quick-replies/:id', { preHandler: admin }, async (request) => {
      const input = parseWith(QuickReplyBody, request.body);
      return { item: await deps.team.updateQuickReply(teamActor(request.principal!), request.params.id, input) };
    });

    app.delete<{ Params: { id: string } }>(
      '/api/v1/quick-replies/:id',
      { preHandler: admin },
      async (request, reply) => {
        await deps.team.deleteQuickReply(teamActor(request.principal!), request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
