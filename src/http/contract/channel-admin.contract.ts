import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, defineRoute } from './api-route.ts';

const FieldValue = z.union([z.string().max(2048), z.number(), z.boolean()]);
const Settings = z.record(z.string().max(64), FieldValue);
const Secrets = z.record(z.string().max(64), z.string().max(4096));
const ChannelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63 characters');

/** One field of a kind's channel form, derived from its configuration schema. */
export const ChannelFormFieldSchema = z.object({
  name: z.string(),
  type: z.enum(['text', 'secret', 'url', 'number', 'boolean', 'select']),
  required: z.boolean(),
  default: FieldValue.optional(),
  options: z.array(z.string()).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  example: z.string().optional(),
});
export const ChannelKindFormSchema = z.object({
  kind: z.string(),
  displayName: z.string(),
  setupHint: z.string().describe("where the webhook URL goes in the provider's console (English)"),
  verifySecretField: z.string().nullable().describe('the secret entered with the URL at the provider'),
  registersWebhook: z.boolean().describe('sparsam registers the webhook with the provider itself'),
  fields: z.array(ChannelFormFieldSchema),
});
export const CreateChannelBody = z
  .object({
    id: ChannelId,
    kind: z.string().max(40),
    inboxId: z.string().max(63),
    settings: Settings.default({}),
    secrets: Secrets.default({}),
  })
  .strict();
export const UpdateChannelBody = z
  .object({
    inboxId: z.string().max(63).optional(),
    settings: Settings.optional(),
    secrets: Secrets.optional().describe('only the secrets to replace; the others keep their values'),
  })
  .strict();
export const RemoveChannelBody = z.object({ confirm: z.string().max(63).describe('the channel id, typed') }).strict();
export const ChannelDetailSchema = z.object({
  id: z.string(),
  kind: z.string(),
  inboxId: z.string(),
  enabled: z.boolean(),
  source: z.enum(['config', 'ui']),
  settings: z.record(z.string(), z.unknown()),
  secretsSet: z.array(z.string()).describe('names of the secrets that are set (their values are never shown)'),
});

const tags = ['admin'];
const roles = ADMIN_ROLES;

/** Channels created, changed and removed in the admin screen, without a restart. */
export const channelAdminApi = {
  kinds: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channel-kinds',
    summary: "Each channel kind's form: its settings and secrets, required or not, defaults, the set-up hint",
    tags,
    roles,
    response: { description: 'the kinds', schema: z.object({ items: z.array(ChannelKindFormSchema) }) },
  }),
  create: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels',
    summary: 'Create a channel (secrets stored sealed; a verify token left empty is generated and returned once)',
    tags,
    roles,
    body: CreateChannelBody,
    response: {
      status: 201,
      description: 'the new channel and the secrets sparsam generated, shown this once',
      schema: z.object({ id: z.string(), webhookUrl: z.string(), generated: z.record(z.string(), z.string()) }),
    },
    errors: { 400: 'a setting is missing or wrong', 409: 'the id is taken' },
  }),
  detail: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/channels/:id',
    summary: "A channel's settings for the edit form (which secrets are set, never their values)",
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the channel', schema: ChannelDetailSchema },
    errors: { 404: 'no such channel' },
  }),
  update: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/channels/:id',
    summary: 'Change a channel created in the admin screen (declared ones are read-only)',
    tags,
    roles,
    params: AnyIdParams,
    body: UpdateChannelBody,
    response: { description: 'the channel', schema: ChannelDetailSchema },
    errors: { 400: 'a setting is wrong', 404: 'no such channel', 409: 'declared in the configuration file' },
  }),
  remove: defineRoute({
    method: 'DELETE',
    url: '/api/v1/admin/channels/:id',
    summary: 'Remove a channel created in the admin screen; its contacts and conversations are erased',
    tags,
    roles,
    params: AnyIdParams,
    body: RemoveChannelBody,
    response: {
      description: 'what was erased',
      schema: z.object({ id: z.string(), contactsErased: z.number(), conversationsErased: z.number() }),
    },
    errors: { 400: 'the typed id does not match', 404: 'no such channel', 409: 'declared in the configuration file' },
  }),
  registerWebhook: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/channels/:id/register-webhook',
    summary: "Register the channel's webhook URL with providers where sparsam sets it itself (Telegram's setWebhook)",
    tags,
    roles,
    params: AnyIdParams,
    response: {
      description: 'the URL the provider now calls',
      schema: z.object({ url: z.string() }),
    },
    errors: {
      400: 'this kind registers no webhook',
      404: 'no such channel',
      502: 'the provider refused or did not answer',
    },
  }),
};
