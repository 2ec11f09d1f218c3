import type { FastifyInstance } from 'fastify';
import { channelModule } from '../../channels/registry.ts';
import { controllerPlaceholders } from '../../core/compliance/controller-placeholder.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { actorOf } from '../auth/session.ts';
import type { WebDeps } from '../auth/web-deps.ts';
import { adminApi as api } from '../contract/admin.contract.ts';
import { parseFields, registerRoute } from './contract-route.ts';

/** A hint that lets an admin recognise a secret without showing it: its length and last two characters. */
function secretHint(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length >= 16 ? `…${value.slice(-2)} (${value.length})` : `(${value.length})`;
}

/** Admin screens: channels (webhook URL, verify-token hint, test connection, on/off) and inbox privacy settings. */
export function adminRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseFields };
    const base = deps.config.baseUrl.replace(/\/$/, '');

    // The first-run checklist: whether the configuration file still names the placeholder controller and a DPO.
    registerRoute(app, api.setup, options, async () => ({
      organisation: {
        placeholders: controllerPlaceholders(deps.config.organisation),
        dpoContact: Boolean(deps.config.organisation.dpo?.trim()),
      },
    }));

    registerRoute(app, api.channels, options, async () => {
      const rows = await deps.inboxes.listChannels();
      return {
        items: rows.map((row) => {
          const configured = (deps.channelConfig?.(row.id) ?? deps.config.channels.find((c) => c.id === row.id)) as
            Record<string, unknown> | undefined;
          const settings = row.settings;
          const module = channelModule(row.kind);
          const verifySecretField = module?.webhook.verifySecretField;
          return {
            id: row.id,
            kind: row.kind,
            inboxId: row.inbox_id,
            enabled: row.enabled,
            source: row.source,
            webhookUrl: `${base}/webhooks/${module?.webhook.segment ?? row.kind}/${row.id}`,
            verifyTokenHint: secretHint(verifySecretField ? configured?.[verifySecretField] : undefined),
            phoneNumberId: typeof settings.phoneNumberId === 'string' ? settings.phoneNumberId : null,
            apiBaseUrl: (settings.graphBaseUrl ?? settings.apiBaseUrl ?? null) as string | null,
            hasBalance: deps.channelBalance?.supports(row.id) ?? false,
          };
        }),
      };
    });

    registerRoute(app, api.testChannel, options, async ({ params }) => {
      const row = await deps.inboxes.findChannel(params.id);
      if (!row) throw new AppError('NOT_FOUND', 'no such channel');
      if (!deps.testChannel) return { ok: false, detail: 'connection checks are not available' };
      return deps.testChannel(row.id);
    });

    registerRoute(app, api.channelBalance, options, async ({ params }) => {
      const row = await deps.inboxes.findChannel(params.id);
      if (!row || !deps.channelBalance?.supports(row.id)) {
        throw new AppError('NOT_FOUND', 'no such channel, or its provider has no prepaid balance');
      }
      try {
        const balance = await deps.channelBalance.get(row.id);
        return { credits: balance.credits, warnBelow: balance.warnBelow, low: balance.credits < balance.warnBelow };
      } catch (error) {
        // The provider's refusal or silence, content-free (ChannelApiError reasons never carry secrets).
        const reason = (error as { reason?: unknown }).reason;
        return {
          credits: null,
          warnBelow: 0,
          low: false,
          error: typeof reason === 'string' ? reason : 'the provider did not answer',
        };
      }
    });

    registerRoute(app, api.setChannelEnabled, options, async ({ params, body }, request) => {
      const row = await deps.inboxes.findChannel(params.id);
      if (!row) throw new AppError('NOT_FOUND', 'no such channel');
      const changed = row.enabled !== body.enabled;
      if (changed) await deps.inboxes.setChannelEnabled(row.id, body.enabled, deps.now());
      // Audited like the kill switch (compliance routes), which this toggle also is.
      await deps.audit.append({
        actor: actorOf(request.principal!),
        action: body.enabled ? 'channel.enabled' : 'channel.disabled',
        targetType: 'channel',
        targetId: row.id,
        details: { kind: row.kind, changed, via: 'admin' },
      });
      return { id: row.id, enabled: body.enabled };
    });

    registerRoute(app, api.inboxes, options, async () => ({ items: await deps.settings.list() }));

    registerRoute(app, api.updateInbox, options, async ({ params, body }, request) => {
      const { reset, ...change } = body;
      const input = reset ? 'reset' : change;
      return { item: await deps.settings.update(params.id, input, actorOf(request.principal!)) };
    });
  };
}
