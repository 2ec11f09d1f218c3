import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteModule } from '../app.ts';
import { requireRole } from '../auth/principal.ts';
import { parseWith, teamActor, type WebDeps } from '../auth/web-deps.ts';

export const AssignBody = z.object({ userId: z.string().min(1).max(64).nullable() });
export const LabelsBody = z.object({ labels: z.array(z.string().max(80)).max(50) });
export const NoteBody = z.object({ text: z.string().min(1).max(8192) });

/** Team work on conversations (assign, labels, notes, read) and the team directory; admins and agents only. */
export function teamRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireRole(deps.authenticate, 'admin', 'agent'));

    app.post<{ Params: { id: string } }>('/api/v1/conversations/:id/assign', async (request) => {
      const body = parseWith(AssignBody, request.body);
      await deps.team.assign(teamActor(request.principal!), request.params.id, body.userId);
      return { ok: true };
    });

    app.post<{ Params: { id: string } }>('/api/v1/conversations/:id/labels', async (request) => {
      const body = parseWith(LabelsBody, request.body);
      return { labels: await deps.team.setLabels(teamActor(request.principal!), request.params.id, body.labels) };
    });

    app.post<{ Params: { id: string } }>('/api/v1/conversations/:id/notes', async (request, reply) => {
      const body = parseWith(NoteBody, request.body);
      const note = await deps.team.addNote(teamActor(request.principal!), request.params.id, body.text);
      return reply.status(201).send({ note: { id: note.id, createdAt: new Date(note.createdAt).toISOString() } });
    });

    app.post<{ Params: { id: string } }>('/api/v1/conversations/:id/read', async (request) => {
      await deps.team.markRead(teamActor(request.principal!), request.params.id);
      return { ok: true };
    });

    app.get('/api/v1/team/members', async () => {
      const users = await deps.users.listUsers();
      return {
        items: users
          .filter((u) => !u.disabled && u.role !== 'dpo')
          .map((u) => ({ id: u.id, displayName: u.display_name, role: u.role })),
      };
    });

    app.get('/api/v1/labels', async () => ({ items: await deps.team.knownLabels() }));
  };
}
