import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteModule } from '../app.ts';
import { channelWebhookHandler } from './channel-webhook.handler.ts';
import type { WebhookRouteDeps } from './whatsapp.routes.ts';

/** An empty TwiML document: Twilio sends no automatic reply (sparsam's replies go through the REST API). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/**
 * `POST /webhooks/sms/:channelId` for inbound SMS/MMS and status callbacks: X-Twilio-Signature is checked by the
 * channel over the public URL and the form parameters, the events are committed through the inbox, then Twilio
 * gets 200 with an empty `<Response/>`.
 */
export function smsWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  return (app: FastifyInstance) => {
    app.post(
      '/webhooks/sms/:channelId',
      channelWebhookHandler(deps, {
        kinds: new Set(['sms']),
        providerName: 'SMS',
        acknowledge: (reply: FastifyReply) => reply.status(200).type('text/xml; charset=utf-8').send(EMPTY_TWIML),
      }),
    );
  };
}
