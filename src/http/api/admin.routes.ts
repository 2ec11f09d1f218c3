import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { channelModule } from '../../channels/registry.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import { requireRole } from '../auth/principal.ts';
import { actorOf } from '../auth/session.ts';
import { parseWith, type WebDeps } from '../auth/web-deps.ts';

const retention = z
  .object({
    consentTimeoutHours: z.number(),
    autoCloseAfterDays: z.number(),
    eraseAfterCloseDays: z.number(),
    auditRetentionDays: z.number(),
  })
  .partial()
  .strict();
const texts = z.object({ de: z.string().max(4096).optional(), en: z.string().max(4096).optional() }).strict();
const dayHours = z.array(z.string().max(40)).max(24);
/** Greeting and away message; every part optional (a weekday given replaces that day's hours). */
const automation = z
  .object({
    greeting: z.object({ enabled: z.boolean().optional(), text: texts.optional() }).strict().optional(),
    away: z
      .object({
        enabled: z.boolean().optional(),
        text: texts.optional(),
        timeZone: z.string().max(100).optional(),
        hours: z
          .object({
            mon: dayHours.optional(),
            tue: dayHours.optional(),
            wed: dayHours.optional(),
            thu: dayHours.optional(),
            fri: dayHours.optional(),
            sat: dayHours.optional(),
            sun: dayHours.optional(),
          })
          .strict()
          .optional(),
        holidays: z.array(z.string().max(40)).max(1000).optional(),
        cooldownHours: z.number().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
/**
 * A change of an inbox's settings, or `{ reset: true }` alone to return to the configuration file's values. Strict: a
 * misspelt field or `{reset: "yes"}` is a 400 naming it, never an empty change that is answered 200, written and
 * audited as a settings change.
 */
export const InboxSettingsBody = z
  .object({
    reset: z.literal(true).optional(),
    retention: retention.optional(),
    media: z.enum(['strip', 'reject', 'allow']).optional(),
    notice: z
      .object({ de: z.string().max(4096).nullable().optional(), en: z.string().max(4096).nullable().optional() })
      .strict()
      .optional(),
    automation: automation.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' })
  .refine((body) => body.reset === undefined || Object.keys(body).length === 1, {
    message: 'reset cannot be combined with changes',
  });
export const ChannelEnabledBody = z.object({ enabled: z.boolean() }).strict();

/** A hint that lets an admin recognise a secret without showing it: its length and last two characters. */
function secretHint(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return value.length >= 16 ? `…${value.slice(-2)} (${value.length})` : `(${value.length})`;
}

/** Admin screens: channels (webhook URL, verify-token hint, test connection, on/off) and inbox privacy settings. */
export function adminRoutes(deps: WebDeps): RouteModule {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireRole(deps.authenticate, 'admin'));
    const base = deps.config.baseUrl.replace(/\/$/, '');

    app.get('/api/v1/admin/channels', async () => {
      const rows = await deps.inboxes.listChannels();
      return {
        items: rows.map((row) => {
          const configured = deps.config.channels.find((c) => c.id === row.id) as Record<string, unknown> | undefined;
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
          };
        }),
      };
    });

    app.post<{ Params: { id: string } }>('/api/v1/admin/channels/:id/test', async (request) => {
      const row = await deps.inboxes.findChannel(request.params.id);
      if (!row) throw new AppError('NOT_FOUND', 'no such channel');
      if (!deps.testChannel) return { ok: false, detail: 'connection checks are not available' };
      return deps.testChannel(row.id);
    });

    app.put<{ Params: { id: string } }>('/api/v1/admin/channels/:id/enabled', async (request) => {
      const body = parseWith(ChannelEnabledBody, request.body);
      const row = await deps.inboxes.findChannel(request.params.id);
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

    app.get('/api/v1/admin/inboxes', async () => ({ items: await deps.settings.list() }));

    app.put<{ Params: { id: string } }>('/api/v1/admin/inboxes/:id', async (request) => {
      const body = parseWith(InboxSettingsBody, request.body);
      const { reset, ...change } = body;
      const input = reset ? 'reset' : change;
      return { item: await deps.settings.update(request.params.id, input, actorOf(request.principal!)) };
    });
  };
}
