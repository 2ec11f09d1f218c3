import type { Role } from './model.ts';

/** What a staff member can be notified of. Every notification names a conversation only by its label and inbox. */
export const NOTIFICATION_EVENTS = [
  'conversation.new',
  'message.new',
  'conversation.assigned',
  'note.mention',
] as const;
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number];

/** A staff member's choices: which events, over which ways, and a daily quiet period in their time zone. */
export interface NotificationPrefs {
  events: Record<NotificationEventKind, boolean>;
  push: boolean;
  email: boolean;
  quietHours: {
    enabled: boolean;
    /** "22:00": local time in `timeZone` when the quiet period begins (it may run past midnight). */
    start: string;
    end: string;
    /** IANA time zone, e.g. "Europe/Berlin". */
    timeZone: string;
  };
}

export interface PushSubscriptionRecord {
  id: string;
  user_id: string;
  endpoint_hash: string;
  subscription_enc: Uint8Array;
  created_at: number;
  last_used_at: number | null;
}

/** What a notification may say about a conversation: its label (pseudonym), inbox and who works on it. */
export interface ConversationFacts {
  id: string;
  inboxId: string;
  labelPrefix: string;
  inboxLanguage: string;
  labelSeq: number;
  assigneeId: string | null;
  state: string;
}

/** A staff member who may be notified. */
export interface NotifiableUser {
  id: string;
  email: string;
  role: Role;
  language: string;
  disabled: boolean;
}

/** Storage of notification preferences, push subscriptions and installation settings (main database). */
export interface NotificationPort {
  getPrefs(userId: string): Promise<NotificationPrefs | undefined>;
  putPrefs(userId: string, prefs: NotificationPrefs, at: number): Promise<void>;
  /** Inserts or, for a known endpoint hash, moves the subscription to this user and replaces it. */
  upsertSubscription(row: PushSubscriptionRecord): Promise<void>;
  findSubscription(id: string): Promise<PushSubscriptionRecord | undefined>;
  listSubscriptions(userId: string): Promise<PushSubscriptionRecord[]>;
  deleteSubscription(id: string): Promise<void>;
  /** Deletes the user's subscription with this endpoint hash; false when there was none. */
  deleteSubscriptionByEndpoint(userId: string, endpointHash: string): Promise<boolean>;
  touchSubscription(id: string, at: number): Promise<void>;
  getSetting(key: string): Promise<string | undefined>;
  putSetting(key: string, value: string, at: number): Promise<void>;
  conversationFacts(conversationId: string): Promise<ConversationFacts | undefined>;
  messageDirection(messageId: string): Promise<string | undefined>;
  listStaff(): Promise<NotifiableUser[]>;
  findStaff(id: string): Promise<NotifiableUser | undefined>;
}

/** Who is asked: named users, or everyone who may see the conversation's inbox. */
export type Audience = readonly string[] | { inboxId: string };

/**
 * Narrows the recipients of a notification to the staff who may see the conversation (inbox membership). The
 * default lets every active admin and agent through; a membership-aware resolver plugs in here.
 */
export interface RecipientResolver {
  resolve(audience: Audience, staff: readonly NotifiableUser[]): Promise<NotifiableUser[]>;
}

/** A browser push subscription as the Push API hands it out (PushSubscription.toJSON()). */
export interface PushSubscriptionData {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** Sends one encrypted Web Push message. `gone`: the push service forgot the subscription (404/410). */
export interface PushGateway {
  generateVapidKeys(): { publicKey: string; privateKey: string };
  send(subscription: PushSubscriptionData, payload: string, vapid: VapidKeys): Promise<'sent' | 'gone'>;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  password: string;
  from: string;
}

export interface MailGateway {
  send(smtp: SmtpSettings, mail: { to: string; subject: string; text: string }): Promise<void>;
}

/** Enqueues a durable job (retries with backoff); a second job with the same dedupe key is not added. */
export interface NotificationJobs {
  enqueue(
    queue: string,
    payload: Record<string, string | number | boolean | null>,
    options?: { dedupeKey?: string; maxAttempts?: number },
  ): Promise<unknown>;
}
