import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountAudit } from '../../core/accounts/auth.service.ts';
import type { NotificationService } from '../../core/notifications/notification.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { notificationsApi as api } from '../contract/notifications.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export interface NotificationRouteDeps {
  notifications: NotificationService;
  authenticate: Authenticator;
  /** The signed-in user's e-mail address and language (the test e-mail goes there). */
  findUser: (id: string) => Promise<{ email: string; language: string } | undefined>;
  audit: AccountAudit;
  docs?: OpenApiRegistry;
}

function userId(request: FastifyRequest): string {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'not logged in');
  return p.userId ?? p.id;
}

function actor(request: FastifyRequest): string {
  const p = request.principal!;
  return p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`;
}

/** Notification settings of the signed-in staff member and, for admins, the SMTP set-up. Thin over the service. */
export function notificationRoutes(deps: NotificationRouteDeps): RouteModule {
  deps.docs?.addAll(api);
  const n = deps.notifications;
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };
    const settings = async (id: string) => {
      const [prefs, pushDevices, smtp] = await Promise.all([n.prefs(id), n.deviceCount(id), n.smtp()]);
      return { prefs, vapidPublicKey: n.vapidPublicKey, pushDevices, emailAvailable: smtp.enabled };
    };

    registerRoute(app, api.get, options, async (_input, request) => settings(userId(request)));

    registerRoute(app, api.put, options, async ({ body }, request) => {
      await n.setPrefs(userId(request), body);
      return settings(userId(request));
    });

    registerRoute(app, api.subscribe, options, async ({ body }, request, reply) => {
      await n.subscribe(userId(request), { endpoint: body.endpoint, keys: body.keys });
      reply.status(201);
      return { ok: true } as const;
    });

    registerRoute(app, api.unsubscribe, options, async ({ body }, request) => ({
      removed: await n.unsubscribe(userId(request), body.endpoint),
    }));

    registerRoute(app, api.smtpGet, options, async () => n.smtp());

    registerRoute(app, api.smtpPut, options, async ({ body }, request) => {
      const saved = await n.setSmtp(body);
      await deps.audit.append({
        actor: actor(request),
        action: 'settings.notifications.email',
        targetType: 'settings',
        targetId: 'notifications.smtp',
        details: { enabled: saved.enabled, passwordChanged: body.password !== undefined },
      });
      return saved;
    });

    registerRoute(app, api.smtpTest, options, async ({ body }, request) => {
      const user = await deps.findUser(userId(request));
      if (!user) throw new AppError('UNAUTHENTICATED', 'not logged in');
      await n.sendTestMail(body.to ?? user.email, user.language);
      return { ok: true } as const;
    });
  };
}
