import { z } from 'zod';
import { ADMIN_ROLES, OkSchema, STAFF_ROLES, defineRoute } from './api-route.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

export const NotificationPrefsSchema = z
  .object({
    events: z
      .object({
        'conversation.new': z.boolean(),
        'message.new': z.boolean(),
        'conversation.assigned': z.boolean(),
        'note.mention': z.boolean(),
      })
      .strict(),
    push: z.boolean(),
    email: z.boolean(),
    quietHours: z
      .object({ enabled: z.boolean(), start: hhmm, end: hhmm, timeZone: z.string().min(1).max(64) })
      .strict(),
  })
  .strict();

export const NotificationSettingsSchema = z.object({
  prefs: NotificationPrefsSchema,
  /** The VAPID public key (base64url) a browser subscribes with (PushManager.subscribe applicationServerKey). */
  vapidPublicKey: z.string(),
  /** Browsers of this user that receive push notifications. */
  pushDevices: z.number().int(),
  /** Whether an admin set up e-mail notifications (SMTP). */
  emailAvailable: z.boolean(),
});

const base64url = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+={0,2}$/);
export const PushSubscriptionBody = z.object({
  endpoint: z.string().min(1).max(2000),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: base64url, auth: base64url }),
});
export const PushUnsubscribeBody = z.object({ endpoint: z.string().min(1).max(2000) }).strict();

export const SmtpSettingsSchema = z.object({
  enabled: z.boolean(),
  host: z.string(),
  port: z.number().int(),
  secure: z.boolean(),
  user: z.string(),
  from: z.string(),
  passwordSet: z.boolean(),
});
export const SmtpSettingsBody = z
  .object({
    enabled: z.boolean(),
    host: z.string().max(253),
    port: z.number().int().min(1).max(65_535),
    secure: z.boolean(),
    user: z.string().max(254),
    from: z.string().max(254),
    /** Leave out to keep the stored password; an empty string removes it. */
    password: z.string().max(1000).optional(),
  })
  .strict();
export const SmtpTestBody = z.object({ to: z.string().email().max(254).optional() }).strict();

const tags = ['notifications'];

/** A staff member's notifications: choice of events, quiet hours, push subscriptions of their browsers. */
export const notificationsApi = {
  get: defineRoute({
    method: 'GET',
    url: '/api/v1/me/notifications',
    summary: 'My notification settings, the VAPID public key and how many of my browsers receive push',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    response: { description: 'the settings', schema: NotificationSettingsSchema },
  }),
  put: defineRoute({
    method: 'PUT',
    url: '/api/v1/me/notifications',
    summary: 'Choose events, push and e-mail, and quiet hours',
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    body: NotificationPrefsSchema,
    response: { description: 'saved', schema: NotificationSettingsSchema },
  }),
  subscribe: defineRoute({
    method: 'POST',
    url: '/api/v1/me/push-subscriptions',
    summary: "Register this browser's push subscription (PushSubscription.toJSON()); stored sealed",
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    body: PushSubscriptionBody,
    response: { status: 201, description: 'subscribed', schema: OkSchema },
  }),
  unsubscribe: defineRoute({
    method: 'DELETE',
    url: '/api/v1/me/push-subscriptions',
    summary: "Remove this browser's push subscription",
    tags,
    roles: STAFF_ROLES,
    access: 'session',
    body: PushUnsubscribeBody,
    response: { description: 'removed', schema: z.object({ removed: z.boolean() }) },
  }),
  smtpGet: defineRoute({
    method: 'GET',
    url: '/api/v1/admin/notifications/email',
    summary: 'E-mail notification settings (SMTP), without the password',
    tags,
    roles: ADMIN_ROLES,
    response: { description: 'the settings', schema: SmtpSettingsSchema },
  }),
  smtpPut: defineRoute({
    method: 'PUT',
    url: '/api/v1/admin/notifications/email',
    summary: 'Set up e-mail notifications (SMTP); the password is stored sealed',
    tags,
    roles: ADMIN_ROLES,
    body: SmtpSettingsBody,
    response: { description: 'saved', schema: SmtpSettingsSchema },
  }),
  smtpTest: defineRoute({
    method: 'POST',
    url: '/api/v1/admin/notifications/email/test',
    summary: "Send a test e-mail now (to the admin's own address unless `to` is given)",
    tags,
    roles: ADMIN_ROLES,
    access: 'session',
    body: SmtpTestBody,
    response: { description: 'sent', schema: OkSchema },
    errors: { 400: 'not set up, or the SMTP server refused (the answer names its code)' },
  }),
} as const;
