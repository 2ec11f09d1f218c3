import { z } from 'zod';
import { ALL_ROLES, LangSchema, OkSchema, RoleSchema, defineRoute } from './api-route.ts';

export const LoginBody = z.object({ email: z.string().min(3).max(254), password: z.string().min(1).max(1024) });
export const CodeBody = z.object({ code: z.string().min(6).max(32) });
/** The invitation token travels in request bodies only, never in a URL (URLs end up in proxy access logs). */
export const InvitationLookupBody = z.object({ token: z.string().min(10).max(200) }).strict();
export const AcceptInvitationBody = z.object({
  token: z.string().min(10).max(200),
  password: z.string().min(1).max(1024),
});
export const MePatchBody = z.object({
  displayName: z.string().min(1).max(80).optional(),
  language: LangSchema.optional(),
});
export const PasswordChangeBody = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(1).max(1024),
});
export const TotpDisableBody = z.object({ password: z.string().min(1).max(1024) });

/** The signed-in user as the browser sees it. */
export const SessionUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  language: LangSchema,
  totpEnabled: z.boolean(),
  passwordResetAt: z
    .string()
    .nullable()
    .describe('when an admin reset this password with a new invitation link; null once the user dismissed the notice'),
});
/** A session, pending (`totp`, `enrol`: only the language is known to the browser) or complete. */
export const SessionSchema = z.object({
  step: z.enum(['done', 'totp', 'enrol']).describe('what the browser must do next'),
  csrfToken: z.string().describe('send as X-CSRF-Token on every unsafe request made with the session cookie'),
  user: z.union([SessionUserSchema, z.object({ language: LangSchema })]),
});
const SessionDone = SessionSchema.extend({ step: z.literal('done'), user: SessionUserSchema });

/** The password is needed only to replace a working second factor. */
export const EnrolStartBody = z.object({ password: z.string().min(1).max(1024).optional() });

const tags = ['auth'];
const roles = ALL_ROLES;

/** Login and sessions under /api/v1/auth; login and invitations are open without a session (rate limited). */
export const authApi = {
  login: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/login',
    summary: 'Log in with e-mail and password; sets the session cookie (HttpOnly, SameSite=Strict)',
    tags,
    roles,
    access: 'public',
    body: LoginBody,
    response: { description: 'password accepted; see step', schema: SessionSchema },
    errors: { 429: 'locked after repeated failures, or too many attempts from this address' },
  }),
  session: defineRoute({
    method: 'GET',
    url: '/api/v1/auth/session',
    summary: 'The current session, pending or complete, with its CSRF token',
    tags,
    roles,
    access: 'step',
    response: { description: 'the session', schema: SessionSchema },
  }),
  totp: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/totp',
    summary: 'Second step: the TOTP code',
    tags,
    roles,
    access: 'step',
    body: CodeBody,
    response: { description: 'logged in', schema: SessionDone },
  }),
  recovery: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/recovery',
    summary: 'Second step with a one-time recovery code',
    tags,
    roles,
    access: 'step',
    body: CodeBody,
    response: {
      description: 'logged in; the code is used up',
      schema: SessionDone.extend({ remainingRecoveryCodes: z.number() }),
    },
  }),
  enrolStart: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/enrol/start',
    summary: 'Start TOTP enrolment: secret, otpauth URI and QR code (data URL); replacing a factor needs the password',
    tags,
    roles,
    access: 'step',
    body: EnrolStartBody,
    response: {
      description: 'enrolment data',
      schema: z.object({ secret: z.string(), uri: z.string(), qrDataUrl: z.string() }),
    },
  }),
  enrolConfirm: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/enrol/confirm',
    summary: 'Confirm enrolment with a code; returns recovery codes once',
    tags,
    roles,
    access: 'step',
    body: CodeBody,
    response: { description: 'TOTP on', schema: SessionDone.extend({ recoveryCodes: z.array(z.string()) }) },
  }),
  logout: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/logout',
    summary: 'End this session',
    tags,
    roles,
    access: 'step',
    response: { status: 204, description: 'logged out' },
  }),
  logoutEverywhere: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/logout-everywhere',
    summary: 'End every session of the signed-in user',
    tags,
    roles,
    access: 'step',
    response: { description: 'sessions ended', schema: z.object({ ended: z.number() }) },
  }),
  invitation: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/invitations/lookup',
    summary:
      'Who an invitation is for (open without a session); the token goes in the body, never in the URL, so that it stays out of access logs',
    tags,
    roles,
    access: 'public',
    body: InvitationLookupBody,
    response: {
      description: 'the invited person and the language chosen for them',
      schema: z.object({ email: z.string(), displayName: z.string(), language: z.string() }),
    },
    errors: { 404: 'unknown, used or expired' },
  }),
  acceptInvitation: defineRoute({
    method: 'POST',
    url: '/api/v1/auth/invitations/accept',
    summary: 'Set the password with a one-time invitation (open without a session)',
    tags,
    roles,
    access: 'public',
    body: AcceptInvitationBody,
    response: { description: 'password set', schema: z.object({ email: z.string() }) },
    errors: { 404: 'unknown, used or expired' },
  }),
} as const;

const accountTags = ['account'];

/** The signed-in staff member's own account; staff sessions only (an API token has no account). */
export const meApi = {
  get: defineRoute({
    method: 'GET',
    url: '/api/v1/me',
    summary: 'The signed-in staff member',
    tags: accountTags,
    roles,
    access: 'session',
    response: {
      description: 'the account',
      schema: z.object({ user: SessionUserSchema, secondFactorRequired: z.boolean(), recoveryCodesLeft: z.number() }),
    },
  }),
  patch: defineRoute({
    method: 'PATCH',
    url: '/api/v1/me',
    summary: 'Change own name or language',
    tags: accountTags,
    roles,
    access: 'session',
    body: MePatchBody,
    response: { description: 'the account', schema: z.object({ user: SessionUserSchema }) },
  }),
  resetNoticeSeen: defineRoute({
    method: 'POST',
    url: '/api/v1/me/reset-notice/seen',
    summary: 'Dismiss the notice that an admin reset the password',
    tags: accountTags,
    roles,
    access: 'session',
    response: { description: 'the account', schema: z.object({ user: SessionUserSchema }) },
  }),
  password: defineRoute({
    method: 'POST',
    url: '/api/v1/me/password',
    summary: 'Change own password (ends other sessions)',
    tags: accountTags,
    roles,
    access: 'session',
    body: PasswordChangeBody,
    response: { description: 'done', schema: OkSchema },
  }),
  totpDisable: defineRoute({
    method: 'POST',
    url: '/api/v1/me/totp/disable',
    summary: 'Turn TOTP off where it is not required',
    tags: accountTags,
    roles,
    access: 'session',
    body: TotpDisableBody,
    response: { description: 'done; the account', schema: z.object({ user: SessionUserSchema }) },
  }),
} as const;
