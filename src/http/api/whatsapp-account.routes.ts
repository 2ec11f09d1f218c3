import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  BusinessAccountService,
  HealthReason,
  TemplateView,
} from '../../core/business-account/business-account.service.ts';
import type { BusinessProfile, SampleFile } from '../../core/channel/business-account-api.port.ts';
import type { MediaSanitizer } from '../../core/privacy/media/media-sanitizer.ts';
import type { ChannelHealth } from '../../core/ports/business-account.port.ts';
import { AppError } from '../../shared/app-error.ts';
import type { RouteModule } from '../app.ts';
import type { Authenticator } from '../auth/principal.ts';
import { actorOf } from '../auth/session.ts';
import { whatsappAccountApi as api } from '../contract/whatsapp-account.contract.ts';
import { parseNamed, registerRoute } from './contract-route.ts';
import type { OpenApiRegistry } from './openapi.ts';

/** WhatsApp's limit for a profile photo and a template header sample (images 5 MB). */
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function templateOut(t: TemplateView) {
  return {
    name: t.name,
    language: t.language,
    category: t.category,
    status: t.status,
    reason: t.reason ?? null,
    providerId: t.providerId ?? null,
    header: t.header ?? null,
    body: t.body,
    bodyExamples: t.bodyExamples ?? [],
    footer: t.footer ?? null,
    buttons: t.buttons,
    updatedAt: iso(t.updatedAt),
  };
}

function healthOut(health: ChannelHealth | undefined, reasons: HealthReason[]) {
  return {
    needsAttention: reasons.length > 0,
    reasons,
    qualityRating: health?.qualityRating ?? null,
    qualityEvent: health?.qualityEvent ?? null,
    messagingLimit: health?.messagingLimit ?? null,
    capability: health?.capability ?? null,
    accountEvent: health?.accountEvent ?? null,
    violationType: health?.violationType ?? null,
    banState: health?.banState ?? null,
    restrictions: (health?.restrictions ?? []).map((r) => ({ type: r.type, expiresAt: r.expiresAt ?? null })),
    updatedAt: iso(health?.updatedAt),
  };
}

const profileOut = (p: BusinessProfile) => ({ ...p, profilePictureUrl: p.profilePictureUrl ?? null });

/** Documents the routes in the OpenAPI document. */
export function documentWhatsAppAccountRoutes(docs: OpenApiRegistry): void {
  docs.addAll(api);
}

/**
 * The admin routes of a WhatsApp channel's account: templates (list, sync from Meta, create, delete), account
 * health and the admins' banner, the phone number's info, the business profile (fields, photo, privacy link).
 * Thin: validate with the contract, call {@link BusinessAccountService}. Admins only.
 */
