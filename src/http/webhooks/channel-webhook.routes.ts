import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelModule } from '../../channels/channel-module.ts';
import { channelModules } from '../../channels/registry.ts';
import type { WhatsAppRouter, WhatsAppRouting } from '../../channels/whatsapp-cloud/whatsapp-cloud.router.ts';
import type { InboundEvent, WebhookResult } from '../../core/channel/channel.port.ts';
import type { AccountEvent } from '../../core/ports/business-account.port.ts';
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
  /**
   * Routes WhatsApp webhooks (Cloud API and 360dialog) by phone number id and account id: serves the app-level
   * `GET|POST /webhooks/whatsapp` and the POSTs of the per-channel URLs of those kinds.
   */
  whatsapp?: WhatsAppRouter;
  /** Applies account-level WhatsApp changes (templates, health); acknowledged only when not given. */
  accountEvents?: { apply(event: AccountEvent): Promise<unknown> };
  /** Least time between two `webhook.unrouted` audit entries (default one minute); the metric counts every one. */
  unroutedAuditIntervalMs?: number;
  now?: () => number;
}

/**
 * `<methods> /webhooks/<segment>/:channelId` for every channel module's webhook shape, one route per path segment
 * (whatsapp-cloud and dialog360 share `whatsapp`): today `GET|POST /webhooks/whatsapp/:channelId`,
 * `POST /webhooks/telegram/:channelId`, `GET|POST /webhooks/messenger/:channelId`, `POST /webhooks/sms/:channelId`
 * and `POST /webhooks/threema/:channelId`.
 * Each verifies, stores and answers as {@link channelWebhookHandler} describes.
 */
export function channelWebhookRoutes(deps: WebhookRouteDeps): RouteModule {
  const modules = deps.modules ?? channelModules;
  return (app: FastifyInstance) => {
    const bySegment = new Map<string, ChannelModule[]>();
    for (const module of modules) {
      bySegment.set(module.webhook.segment, [...(bySegment.get(module.webhook.segment) ?? []), module]);
    }
    const whatsapp = deps.whatsapp;
    if (whatsapp) {
      const deliver = whatsAppDelivery(deps, whatsapp);
      app.route({
        method: ['GET', 'POST'],
        url: '/webhooks/whatsapp',
        logLevel: 'warn',
        handler: async (request, reply) => {
          if (request.method === 'GET') {
            const answer = whatsapp.handshake(request.query);
            deps.metrics.webhooks.labels('whatsapp', 'handshake').inc();
            if (answer.kind !== 'handshake') throw new Error('unreachable');
            return reply.status(answer.status).type('text/plain; charset=utf-8').send(answer.body);
          }
          return deliver(request, reply, 'whatsapp', 'whatsapp');
        },
      });
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
  const forged = forgedAuditOf(deps);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { channelId } = request.params as { channelId: string };
    const channel = deps.channels.get(channelId);
    const module = channel ? byKind.get(channel.kind) : undefined;
    if (!channel || !module) {
      deps.metrics.webhooks.labels(modules[0]?.kind ?? 'unknown', 'unknown_channel').inc();
      throw new AppError('NOT_FOUND', `no ${providerName} channel with this id`);
    }
    const kind = channel.kind;
    if (deps.whatsapp && request.method === 'POST' && deps.whatsapp.has(channel.id)) {
      return whatsAppDelivery(deps, deps.whatsapp)(request, reply, channel.id, kind);
    }
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
      } else if (isAppError(error) && error.details?.reason === 'undecryptable') {
        // An authentic end-to-end message that does not open (Threema): refused, nothing stored, one content-free
        // audit entry so that the admin can see that customers' messages are being lost.
        deps.metrics.webhooks.labels(kind, 'undecryptable').inc();
        await deps.audit.append({
          actor: `webhook:${channel.id}`,
          action: 'webhook.undecryptable',
          targetType: 'channel',
          targetId: channel.id,
          details: { bytes: request.rawBody?.length ?? 0 },
        });
        request.log.warn({ channelId: channel.id }, 'end-to-end message that does not decrypt refused');
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
      await paused(deps, channel.id, kind, result.events, request);
      return acknowledge();
    }
    try {
      await deps.inbox.receive(result.events);
    } catch (error) {
      deps.metrics.webhooks.labels(kind, 'error').inc();
      throw error;
    }
    const keyChanges = result.events.filter((e) => e.type === 'message' && e.extra?.senderKeyChanged === true).length;
    if (keyChanges > 0) {
      // End-to-end channels: the customer's public key differs from the pinned one. The message shows it to staff;
      // the audit log keeps that it happened (content-free: channel and count).
      await deps.audit.append({
        actor: `webhook:${channel.id}`,
        action: 'contact.key_changed',
        targetType: 'channel',
        targetId: channel.id,
        details: { messages: keyChanges },
      });
    }
    await result.afterCommit?.();
    deps.metrics.webhooks.labels(kind, 'ok').inc();
    return acknowledge();
  };
}

