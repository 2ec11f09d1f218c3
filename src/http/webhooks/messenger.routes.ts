import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.ts';
import { channelWebhookHandler } from './channel-webhook.handler.ts';
import type { WebhookRouteDeps } from './whatsapp.routes.ts';

/**
 * `GET|POST /webhooks/messenger/:channelId`: GET is Meta's hub challenge, POST a signed page webhook committed
 * through the inbox before the 200 (Meta retries anything else).
 */
export function messengerWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  return (app: FastifyInstance) => {
    const handler = channelWebhookHandler(deps, { kinds: new Set(['messenger']), providerName: 'Messenger' });
    app.get('/webhooks/messenger/:channelId', handler);
    app.post('/webhooks/messenger/:channelId', handler);
  };
}
