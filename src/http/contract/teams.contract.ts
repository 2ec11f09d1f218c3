import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, RoleSchema, STAFF_ROLES, defineRoute } from './api-route.ts';

export const AvailabilitySchema = z.enum(['online', 'away', 'offline']);
export const InboxIdsBody = z.object({ inboxIds: z.array(z.string().min(1).max(100)).max(500) }).strict();
export const AssignmentSettingsSchema = z
  .object({
    auto: z.boolean().describe('give new conversations to the online members in turn (round robin)'),
    maxOpenPerAgent: z.number().int().min(0).max(1000).describe('open conversations per member at most; 0 = no limit'),
    offline: z.enum(['keep', 'unassign']).describe("an offline member's open conversations: kept, or unassigned"),
    offlineAfterMinutes: z.number().int().min(1).max(10_080).describe('with offline: unassign, after this long'),
  })
  .strict();
export const PresenceSettingsSchema = z
  .object({ awayAfterMinutes: z.number().int().min(1).max(1440).describe('idle time before "away"') })
  .strict();
export const PresenceBody = z
  .object({
    status: AvailabilitySchema.optional().describe('the status the user chooses'),
    active: z.boolean().optional().describe('keyboard, pointer or touch input since the last heartbeat'),
  })
  .strict();
export const PresenceSchema = z.object({
  status: AvailabilitySchema.describe('chosen'),
  availability: AvailabilitySchema.describe('effective: away after idle time, offline without heartbeat'),
});
export const MentionSchema = z.object({
  id: z.string(),
  inboxId: z.string(),
  conversationId: z.string(),
  label: z.string().describe('the conversation\'s pseudonym, e.g. "Anfrage 42"'),
  messageId: z.string(),
  author: z.object({ id: z.string(), name: z.string() }).nullable(),
  createdAt: z.string(),
  read: z.boolean(),
});
export const MentionsReadBody = z
  .object({ ids: z.array(z.string().min(1).max(100)).max(500).optional().describe('without: all') })
  .strict();

export const ApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: RoleSchema,
  inboxIds: z.array(z.string()).describe('inboxes an agent token is limited to; empty: every inbox'),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revoked: z.boolean(),
});
export const TokenCreateBody = z
  .object({
    name: z.string().min(1).max(80),
    role: RoleSchema,
    inboxIds: z.array(z.string().min(1).max(100)).max(500).default([]).describe('agent tokens only'),
  })
  .strict();

const tags = ['teams'];

/**
 * Teams: the inboxes each staff member works in (admins set them; an agent sees only those), availability,
 * per-inbox assignment rules, and @mentions in internal notes.
 */
export const teamsApi = {
  userInboxes: defineRoute({
    method: 'PUT',
    url: '/api/v1/users/:id/inboxes',
    summary: "Replace a staff member's inboxes (an agent sees, counts and hears only these; audited as user.inboxes)",
    tags,
    roles: ADMIN_ROLES,
    params: AnyIdParams,
    body: InboxIdsBody,
    response: { description: 'the inboxes now', schema: InboxIdsBody },
    errors: { 404: 'no such user' },
  }),
  assignment: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/inboxes/:id/assignment',
    summary: "An inbox's assignment rules",
    tags,
    roles: ADMIN_ROLES,
    params: AnyIdParams,
    response: { description: 'the rules', schema: AssignmentSettingsSchema },
    errors: { 404: 'no such inbox' },
  }),
  setAssignment: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/inboxes/:id/assignment',
    summary: "Change an inbox's assignment rules (round robin, maximum per member, offline rule)",
    tags,
    roles: ADMIN_ROLES,
    params: AnyIdParams,
    body: AssignmentSettingsSchema,
    response: { description: 'the rules', schema: AssignmentSettingsSchema },
    errors: { 404: 'no such inbox' },
  }),
  presenceSettings: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/presence',
    summary: 'Idle time after which an online agent counts as away',
    tags,
    roles: ADMIN_ROLES,
    response: { description: 'the setting', schema: PresenceSettingsSchema },
  }),
  setPresenceSettings: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/presence',
    summary: 'Change the idle time after which an online agent counts as away',
    tags,
    roles: ADMIN_ROLES,
    body: PresenceSettingsSchema,
    response: { description: 'the setting', schema: PresenceSettingsSchema },
  }),
  presence: defineRoute({
    method: 'GET',
    url: '/api/v1/me/presence',
    summary: 'Own availability',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    response: { description: 'chosen and effective availability', schema: PresenceSchema },
  }),
  reportPresence: defineRoute({
    method: 'POST',
    url: '/api/v1/me/presence',
    summary: 'Heartbeat of the inbox tab (once a minute), optionally choosing online, away or offline',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    body: PresenceBody,
    response: { description: 'chosen and effective availability', schema: PresenceSchema },
  }),
  tokens: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/tokens',
    summary: 'API tokens (never the token itself), with their inbox limits',
    tags,
    roles: ADMIN_ROLES,
    access: 'session',
    response: { description: 'the tokens', schema: z.object({ items: z.array(ApiTokenSchema) }) },
  }),
  createToken: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/tokens',
    summary: 'Create an API token, optionally an agent token limited to inboxes; the token is shown this once',
    tags,
    roles: ADMIN_ROLES,
    access: 'session',
    body: TokenCreateBody,
    response: {
      status: 201,
      description: 'created',
      schema: z.object({ item: ApiTokenSchema, token: z.string().describe('shown only this once') }),
    },
  }),
  revokeToken: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/tokens/:id/revoke',
    summary: 'Revoke an API token (it stops working at once)',
    tags,
    roles: ADMIN_ROLES,
    access: 'session',
    params: AnyIdParams,
    response: { description: 'revoked', schema: z.object({ item: ApiTokenSchema }) },
    errors: { 404: 'no such token' },
  }),
  mentions: defineRoute({
    method: 'GET',
    url: '/api/v1/me/mentions',
    summary: 'Notes that named me with @, newest first (only inboxes I may see)',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    response: {
      description: 'the mentions',
      schema: z.object({ items: z.array(MentionSchema), unread: z.number().int() }),
    },
  }),
  readMentions: defineRoute({
    method: 'POST',
    url: '/api/v1/me/mentions/read',
    summary: 'Mark mentions read (all, or the ids given)',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    body: MentionsReadBody,
    response: { description: 'how many changed', schema: z.object({ marked: z.number().int() }) },
  }),
} as const;
