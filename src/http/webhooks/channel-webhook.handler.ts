import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookResult } from '../../channels/channel.ts';
import { AppError, isAppError } from '../../shared/app-error.ts';
import type { WebhookRouteDeps } from './whatsapp.routes.ts';

export interface ChannelWebhookOptions {
  /** Channel kinds this route serves; a channel id of another kind is answered 404 like an unknown one. */
  kinds: ReadonlySet<string>;
  /** Name used in the 404 message ("no Telegram channel with this id"). */
  providerName: string;
  /** Sends the 2xx answer once the events are committed (default: 200 `{ok:true}`; Twilio wants TwiML). */
  acknowledge?: (reply: FastifyReply) => FastifyReply;
}

/**
 * The webhook sequence shared by every messenger's route (WhatsApp, Telegram, Messenger, SMS): find the
 * channel (404), let it verify and parse (forged or unsigned → 401 and an audit entry `webhook.forged`; wrong shape
 * → 400), answer a handshake as the channel says, store nothing for a paused channel (kill switch) but answer 2xx so
 * that the provider stops retrying, else `InboxService.receive(events)` commits everything and only then the
 * provider gets its 2xx. Redeliveries are deduplicated by the inbox on the provider message ids.
 */
export function channelWebhookHandler(deps: WebhookRouteDeps, options: ChannelWebhookOptions) {
  const acknowledge = options.acknowledge ?? ((reply: FastifyReply) => reply.status(200).send({ ok: true }));
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { channelId } = request.params as { channelId: string };
    const channel = deps.channels.get(channelId);
    if (!channel || !options.kinds.has(channel.kind)) {
      deps.metrics.webhooks.labels([...options.kinds][0] ?? 'unknown', 'unknown_channel').inc();
      throw new AppError('NOT_FOUND', `no ${options.providerName} channel with this id`);
    }
    const kind = channel.kind;
    let result: WebhookResult;
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
      } else {
        deps.metrics.webhooks.labels(kind, isAppError(error) ? 'invalid' : 'error').inc();
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
      if (messages > 0) void deps.inbox.answerPaused(result.events).catch(() => undefined);
      return acknowledge(reply);
    }
    try {
      await deps.inbox.receive(result.events);
    } catch (error) {
      deps.metrics.webhooks.labels(kind, 'error').inc();
      throw error;
    }
    deps.metrics.webhooks.labels(kind, 'ok').inc();
    return acknowledge(reply);
  };
}