const defaultForgedAudit = new WeakMap<WebhookRouteDeps, ForgedWebhookAudit>();
/** The forged-webhook audit of these deps: the one given, or one made once over `deps.audit`. */
function forgedAuditOf(deps: WebhookRouteDeps): ForgedWebhookAudit {
  if (deps.forged) return deps.forged;
  let made = defaultForgedAudit.get(deps);
  if (!made) defaultForgedAudit.set(deps, (made = new ForgedWebhookAudit(deps.audit)));
  return made;
}

/** The last `webhook.unrouted` audit entry per route deps (rate limit) and what was left out of the audit since. */
const unroutedAudit = new WeakMap<WebhookRouteDeps, { at: number; suppressed: number }>();

/**
 * A WhatsApp POST (app-level or per-channel URL): verify with every configured secret ({@link WhatsAppRouter}; none
 * verifies → 401 and `webhook.forged`; not the shape → 400), then commit entry by entry, each to the channel it is
 * for (a paused channel's entries are answered and not stored, as on the per-channel route), and answer 200 once
 * after the last commit. Account-level changes for a channel's `businessAccountId` go to `deps.accountEvents`
 * (template status and category, account health: stored content-free, audited when they change state); fields
 * sparsam does not keep are acknowledged and logged by name. Entries for
 * numbers or accounts not configured: counted in `sparsam_webhooks_total{result="unrouted"}` and audited without
 * content (`webhook.unrouted`), at most once a minute, so that a flood cannot fill the audit log.
 */
function whatsAppDelivery(deps: WebhookRouteDeps, router: WhatsAppRouter) {
  const intervalMs = deps.unroutedAuditIntervalMs ?? 60_000;
  const now = deps.now ?? Date.now;
  return async (request: FastifyRequest, reply: FastifyReply, target: string, targetKind: string) => {
    let routing: WhatsAppRouting;
    try {
      routing = router.route(toWebhookRequest(request));
    } catch (error) {
      if (isAppError(error) && error.code === 'SIGNATURE_INVALID') {
        deps.metrics.webhooks.labels(targetKind, 'forged').inc();
        await forgedAuditOf(deps).record(target, { method: request.method, bytes: request.rawBody?.length ?? 0 });
        request.log.warn({ target }, 'webhook with a missing or wrong signature refused');
      } else {
        deps.metrics.webhooks.labels(targetKind, isAppError(error) ? 'invalid' : 'error').inc();
      }
      throw error;
    }
    for (const delivery of routing.deliveries) {
      if (delivery.ignored.length > 0) {
        request.log.info({ channelId: delivery.channelId, ignored: delivery.ignored }, 'webhook parts left out');
      }
      if (!(await deps.inbox.isChannelEnabled(delivery.channelId))) {
        await paused(deps, delivery.channelId, delivery.kind, delivery.events, request);
        continue;
      }
      try {
        await deps.inbox.receive(delivery.events);
      } catch (error) {
        deps.metrics.webhooks.labels(delivery.kind, 'error').inc();
        throw error;
      }
      deps.metrics.webhooks.labels(delivery.kind, 'ok').inc();
    }
    for (const event of routing.accountEvents) {
      deps.metrics.webhooks.labels(targetKind, 'account').inc();
      if (event.event && deps.accountEvents) {
        // Templates and health: applied once (older or repeated changes change nothing and are not audited again).
        await deps.accountEvents.apply(event.event);
        continue;
      }
      request.log.info({ channelId: event.channelId, field: event.field }, 'account-level webhook acknowledged');
    }
    const unrouted = routing.unrouted.numbers + routing.unrouted.accounts;
    if (unrouted > 0) {
      deps.metrics.webhooks.labels(targetKind, 'unrouted').inc(unrouted);
      const last = unroutedAudit.get(deps);
      if (!last || now() - last.at >= intervalMs) {
        unroutedAudit.set(deps, { at: now(), suppressed: 0 });
        await deps.audit.append({
          actor: `webhook:${target}`,
          action: 'webhook.unrouted',
          targetType: 'channel',
          targetId: target,
          details: {
            numbers: routing.unrouted.numbers,
            accounts: routing.unrouted.accounts,
            notAudited: last?.suppressed ?? 0,
          },
        });
      } else {
        last.suppressed += unrouted;
      }
      request.log.warn({ target, unrouted }, 'signed webhook entries for no configured number or account dropped');
    }
    return reply.status(200).send({ ok: true });
  };
}

async function paused(
  deps: WebhookRouteDeps,
  channelId: string,
  kind: string,
  events: readonly InboundEvent[],
  request: FastifyRequest,
): Promise<void> {
  deps.metrics.webhooks.labels(kind, 'paused').inc();
  const messages = events.filter((e) => e.type === 'message').length;
  await deps.audit.append({
    actor: `webhook:${channelId}`,
    action: 'webhook.channel_paused',
    targetType: 'channel',
    targetId: channelId,
    details: { messages },
  });
  request.log.warn({ channelId, messages }, 'channel paused: webhook answered, nothing stored');
  // Best effort and after the answer: a paused channel must not keep the provider waiting.
  if (messages > 0) void deps.inbox.answerPaused(events).catch(() => undefined);
}
