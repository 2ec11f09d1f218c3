import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../app.ts';
import { channelWebhookHandler } from './channel-webhook.handler.ts';
import type { WebhookRouteDeps } from './whatsapp.routes.ts';

/**
 * `POST /webhooks/telegram/:channelId`: the secret-token header is checked by the channel, the one Update is
 * committed through the inbox, then 200. Telegram redelivers on any other status, and the provider ids
 * (`<chat>:<message>`) make a redelivery a no-op.
 */
export function telegramWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  return (app: FastifyInstance) => {
    app.post(
      '/webhooks/telegram/:channelId',
      channelWebhookHandler(deps, { kinds: new Set(['telegram']), providerName: 'Telegram' }),
    );
  };
}
