import { z } from 'zod';
import { ADMIN_ROLES, AnyIdParams, LangSchema, OkSchema, RoleSchema, defineRoute } from './api-route.ts';

export const InviteBody = z.object({
  email: z.string().min(3).max(254),
  role: RoleSchema,
  displayName: z.string().min(1).max(80).optional(),
  language: LangSchema.optional(),
  inboxIds: z
    .array(z.string().min(1).max(100))
    .max(500)
    .optional()
    .describe('inboxes the new staff member works in; without: an agent joins every inbox'),
});
/** Strict and not empty: a misspelt field is a 400 naming it, not a 200 that changed nothing. */
export const UserPatchBody = z
  .object({
    role: RoleSchema.optional(),
    displayName: z.string().min(1).max(80).optional(),
    language: LangSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });
export const SecurityBody = z.object({ require2fa: z.boolean() });
/** `confirm: true` is needed when the user has set a password: the link then resets it. */
export const ReinviteBody = z.object({ confirm: z.boolean().optional() }).strict();

/** A staff member as admins see them: no hashes, no secrets. */
export const StaffMemberSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  language: LangSchema,
  totpEnabled: z.boolean(),
  disabled: z.boolean(),
  locked: z.boolean(),
  invitationPending: z.boolean(),
  createdAt: z.number().describe('ms since the epoch'),
  inboxIds: z.array(z.string()).describe('inboxes the member works in (admins see every inbox regardless)'),
});
export const InvitationSchema = z.object({ token: z.string(), url: z.string(), expiresAt: z.string() });

const tags = ['users'];
const roles = ADMIN_ROLES;

/** Staff management for admins: list, invite (one-time link), change role, disable, reset 2FA, end sessions. */
export const usersApi = {
  list: defineRoute({
    method: 'GET',
    url: '/api/v1/users',
    summary: 'Staff accounts',
    tags,
    roles,
    response: { description: 'the staff', schema: z.object({ items: z.array(StaffMemberSchema) }) },
  }),
  invite: defineRoute({
    method: 'POST',
    url: '/api/v1/users',
    summary: 'Invite a staff member: account plus one-time invitation link',
    tags,
    roles,
    body: InviteBody,
    response: {
      status: 201,
      description: 'invited',
      schema: z.object({ user: StaffMemberSchema, invitation: InvitationSchema }),
    },
    errors: { 409: 'e-mail address in use' },
  }),
  patch: defineRoute({
    method: 'PATCH',
    url: '/api/v1/users/:id',
    summary: 'Change role, name, language or disable (keeps one active admin)',
    tags,
    roles,
    params: AnyIdParams,
    body: UserPatchBody,
    response: { description: 'updated', schema: z.object({ user: StaffMemberSchema }) },
    errors: { 409: 'would leave no active admin' },
  }),
  reinvite: defineRoute({
    method: 'POST',
    url: '/api/v1/users/:id/invitation',
    summary: 'A new invitation link (old ones stop working); for an active user a confirmed password reset',
    tags,
    roles,
    params: AnyIdParams,
    body: ReinviteBody,
    response: { description: 'the link', schema: z.object({ invitation: InvitationSchema }) },
    errors: {
      403: 'an active data protection officer cannot be reset by an admin',
      409: 'own account, or a reset of an active user without confirm: true',
    },
  }),
  reset2fa: defineRoute({
    method: 'POST',
    url: '/api/v1/users/:id/reset-2fa',
    summary: 'Reset a user’s second factor and end their sessions',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'done', schema: OkSchema },
  }),
  unlock: defineRoute({
    method: 'POST',
    url: '/api/v1/users/:id/unlock',
    summary: 'Unlock an account locked after failed logins (audited as user.unlocked)',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'the unlocked user', schema: z.object({ user: StaffMemberSchema }) },
    errors: { 404: 'no such user' },
  }),
  logoutEverywhere: defineRoute({
    method: 'POST',
    url: '/api/v1/users/:id/logout-everywhere',
    summary: 'End every session of a user',
    tags,
    roles,
    params: AnyIdParams,
    response: { description: 'sessions ended', schema: z.object({ ended: z.number() }) },
  }),
  security: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/security',
    summary: 'Whether 2FA is required for everyone',
    tags: ['admin'],
    roles,
    response: { description: 'the setting', schema: SecurityBody },
  }),
  setSecurity: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/security',
    summary: 'Require 2FA for everyone (admins always)',
    tags: ['admin'],
    roles,
    body: SecurityBody,
    response: { description: 'the setting', schema: SecurityBody },
  }),
} as const;
