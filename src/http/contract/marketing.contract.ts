import { z } from 'zod';
import { ADMIN_ROLES, defineRoute } from './api-route.ts';

export const ConsentImportBody = z
  .object({
    channelId: z.string().min(1),
    address: z.string().min(3).max(64),
    evidence: z.string().min(3).max(2000),
    collectedAt: z.iso.datetime({ offset: true }),
  })
  .strict();

export const BroadcastBody = z
  .object({
    channelId: z.string().min(1),
    template: z
      .object({
        name: z.string().min(1).max(512),
        language: z.string().min(2).max(10),
        parameters: z.array(z.string().max(1024)).max(20).default([]),
      })
      .strict(),
  })
  .strict();

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** A broadcast and its counts; never an address. */
export const CampaignSchema = z.object({
  id: z.string(),
  channelId: z.string(),
  template: z.object({ name: z.string(), language: z.string() }),
  createdAt: z.string(),
  createdBy: z.string(),
  recipients: z.number(),
  skipped: z.number(),
  queued: z.number(),
  sent: z.number(),
  delivered: z.number(),
  read: z.number(),
  failed: z.number(),
  erased: z.number(),
  optedOut: z.number(),
});

const tags = ['marketing'];
const roles = ADMIN_ROLES;

/** Marketing consent import, broadcasts and their reports; admin only. */
export const marketingApi = {
  importConsent: defineRoute({
    method: 'POST',
    url: '/api/v1/marketing/consents',
    summary: 'Import a marketing consent collected elsewhere, with its evidence (sealed; audited as consent.grant)',
    tags,
    roles,
    body: ConsentImportBody,
    response: {
      status: 201,
      description: 'recorded',
      schema: z.object({ contactId: z.string(), created: z.boolean() }),
    },
    errors: { 404: 'no such channel' },
  }),
  broadcast: defineRoute({
    method: 'POST',
    url: '/api/v1/marketing/broadcasts',
    summary:
      'Queue an approved MARKETING template to every contact of the channel whose marketing consent is valid now (audited)',
    tags,
    roles,
    body: BroadcastBody,
    response: { status: 202, description: 'queued; the report so far', schema: z.object({ campaign: CampaignSchema }) },
  }),
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/marketing/broadcasts',
    summary: 'Broadcasts, newest first, with their counts',
    tags,
    roles,
    response: { description: 'the list', schema: z.object({ items: z.array(CampaignSchema) }) },
  }),
  report: defineRoute({
    method: 'GET',
    url: '/api/v1/marketing/broadcasts/:id',
    summary: 'Report of one broadcast: recipients, skipped, sent, delivered, read, failed, opted out (no addresses)',
    tags,
    roles,
    params: IdParams,
    response: { description: 'the report', schema: z.object({ campaign: CampaignSchema }) },
    errors: { 404: 'no such broadcast' },
  }),
} as const;
