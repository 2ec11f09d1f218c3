import { z } from 'zod';
import type { Role } from '../../core/ports/model.ts';
import { ChannelEnabledBody, InboxSettingsBody } from '../api/admin.routes.ts';
import { AcceptInvitationBody, CodeBody, LoginBody, EnrolStartBody } from '../api/auth.routes.ts';
import { MePatchBody, PasswordChangeBody, TotpDisableBody } from '../api/me.routes.ts';
import type { ApiOperation, OpenApiRegistry } from '../api/openapi.ts';
import { QuickReplyBody } from '../api/quick-replies.routes.ts';
import { AssignBody, LabelsBody, NoteBody } from '../api/team.routes.ts';
import { InviteBody, ReinviteBody, SecurityBody, UserPatchBody } from '../api/users.routes.ts';

const ALL: Role[] = ['admin', 'agent', 'dpo'];
const STAFF: Role[] = ['admin', 'agent'];
const ADMIN: Role[] = ['admin'];
const ok = { 200: { description: 'done' } };

const SessionUser = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'agent', 'dpo']),
  language: z.string(),
  totpEnabled: z.boolean(),
});
const SessionAnswer = z.object({
  step: z.enum(['done', 'totp', 'enrol']).describe('what the browser must do next'),
  csrfToken: z.string().describe('send as X-CSRF-Token on every unsafe request made with the session cookie'),
  user: z.union([SessionUser, z.object({ language: z.string() })]),
});
const QuickReply = z.object({
  id: z.string(),
  shortcut: z.string(),
  title: z.string(),
  text: z.string(),
  updatedAt: z.number(),
});
const Invitation = z.object({ token: z.string(), url: z.string(), expiresAt: z.string() });
const StaffMember = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.string(),
  language: z.string(),
  totpEnabled: z.boolean(),
  disabled: z.boolean(),
  locked: z.boolean(),
  invitationPending: z.boolean(),
});

/**
 * Documents the web inbox's operations (login and sessions, own account, staff, team features, quick replies, admin
 * screens, live events) in the OpenAPI registry. Login and invitation acceptance are the only ones open without a
 * session; the registry still lists 401 for them when the body is wrong, which is harmless.
 */