export function whatsappAccountRoutes(deps: {
  service: BusinessAccountService;
  sanitizer: Pick<MediaSanitizer, 'sanitize'>;
  authenticate: Authenticator;
  docs?: OpenApiRegistry;
}): RouteModule {
  if (deps.docs) documentWhatsAppAccountRoutes(deps.docs);
  const { service } = deps;
  const actor = (request: FastifyRequest) => {
    if (!request.principal) throw new AppError('UNAUTHENTICATED', 'log in or send a valid API token');
    return actorOf(request.principal);
  };
  /** The image cleaned of metadata (JPEG or PNG only, as WhatsApp takes). */
  const cleanImage = async (data: Buffer, fileName: string): Promise<SampleFile> => {
    const result = await deps.sanitizer.sanitize(data, {
      policy: 'strip',
      maxBytes: MAX_PHOTO_BYTES,
      stillImages: true,
    });
    if (!result.ok || result.kind !== 'image') {
      throw new AppError('UNSUPPORTED_MEDIA', 'the photo must be a JPEG or PNG image of at most 5 MB', {
        reason: result.ok ? 'not-an-image' : result.reason,
      });
    }
    const ext = result.mimeType === 'image/png' ? 'png' : 'jpg';
    return { data: result.data, mimeType: result.mimeType, fileName: `${fileName}.${ext}` };
  };

  return (app: FastifyInstance) => {
    const options = { authenticate: deps.authenticate, parse: parseNamed };

    registerRoute(app, api.templates, options, async ({ params }) => {
      service.assertManaged(params.id);
      return {
        items: (await service.listTemplates(params.id)).map(templateOut),
        businessAccount: service.hasBusinessAccount(params.id),
      };
    });

    registerRoute(app, api.syncTemplates, options, async ({ params }, request) => ({
      items: (await service.syncTemplates(params.id, actor(request))).map(templateOut),
    }));

    // The sample file of a media header comes base64 in the JSON body: within the general body limit.
    registerRoute(app, api.createTemplate, options, async ({ params, body }, request) => {
      const { headerSample, ...draft } = body;
      let sample: SampleFile | undefined;
      if (headerSample) {
        const data = Buffer.from(headerSample.data, 'base64');
        if (draft.header?.format === 'IMAGE') {
          sample = await cleanImage(data, 'sample');
        } else {
          const result = await deps.sanitizer.sanitize(data, { policy: 'strip', maxBytes: 16 * 1024 * 1024 });
          if (!result.ok) throw new AppError('UNSUPPORTED_MEDIA', 'the sample file is not allowed', {});
          sample = { data: result.data, mimeType: result.mimeType, fileName: headerSample.fileName.slice(0, 100) };
        }
      }
      const record = await service.createTemplate(
        params.id,
        {
          name: draft.name,
          language: draft.language,
          category: draft.category,
          body: draft.body,
          bodyExamples: draft.bodyExamples,
          buttons: draft.buttons,
          ...(draft.header ? { header: draft.header } : {}),
          ...(draft.footer ? { footer: draft.footer } : {}),
        },
        actor(request),
        sample,
      );
      return { item: templateOut(record) };
    });

    registerRoute(app, api.deleteTemplate, options, async ({ params }, request) => {
      await service.deleteTemplate(params.id, params.name, actor(request));
      return { ok: true as const };
    });

    registerRoute(app, api.health, options, async ({ params }) => {
      service.assertManaged(params.id);
      const { health, reasons } = await service.health(params.id);
      return healthOut(health, reasons);
    });

    registerRoute(app, api.alerts, options, async () => ({ items: await service.alerts() }));

    registerRoute(app, api.phoneNumber, options, async ({ params }) => {
      const info = await service.phoneNumber(params.id);
      return {
        verifiedName: info.verifiedName ?? null,
        displayPhoneNumber: info.displayPhoneNumber ?? null,
        qualityRating: info.qualityRating ?? null,
        messagingLimit: info.messagingLimit ?? null,
        nameStatus: info.nameStatus ?? null,
        messagingStatus: info.messagingStatus ?? null,
      };
    });

    registerRoute(app, api.profile, options, async ({ params }) => ({
      profile: profileOut(await service.profile(params.id)),
      privacyNoticeUrl: service.privacyNoticeUrl ?? null,
    }));

    registerRoute(app, api.updateProfile, options, async ({ params, body }, request) => {
      const patch = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      if (Object.keys(patch).length === 0) throw new AppError('VALIDATION', 'nothing to change', {});
      return { profile: profileOut(await service.updateProfile(params.id, patch, actor(request))) };
    });

    registerRoute(app, api.privacyLink, options, async ({ params, body }, request) => {
      const { profile, placed } = await service.addPrivacyLink(params.id, actor(request), body.url);
      return { profile: profileOut(profile), placed };
    });

    // The photo: the raw bytes are the body, whatever the Content-Type (the sanitizer reads the type from the bytes).
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_PHOTO_BYTES }, (_request, body, done) =>
        done(null, body),
      );
      registerRoute(
        scope,
        api.profilePhoto,
        { ...options, fastify: { bodyLimit: MAX_PHOTO_BYTES } },
        async ({ params }, request) => {
          const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          service.assertManaged(params.id);
          const photo = await cleanImage(data, 'profile');
          return { profile: profileOut(await service.updateProfile(params.id, {}, actor(request), photo)) };
        },
      );
    });
  };
}
