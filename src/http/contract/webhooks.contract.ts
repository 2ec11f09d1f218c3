import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, defineRoute } from './api-route.ts';

/** The events an endpoint can subscribe to (the same list as core/ports/webhook.port.ts, which a test compares). */
export const WebhookEventTypeSchema = z.enum([
  'conversation.opened',
  'conversation.assigned',
  'conversation.closed',
  'conversation.erased',
  'message.received',
  'message.sent',
  'message.failed',
  'consent.given',
  'consent.withdrawn',
]);
export type WebhookEventTypeName = z.infer<typeof WebhookEventTypeSchema>;

/** Art. 6(1) GDPR points a–f, the legal basis recorded before message text may be sent. */
export const LegalBasisSchema = z.enum(['art6-1a', 'art6-1b', 'art6-1c', 'art6-1d', 'art6-1e', 'art6-1f']);

export const WebhookEndpointBody = z
  .object({
    name: z.string().min(1).max(80),
    url: z.string().min(8).max(2000),
    /** Only events of this inbox; null for every inbox. */
    inboxId: z.string().min(1).max(100).nullable().default(null),
    events: z.array(WebhookEventTypeSchema).min(1).max(20),
    /** An on-premise receiver: loopback, private and link-local targets (and plain http) are allowed. */
    allowPrivateTarget: z.boolean().default(false),
    /** Send message text with message events; needs `legalBasis` and `legalBasisNote`. */
    includeContent: z.boolean().default(false),
    legalBasis: LegalBasisSchema.nullable().default(null),
    legalBasisNote: z.string().max(1000).nullable().default(null),
  })
  .strict();

export const WebhookEndpointSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  inboxId: z.string().nullable(),
  events: z.array(WebhookEventTypeSchema),
  state: z.enum(['active', 'paused']),
  /** Why it is paused: by an admin, or after persistent failure (24 h of failed attempts). */
  pausedReason: z.enum(['admin', 'failures']).nullable(),
  pausedAt: z.string().nullable(),
  allowPrivateTarget: z.boolean(),
  includeContent: z.boolean(),
  legalBasis: LegalBasisSchema.nullable(),
  legalBasisNote: z.string().nullable(),
  failingSince: z.string().nullable(),
  consecutiveFailures: z.number(),
  lastSuccessAt: z.string().nullable(),
  /** While the previous secret still signs beside the new one (after a rotation), until when. */
  secretRotatedUntil: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** One event's delivery to an endpoint, as logged: never the payload. */
export const WebhookDeliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  state: z.enum(['pending', 'retrying', 'delivered', 'failed']),
  attempts: z.number(),
  statusCode: z.number().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const WithSecret = z.object({
  endpoint: WebhookEndpointSchema,
  /** The signing secret (`whsec_…`): shown this once, stored sealed. */
  secret: z.string(),
});

const tags = ['webhooks'];
const roles = ADMIN_ROLES;

/** Outgoing webhooks: endpoints, secrets, pause/resume, test send and the delivery log; admin only. */
export const webhooksApi = {
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/webhooks',
    summary: 'Outgoing webhook endpoints (never their secrets) and the event types they can subscribe to',
    tags,
    roles,
    response: {
      description: 'the endpoints',
      schema: z.object({ items: z.array(WebhookEndpointSchema), eventTypes: z.array(WebhookEventTypeSchema) }),
    },
  }),
  create: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/webhooks',
    summary: 'Register an endpoint; answers with its signing secret, shown this once (audited)',
    tags,
    roles,
    body: WebhookEndpointBody,
    response: { status: 201, description: 'created', schema: WithSecret },
  }),
  get: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/webhooks/:id',
    summary: 'One endpoint',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the endpoint', schema: z.object({ endpoint: WebhookEndpointSchema }) },
    errors: { 404: 'no such endpoint' },
  }),
  update: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/webhooks/:id',
    summary: 'Change an endpoint; enabling message text needs the legal basis (audited)',
    tags,
    roles,
    params: AnyIdParams,
    body: WebhookEndpointBody,
    response: { description: 'changed', schema: z.object({ endpoint: WebhookEndpointSchema }) },
    errors: { 404: 'no such endpoint' },
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/api/v1/admin/webhooks/:id',
    summary: 'Delete an endpoint with its delivery log (audited)',
    tags,
    roles,
    params: AnyIdParams,
    response: { status: 204, description: 'deleted' },
    errors: { 404: 'no such endpoint' },
  }),
  rotateSecret: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/webhooks/:id/rotate-secret',
    summary: 'A new signing secret, shown this once; the previous one signs beside it for 24 hours (audited)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the new secret', schema: WithSecret },
    errors: { 404: 'no such endpoint' },
  }),
  pause: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/webhooks/:id/pause',
    summary: 'Pause deliveries to an endpoint (audited)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'paused', schema: z.object({ endpoint: WebhookEndpointSchema }) },
    errors: { 404: 'no such endpoint' },
  }),
  resume: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/webhooks/:id/resume',
    summary: 'Resume a paused endpoint; events raised while it was paused are not replayed (audited)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'active again', schema: z.object({ endpoint: WebhookEndpointSchema }) },
    errors: { 404: 'no such endpoint' },
  }),
  test: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/webhooks/:id/test',
    summary: 'Send a signed webhook.test event now and answer with the outcome (logged and audited)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the attempt', schema: z.object({ delivery: WebhookDeliverySchema }) },
    errors: { 404: 'no such endpoint' },
  }),
  deliveries: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/webhooks/:id/deliveries',
    summary: 'The delivery log of an endpoint, newest first: event type, state, attempts, status, duration',
    tags,
    roles,
    params: AnyIdParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
    response: { description: 'the log', schema: z.object({ items: z.array(WebhookDeliverySchema) }) },
    errors: { 404: 'no such endpoint' },
  }),
} as const;