export function documentWebRoutes(docs: OpenApiRegistry): void {
  const ops: ApiOperation[] = [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      summary: 'Log in with e-mail and password; sets the session cookie (HttpOnly, SameSite=Strict)',
      tags: ['auth'],
      roles: ALL,
      body: LoginBody,
      responses: {
        200: { description: 'password accepted; see step', schema: SessionAnswer },
        429: { description: 'locked after repeated failures, or too many attempts from this address' },
      },
    },
    {
      method: 'get',
      path: '/api/v1/auth/session',
      summary: 'The current session, pending or complete, with its CSRF token',
      tags: ['auth'],
      roles: ALL,
      responses: { 200: { description: 'the session', schema: SessionAnswer } },
    },
    {
      method: 'post',
      path: '/api/v1/auth/totp',
      summary: 'Second step: the TOTP code',
      tags: ['auth'],
      roles: ALL,
      body: CodeBody,
      responses: { 200: { description: 'logged in', schema: SessionAnswer } },
    },
    {
      method: 'post',
      path: '/api/v1/auth/recovery',
      summary: 'Second step with a one-time recovery code',
      tags: ['auth'],
      roles: ALL,
      body: CodeBody,
      responses: { 200: { description: 'logged in; the code is used up', schema: SessionAnswer } },
    },
    {
      method: 'post',
      path: '/api/v1/auth/enrol/start',
      summary:
        'Start TOTP enrolment: secret, otpauth URI and QR code (data URL); replacing a factor needs the password',
      tags: ['auth'],
      roles: ALL,
      body: EnrolStartBody,
      responses: {
        200: {
          description: 'enrolment data',
          schema: z.object({ secret: z.string(), uri: z.string(), qrDataUrl: z.string() }),
        },
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/enrol/confirm',
      summary: 'Confirm enrolment with a code; returns recovery codes once',
      tags: ['auth'],
      roles: ALL,
      body: CodeBody,
      responses: {
        200: { description: 'TOTP on', schema: SessionAnswer.extend({ recoveryCodes: z.array(z.string()) }) },
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      summary: 'End this session',
      tags: ['auth'],
      roles: ALL,
      responses: { 204: { description: 'logged out' } },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout-everywhere',
      summary: 'End every session of the signed-in user',
      tags: ['auth'],
      roles: ALL,
      responses: { 200: { description: 'sessions ended', schema: z.object({ ended: z.number() }) } },
    },
    {
      method: 'get',
      path: '/api/v1/auth/invitations/:token',
      summary: 'Who an invitation is for (open without a session)',
      tags: ['auth'],
      roles: ALL,
      responses: {
        200: { description: 'the invited person', schema: z.object({ email: z.string(), displayName: z.string() }) },
        404: { description: 'unknown, used or expired' },
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/invitations/accept',
      summary: 'Set the password with a one-time invitation (open without a session)',
      tags: ['auth'],
      roles: ALL,
      body: AcceptInvitationBody,
      responses: { 200: { description: 'password set' }, 404: { description: 'unknown, used or expired' } },
    },
    {
      method: 'get',
      path: '/api/v1/me',
      summary: 'The signed-in staff member',
      tags: ['account'],
      roles: ALL,
      responses: {
        200: {
          description: 'the account',
          schema: z.object({ user: SessionUser, secondFactorRequired: z.boolean(), recoveryCodesLeft: z.number() }),
        },
      },
    },
    {
      method: 'patch',
      path: '/api/v1/me',
      summary: 'Change own name or language',
      tags: ['account'],
      roles: ALL,
      body: MePatchBody,
      responses: { 200: { description: 'the account', schema: z.object({ user: SessionUser }) } },
    },
    {
      method: 'post',
      path: '/api/v1/me/password',
      summary: 'Change own password (ends other sessions)',
      tags: ['account'],
      roles: ALL,
      body: PasswordChangeBody,
      responses: ok,
    },
    {
      method: 'post',
      path: '/api/v1/me/totp/disable',
      summary: 'Turn TOTP off where it is not required',
      tags: ['account'],
      roles: ALL,
      body: TotpDisableBody,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/users',
      summary: 'Staff accounts',
      tags: ['users'],
      roles: ADMIN,
      responses: { 200: { description: 'the staff', schema: z.object({ items: z.array(StaffMember) }) } },
    },
    {
      method: 'post',
      path: '/api/v1/users',
      summary: 'Invite a staff member: account plus one-time invitation link',
      tags: ['users'],
      roles: ADMIN,
      body: InviteBody,
      responses: {
        201: { description: 'invited', schema: z.object({ user: StaffMember, invitation: Invitation }) },
        409: { description: 'e-mail address in use' },
      },
    },
    {
      method: 'patch',
      path: '/api/v1/users/:id',
      summary: 'Change role, name, language or disable (keeps one active admin)',
      tags: ['users'],
      roles: ADMIN,
      body: UserPatchBody,
      responses: {
        200: { description: 'updated', schema: z.object({ user: StaffMember }) },
        409: { description: 'would leave no active admin' },
      },
    },
    {
      method: 'post',
      path: '/api/v1/users/:id/invitation',
      summary: 'A new invitation link (old ones stop working); for an active user a confirmed password reset',
      tags: ['users'],
      roles: ADMIN,
      body: ReinviteBody,
      responses: {
        200: { description: 'the link', schema: z.object({ invitation: Invitation }) },
        403: { description: 'an active data protection officer cannot be reset by an admin' },
        409: { description: 'own account, or a reset of an active user without confirm: true' },
      },
    },
    {
      method: 'post',
      path: '/api/v1/users/:id/reset-2fa',
      summary: 'Reset a user’s second factor and end their sessions',
      tags: ['users'],
      roles: ADMIN,
      responses: ok,
    },
    {
      method: 'post',
      path: '/api/v1/users/:id/logout-everywhere',
      summary: 'End every session of a user',
      tags: ['users'],
      roles: ADMIN,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/admin/security',
      summary: 'Whether 2FA is required for everyone',
      tags: ['admin'],
      roles: ADMIN,
      responses: { 200: { description: 'the setting', schema: SecurityBody } },
    },
    {
      method: 'put',
      path: '/api/v1/admin/security',
      summary: 'Require 2FA for everyone (admins always)',
      tags: ['admin'],
      roles: ADMIN,
      body: SecurityBody,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/admin/channels',
      summary: 'Channels with webhook URL and a verify-token hint (never secrets)',
      tags: ['admin'],
      roles: ADMIN,
      responses: ok,
    },
    {
      method: 'post',
      path: '/api/v1/admin/channels/:id/test',
      summary: 'Test the connection with the provider',
      tags: ['admin'],
      roles: ADMIN,
      responses: {
        200: {
          description: 'verdict',
          schema: z.object({
            ok: z.boolean(),
            detail: z.string(),
            reason: z.string().optional(),
            name: z.string().optional(),
          }),
        },
      },
    },
    {
      method: 'put',
      path: '/api/v1/admin/channels/:id/enabled',
      summary: 'Switch a channel on or off',
      tags: ['admin'],
      roles: ADMIN,
      body: ChannelEnabledBody,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/admin/inboxes',
      summary: 'Inbox privacy settings with the configured defaults',
      tags: ['admin'],
      roles: ADMIN,
      responses: ok,
    },
    {
      method: 'put',
      path: '/api/v1/admin/inboxes/:id',
      summary: 'Change notice texts, retention, media policy and automated messages (or reset)',
      tags: ['admin'],
      roles: ADMIN,
      body: InboxSettingsBody,
      responses: ok,
    },
    {
      method: 'post',
      path: '/api/v1/conversations/:id/assign',
      summary: 'Assign to an admin or agent, or unassign (null)',
      tags: ['team'],
      roles: STAFF,
      body: AssignBody,
      responses: ok,
    },
    {
      method: 'post',
      path: '/api/v1/conversations/:id/labels',
      summary: 'Replace the labels',
      tags: ['team'],
      roles: STAFF,
      body: LabelsBody,
      responses: { 200: { description: 'the labels', schema: z.object({ labels: z.array(z.string()) }) } },
    },
    {
      method: 'post',
      path: '/api/v1/conversations/:id/notes',
      summary: 'Add an internal note (sealed, never sent)',
      tags: ['team'],
      roles: STAFF,
      body: NoteBody,
      responses: {
        201: {
          description: 'the note',
          schema: z.object({ note: z.object({ id: z.string(), createdAt: z.string() }) }),
        },
      },
    },
    {
      method: 'post',
      path: '/api/v1/conversations/:id/read',
      summary: 'Mark as read',
      tags: ['team'],
      roles: STAFF,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/team/members',
      summary: 'Active admins and agents (assignees)',
      tags: ['team'],
      roles: STAFF,
      responses: ok,
    },
    {
      method: 'get',
      path: '/api/v1/labels',
      summary: 'Labels in use',
      tags: ['team'],
      roles: STAFF,
      responses: { 200: { description: 'labels', schema: z.object({ items: z.array(z.string()) }) } },
    },
    {
      method: 'get',
      path: '/api/v1/quick-replies',
      summary: 'Quick replies (Textbausteine)',
      tags: ['quick-replies'],
      roles: STAFF,
      responses: { 200: { description: 'the quick replies', schema: z.object({ items: z.array(QuickReply) }) } },
    },
    {
      method: 'post',
      path: '/api/v1/quick-replies',
      summary: 'Add a quick reply',
      tags: ['quick-replies'],
      roles: ADMIN,
      body: QuickReplyBody,
      responses: {
        201: { description: 'added', schema: z.object({ item: QuickReply }) },
        409: { description: 'shortcut in use' },
      },
    },
    {
      method: 'put',
      path: '/api/v1/quick-replies/:id',
      summary: 'Change a quick reply',
      tags: ['quick-replies'],
      roles: ADMIN,
      body: QuickReplyBody,
      responses: { 200: { description: 'changed', schema: z.object({ item: QuickReply }) } },
    },
    {
      method: 'delete',
      path: '/api/v1/quick-replies/:id',
      summary: 'Delete a quick reply',
      tags: ['quick-replies'],
      roles: ADMIN,
      responses: { 204: { description: 'deleted' } },
    },
    {
      method: 'get',
      path: '/api/v1/events',
      summary: 'Live inbox events (server-sent events, content-free: ids and states)',
      tags: ['events'],
      roles: STAFF,
      responses: { 200: { description: 'event stream', contentType: 'text/event-stream' } },
    },
  ];
  for (const op of ops) docs.add(op);
}
