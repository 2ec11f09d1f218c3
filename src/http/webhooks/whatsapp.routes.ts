import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditPort, ChannelLookup } from '../../core/inbox/inbox.ports.ts';
import type { InboxService } from '../../core/inbox/inbox.service.ts';
import { AppError, isAppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Metrics } from '../metrics.ts';

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
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const { channelId } = request.params as { channelId: string };
      const channel = deps.channels.get(channelId);
      if (!channel || !WHATSAPP_KINDS.has(channel.kind)) {
        deps.metrics.webhooks.labels('whatsapp', 'unknown_channel').inc();
        throw new AppError('NOT_FOUND', 'no WhatsApp channel with this id');
      }
      const kind = channel.kind;
      let result;
      try {
        result = await channel.verifyAndParse(request);
      } catch (error) {
        if (isAppError(error) && error.code === 'SIGNATURE_INVALID') {
          deps.metrics.webhooks.labels(kind, 'forged').inc();
          await deps.audit.append({
            actor: `webhook:${channel.id}`,
            action: 'webhook.forged',
            targetType: 'channel',
            targetId: channel.id,
            result: 'denied',
            details: { method: request.method, bytes: request.rawBody?.length ?? 0 },
          });
          request.log.warn({ channelId: channel.id }, 'webhook with a missing or wrong signature refused');
        } else if (isAppError(error)) {
          deps.metrics.webhooks.labels(kind, 'invalid').inc();
        } else {
          deps.metrics.webhooks.labels(kind, 'error').inc();
        }
        throw error;
      }
      if (result.kind === 'handshake') {
        deps.metrics.webhooks.labels(kind, 'handshake').inc();
        return reply.status(result.status).type('text/plain; charset=utf-8').send(result.body);
      }
      if (!(await deps.inbox.isChannelEnabled(channel.id))) {
        deps.metrics.webhooks.labels(kind, 'paused').inc();
        const messages = result.events.filter((e) => e.type === 'message').length;
        await deps.audit.append({
          actor: `webhook:${channel.id}`,
          action: 'webhook.channel_paused',
          targetType: 'channel',
          targetId: channel.id,
          details: { messages },
        });
        request.log.warn({ channelId: channel.id, messages }, 'channel paused: webhook answered, nothing stored');
        // Best effort and after the answer: a paused channel must not keep the provider waiting.
        if (messages > 0) {
          void deps.inbox.answerPaused(result.events).catch(() => undefined);
        }
        return reply.status(200).send({ ok: true });
      }
      try {
        await deps.inbox.receive(result.events);
      } catch (error) {
        deps.metrics.webhooks.labels(kind, 'error').inc();
        throw error;
      }
      deps.metrics.webhooks.labels(kind, 'ok').inc();
      return reply.status(200).send({ ok: true });
    };

    // Providers post thousands of webhooks a minute: no per-request info lines (each passes the logger's redaction);
    // refusals and failures are still logged at warn and error, and counted in sparsam_webhooks_total.
    const options = { logLevel: 'warn' as const };
    app.get('/webhooks/whatsapp/:channelId', options, handler);
    app.post('/webhooks/whatsapp/:channelId', options, handler);
  };
}
