import type { FastifyInstance } from 'fastify';
import type { AuditPort, ChannelLookup } from '../../core/inbox/inbox.ports.ts';
import type { InboxService } from '../../core/inbox/inbox.service.ts';
import type { RouteModule } from '../app.ts';
import type { Metrics } from '../metrics.ts';
import { channelWebhookHandler } from './channel-webhook.handler.ts';

/** Channel kinds served by /webhooks/whatsapp/:channelId (same Cloud API payload, different verification). */
export const WHATSAPP_KINDS: ReadonlySet<string> = new Set(['whatsapp-cloud', 'dialog360']);

export interface WebhookRouteDeps {
  channels: ChannelLookup;
  inbox: Pick<InboxService, 'receive' | 'isChannelEnabled' | 'answerPaused'>;
  audit: AuditPort;
  metrics: Metrics;
}

/**
 * `GET|POST /webhooks/whatsapp/:channelId`: verify, store, answer. The channel verifies the signature over the raw
 * bytes and parses; the inbox core commits everything the request carried; only then does the provider get its
 * 200. Unknown channel 404; forged or unsigned 401 with an audit entry; a payload for another number or of an
 * unknown shape 400; a paused channel (kill switch) 200 with nothing stored, so that the provider stops retrying.
 */
export function whatsappWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  return (app: FastifyInstance) => {
    const handler = channelWebhookHandler(deps, { kinds: WHATSAPP_KINDS, providerName: 'WhatsApp' });
    // Providers post thousands of webhooks a minute: no per-request info lines (each passes the logger's redaction);
    // refusals and failures are still logged at warn and error, and counted in sparsam_webhooks_total.
    const options = { logLevel: 'warn' as const };
    app.get('/webhooks/whatsapp/:channelId', options, handler);
    app.post('/webhooks/whatsapp/:channelId', options, handler);
  };
}
