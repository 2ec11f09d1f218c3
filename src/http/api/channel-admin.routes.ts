import type { FastifyInstance } from 'fastify';
import { channelKindForms } from '../../channels/channel-forms.ts';
import { webhookUrl } from '../../channels/registry.ts';
import type { ChannelAdminService } from '../../core/channel/channel-admin.service.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { actorOf } from '../auth/session.ts';
import { channelAdminApi as api } from '../contract/channel-admin.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export interface ChannelAdminRouteDeps {
  channels: ChannelAdminService<unknown>;
  authenticate: Authenticator;
  baseUrl: string;
  /** Registers a running channel's webhook with its provider (kinds with `webhookRegistration`). */
  registerWebhook(channelId: string): Promise<{ url: string }>;
  docs?: OpenApiRegistry;
}

/** Channels created, changed and removed in the admin screen; admins only, thin over {@link ChannelAdminService}. */
export function channelAdminRoutes(deps: ChannelAdminRouteDeps): RouteModule {
  deps.docs?.addAll(api);
  const service = deps.channels;
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };

    registerRoute(app, api.kinds, options, async () => ({ items: channelKindForms() }));

    registerRoute(app, api.create, options, async ({ body }, request) => {
      const created = await service.create(
        { id: body.id, kind: body.kind, inbox: body.inboxId, settings: body.settings, secrets: body.secrets },
        actorOf(request.principal!),
      );
      return {
        id: created.id,
        webhookUrl: webhookUrl(deps.baseUrl, body.kind, created.id),
        generated: created.generated,
      };
    });

    registerRoute(app, api.detail, options, async ({ params }) => service.detail(params.id));

    registerRoute(app, api.update, options, async ({ params, body }, request) => {
      await service.update(
        params.id,
        {
          ...(body.inboxId !== undefined ? { inbox: body.inboxId } : {}),
          ...(body.settings !== undefined ? { settings: body.settings } : {}),
          ...(body.secrets !== undefined ? { secrets: body.secrets } : {}),
        },
        actorOf(request.principal!),
      );
      return service.detail(params.id);
    });

    registerRoute(app, api.registerWebhook, options, async ({ params }, request) => {
      const result = await deps.registerWebhook(params.id);
      request.log.info({ channelId: params.id }, 'webhook registered with the provider');
      return result;
    });

    registerRoute(app, api.remove, options, async ({ params, body }, request) =>
      service.remove(params.id, body.confirm, actorOf(request.principal!)),
    );
  };
}
