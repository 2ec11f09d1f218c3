import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebhookDeliveryView, WebhookEndpointView, WebhookService } from '../../core/webhooks/webhook.service.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import {
  WebhookEventTypeSchema,
  webhookPayloadSchema,
  webhooksApi as api,
  type WebhookEventTypeName,
} from '../contract/webhooks.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

export interface WebhookRouteDeps {
  webhooks: WebhookService;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}

function actor(request: FastifyRequest): string {
  const p = request.principal;
  if (!p) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
  return p.kind === 'session' ? `user:${p.userId ?? p.id}` : `token:${p.id}`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const endpoint = (e: WebhookEndpointView) => ({
  ...e,
  pausedAt: iso(e.pausedAt),
  failingSince: iso(e.failingSince),
  lastSuccessAt: iso(e.lastSuccessAt),
  secretRotatedUntil: iso(e.secretRotatedUntil),
  createdAt: new Date(e.createdAt).toISOString(),
  updatedAt: new Date(e.updatedAt).toISOString(),
});

const delivery = (d: WebhookDeliveryView) => ({
  ...d,
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});

const EVENT_SUMMARIES: Record<WebhookEventTypeName, string> = {
  'conversation.opened': 'A conversation became visible to staff (a first message with consent, or consent given)',
  'conversation.assigned': 'A conversation was assigned or unassigned',
  'conversation.closed': 'A conversation was closed by staff or for inactivity',
  'conversation.erased': 'A conversation was erased (crypto-shredded); its ids will not resolve any more',
  'message.received': 'A customer message was stored in an open conversation',
  'message.sent': 'The provider accepted an outbound message',
  'message.failed': 'An outbound message could not be delivered',
  'consent.given': 'A customer gave consent (service or marketing)',
  'consent.withdrawn': 'A customer withdrew consent',
};

/** Documents the outgoing webhooks' payloads and signature headers in the OpenAPI document (`webhooks`). */
export function documentWebhookPayloads(docs: OpenApiRegistry): void {
  docs.setWebhookHeaders([
    { name: 'webhook-id', description: 'the message id (msg_…), the same for every attempt: deduplicate by it' },
    { name: 'webhook-timestamp', description: 'Unix seconds of this attempt; reject values far from your clock' },
    {
      name: 'webhook-signature',
      description:
        'Standard Webhooks: space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with the key = base64-decoded secret after whsec_ (two during a secret rotation)',
    },
  ]);
  for (const type of WebhookEventTypeSchema.options) {
    const name = `WebhookPayload_${type.replace('.', '_')}`;
    docs.addWebhook(type, EVENT_SUMMARIES[type], name, webhookPayloadSchema(type));
  }
}

/** Outgoing webhook administration; admin only, thin over {@link WebhookService}. */
export function webhookRoutes(deps: WebhookRouteDeps): RouteModule {
  if (deps.docs) {
    deps.docs.addAll(api);
    documentWebhookPayloads(deps.docs);
  }
  const w = deps.webhooks;
  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseNamed };

    registerRoute(app, api.list, options, async () => ({
      items: (await w.list()).map(endpoint),
      eventTypes: [...WebhookEventTypeSchema.options],
    }));

    registerRoute(app, api.create, options, async ({ body }, request) => {
      const created = await w.create(body, actor(request));
      return { endpoint: endpoint(created.endpoint), secret: created.secret };
    });

    registerRoute(app, api.get, options, async ({ params }) => ({ endpoint: endpoint(await w.get(params.id)) }));

    registerRoute(app, api.update, options, async ({ params, body }, request) => ({
      endpoint: endpoint(await w.update(params.id, body, actor(request))),
    }));

    registerRoute(app, api.remove, options, async ({ params }, request) => {
      await w.delete(params.id, actor(request));
    });

    registerRoute(app, api.rotateSecret, options, async ({ params }, request) => {
      const rotated = await w.rotateSecret(params.id, actor(request));
      return { endpoint: endpoint(rotated.endpoint), secret: rotated.secret };
    });

    registerRoute(app, api.pause, options, async ({ params }, request) => ({
      endpoint: endpoint(await w.pause(params.id, actor(request))),
    }));

    registerRoute(app, api.resume, options, async ({ params }, request) => ({
      endpoint: endpoint(await w.resume(params.id, actor(request))),
    }));

    registerRoute(app, api.test, options, async ({ params }, request) => ({
      delivery: delivery(await w.test(params.id, actor(request))),
    }));

    registerRoute(app, api.deliveries, options, async ({ params, query }) => ({
      items: (await w.deliveries(params.id, query.limit)).map(delivery),
    }));
  };
}