// ------------------------------------------------------------------------------------------------ payloads

const common = {
  inboxId: z.string().nullable().describe('the inbox it happened in'),
  channelId: z.string().nullable().describe('the channel it happened on'),
  channelKind: z.string().nullable().describe('whatsapp-cloud, dialog360, telegram, messenger, sms, …'),
  conversationId: z.string().nullable(),
  contactId: z.string().optional().describe('the pseudonymous contact (an id, never an address)'),
  label: z.string().nullable().describe('the pseudonym staff see, e.g. "Anfrage 42"'),
};
const messageData = {
  ...common,
  messageId: z.string(),
  kind: z.string().describe('text, image, document, audio, video, buttons, template, …'),
  text: z
    .string()
    .nullable()
    .optional()
    .describe(
      'the message text: only for an endpoint with includeContent and a recorded legal basis; null when gone or none',
    ),
};

/** The `data` object of each event type (content-free unless the endpoint may receive message text). */
export const webhookEventData: Record<WebhookEventTypeName, z.ZodObject> = {
  'conversation.opened': z.object({
    ...common,
    reason: z.enum(['inbound', 'consent']).describe('a message in an open conversation, or the customer agreed'),
    messageCount: z.number().optional().describe('messages held until consent and now visible'),
  }),
  'conversation.assigned': z.object({
    ...common,
    assigneeId: z.string().nullable().describe('the staff member, null when unassigned'),
    previousAssigneeId: z.string().nullable(),
    assignedBy: z.string().nullable(),
  }),
  'conversation.closed': z.object({
    ...common,
    reason: z.enum(['staff', 'inactivity']),
    closedBy: z.string().nullable().optional(),
    eraseAfterCloseDays: z.number(),
  }),
  'conversation.erased': z.object({
    ...common,
    reason: z.string().describe('closed, retention, consent-timeout, consent-declined, consent-withdrawn, dsar, …'),
    messagesErased: z.number().optional(),
  }),
  'message.received': z.object(messageData),
  'message.sent': z.object({ ...messageData, automated: z.boolean() }),
  'message.failed': z.object({
    ...messageData,
    automated: z.boolean().optional(),
    errorCode: z.string().nullable(),
    stage: z.enum(['send', 'provider']).describe('refused when sent, or reported failed by the provider later'),
  }),
  'consent.given': z.object({
    ...common,
    purpose: z.enum(['service', 'marketing']),
    method: z.string().describe('button:…, keyword:…, api-import, …'),
    noticeVersion: z.string().nullable().describe('SHA-256 of the privacy notice text the customer agreed to'),
  }),
  'consent.withdrawn': z.object({
    ...common,
    purpose: z.enum(['service', 'marketing']),
    method: z.string(),
    noticeVersion: z.null(),
  }),
};

/** The body of every delivery (Standard Webhooks: `type`, `timestamp`, `data`). */
export function webhookPayloadSchema(type: WebhookEventTypeName): z.ZodObject {
  return z.object({
    type: z.literal(type),
    timestamp: z.string().describe('when it happened (ISO 8601)'),
    data: webhookEventData[type],
  });
}
