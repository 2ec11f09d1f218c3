import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelModule } from '../../channels/channel-module.ts';
import { channelModules } from '../../channels/registry.ts';
import type { WebhookResult } from '../../core/channel/channel.port.ts';
import type { AuditPort, ChannelLookup } from '../../core/inbox/inbox.ports.ts';
import type { InboxService } from '../../core/inbox/inbox.service.ts';
import { AppError, isAppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Metrics } from '../metrics.ts';
import { ForgedWebhookAudit } from './forged-webhook-audit.ts';
import { toWebhookRequest } from './webhook-request.ts';

export interface WebhookRouteDeps {
  channels: ChannelLookup;
  inbox: Pick<InboxService, 'receive' | 'isChannelEnabled' | 'answerPaused'>;
  audit: AuditPort;
  /** Where forged webhooks are audited (aggregated per channel and minute); one over `audit` when not given. */
  forged?: ForgedWebhookAudit;
  metrics: Metrics;
  /** The channel modules whose webhooks are served; every kind's by default. */
  modules?: readonly ChannelModule[];
}

/**
 * `<methods> /webhooks/<segment>/:channelId` for every channel module's webhook shape, one route per path segment
 * (whatsapp-cloud and dialog360 share `whatsapp`): today `GET|POST /webhooks/whatsapp/:channelId`,
 * `POST /webhooks/telegram/:channelId`, `GET|POST /webhooks/messenger/:channelId` and `POST /webhooks/sms/:channelId`.
 * Each verifies, stores and answers as {@link channelWebhookHandler} describes.
 */
export function channelWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  const modules = deps.modules ?? channelModules;
  return (app: FastifyInstance) => {
    const bySegment = new Map<string, ChannelModule[]>();
    for (const module of modules) {
      bySegment.set(module.webhook.segment, [...(bySegment.get(module.webhook.segment) ?? []), module]);
    }
    for (const [segment, group] of bySegment) {
      app.route({
        method: [...new Set(group.flatMap((m) => m.webhook.methods))],
        url: `/webhooks/${segment}/:channelId`,
        // Providers that post thousands of webhooks a minute: no per-request info lines (each passes the logger's
        // redaction); refusals and failures are still logged at warn and error, and counted in sparsam_webhooks_total.
        ...(group.some((m) => m.webhook.quiet) ? { logLevel: 'warn' as const } : {}),
        handler: channelWebhookHandler(deps, group),
      });
    }
  };
}

/**
 * The webhook sequence shared by every kind: find the channel (404, also for a channel whose kind is served under
 * another path), let it verify and parse the framework-free request (forged or unsigned → 401 and an audit entry
 * `webhook.forged`, aggregated beyond five a minute per channel; wrong shape → 400), answer a handshake as the channel says, store nothing for a paused channel
 * (kill switch) but answer 2xx so that the provider stops retrying, else `InboxService.receive(events)` commits
 * everything and only then the provider gets its 2xx (the kind's acknowledgement). Redeliveries are deduplicated by
 * the inbox on the provider message ids.
 */
export function channelWebhookHandler(deps: WebhookRouteDeps, modules: readonly ChannelModule[]) {
  const byKind = new Map<string, ChannelModule>(modules.map((m) => [m.kind, m]));
  const providerName = modules[0]?.webhook.providerName ?? 'such';
  const forged = deps.forged ?? new ForgedWebhookAudit(deps.audit);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { channelId } = request.params as { channelId: string };
    const channel = deps.channels.get(channelId);
    const module = channel ? byKind.get(channel.kind) : undefined;
    if (!channel || !module) {
      deps.metrics.webhooks.labels(modules[0]?.kind ?? 'unknown', 'unknown_channel').inc();
      throw new AppError('NOT_FOUND', `no ${providerName} channel with this id`);
    }
    const kind = channel.kind;
    const acknowledge = () => {
      const answer = module.webhook.acknowledge;
      return answer
        ? reply.status(200).type(answer.contentType).send(answer.body)
        : reply.status(200).send({ ok: true });
    };
    let result: WebhookResult;
    try {
      result = await channel.verifyAndParse(toWebhookRequest(request));
    } catch (error) {
      if (isAppError(error) && error.code === 'SIGNATURE_INVALID') {
        deps.metrics.webhooks.labels(kind, 'forged').inc();
        await forged.record(channel.id, { method: request.method, bytes: request.rawBody?.length ?? 0 });
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
    if (result.ignored && result.ignored.length > 0) {
      request.log.info({ channelId: channel.id, ignored: result.ignored }, `${kind} webhook parts left out`);
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
      return acknowledge();
    }
    try {
      await deps.inbox.receive(result.events);
    } catch (error) {
      deps.metrics.webhooks.labels(kind, 'error').inc();
      throw error;
    }
    deps.metrics.webhooks.labels(kind, 'ok').inc();
    return acknowledge();
  };
}
