import { createHmac } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { EventJobWriter, InboxEvent } from '../inbox/inbox-events.ts';
import {
  NOTIFICATION_EVENTS,
  type Audience,
  type ConversationFacts,
  type MailGateway,
  type NotificationEventKind,
  type NotificationJobs,
  type NotificationPort,
  type NotificationPrefs,
  type PushGateway,
  type PushSubscriptionData,
  type RecipientResolver,
  type SmtpSettings,
  type VapidKeys,
} from '../ports/notification.port.ts';
import { notificationText } from './notification-text.ts';

/** A notification about one conversation: what happened, never what was written or by whom. */
export interface NotificationEvent {
  kind: NotificationEventKind;
  conversationId: string;
  /** Makes a repeat of the same happening (a redelivered event, a second instance) a no-op: one job per user. */
  eventId: string;
}

/** The content-free payload a browser receives (encrypted) and its service worker shows. */
export interface PushPayload {
  title: string;
  body: string;
  /** Where a click leads: the conversation in the inbox. */
  url: string;
  /** Notifications of one conversation replace each other on the device. */
  tag: string;
  kind: NotificationEventKind;
}

/** The SMTP settings as admins see them: everything but the password, and whether one is set. */
export interface SmtpView {
  enabled: boolean;
  host: string;
  port: number;
  secure: boolean;
  user: string;
  from: string;
  passwordSet: boolean;
}

export interface SmtpInput {
  enabled: boolean;
  host: string;
  port: number;
  secure: boolean;
  user: string;
  from: string;
  /** undefined keeps the stored password; '' removes it. */
  password?: string | undefined;
}

export const DEFAULT_PREFS: NotificationPrefs = {
  events: { 'conversation.new': true, 'message.new': true, 'conversation.assigned': true, 'note.mention': true },
  push: true,
  email: false,
  quietHours: { enabled: false, start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' },
};

const VAPID_PUBLIC = 'notifications.vapid.public';
const VAPID_PRIVATE = 'notifications.vapid.private';
const SMTP = 'notifications.smtp';
const SMTP_PASSWORD = 'notifications.smtp.password';

export const NOTIFY_DISPATCH = 'notify-dispatch';
export const NOTIFY_PUSH = 'notify-push';
export const NOTIFY_EMAIL = 'notify-email';

export interface NotificationDeps {
  port: NotificationPort;
  /** Seals the VAPID private key, push subscriptions and the SMTP password (a key derived from the key service). */
  box: SecretBox;
  /** Keys the endpoint hash (the key service's pepper). */
  pepper: Buffer;
  push: PushGateway;
  mail: MailGateway;
  jobs: NotificationJobs;
  clock: Clock;
  logger: Logger;
  /** Public URL of sparsam: links in e-mails, the VAPID subject when it is https. */
  baseUrl: string;
  /** Accepts http://127.0.0.1 push endpoints (a test's local push service); never in production. */
  allowLoopbackEndpoints?: boolean;
  /** Narrows recipients to those who may see the inbox; default: every active admin and agent. */
  recipients?: RecipientResolver;
}

/** Every active admin and agent (data protection officers do not work in conversations). */
export const allActiveStaff: RecipientResolver = {
  resolve: async (audience, staff) => {
    const active = staff.filter((u) => !u.disabled && u.role !== 'dpo');
    if (Array.isArray(audience)) {
      const wanted = new Set(audience as readonly string[]);
      return active.filter((u) => wanted.has(u.id));
    }
    return active;
  },
};

/**
 * Notifications of staff: Web Push to their browsers and optional e-mail over SMTP, each through the job queue
 * (retries), content-free ("Neue Nachricht in Anfrage 42 (werkstatt)"), filtered by each member's choice of events
 * and quiet hours. Inbox events reach it through {@link onInboxEvent}; other parts of sparsam (mentions in notes)
 * call {@link notify} with the users concerned.
 */
export class NotificationService {
  readonly #d: NotificationDeps;
  readonly #recipients: RecipientResolver;
  #vapid: VapidKeys | undefined;
  /** Events whose dispatch job was written in their own transaction (see {@link enqueueIn}). */
  readonly #queuedInTx = new WeakSet<InboxEvent>();

  constructor(deps: NotificationDeps) {
    this.#d = deps;
    this.#recipients = deps.recipients ?? allActiveStaff;
  }

  /** Loads the VAPID key pair, creating and sealing it on the first start. */
  async init(): Promise<void> {
    const { port, box, clock } = this.#d;
    let publicKey = await port.getSetting(VAPID_PUBLIC);
    const sealed = await port.getSetting(VAPID_PRIVATE);
    let privateKey: string;
    if (publicKey && sealed) {
      privateKey = box.open(Buffer.from(sealed, 'base64'), VAPID_PRIVATE);
    } else {
      const keys = this.#d.push.generateVapidKeys();
      publicKey = keys.publicKey;
      privateKey = keys.privateKey;
      const at = clock.now().getTime();
      await port.putSetting(VAPID_PRIVATE, Buffer.from(box.seal(privateKey, VAPID_PRIVATE)).toString('base64'), at);
      await port.putSetting(VAPID_PUBLIC, publicKey, at);
      // Two instances starting at once: the last write wins, and both read it back to agree on one pair.
      const stored = await port.getSetting(VAPID_PUBLIC);
      const storedPrivate = await port.getSetting(VAPID_PRIVATE);
      if (stored && storedPrivate && stored !== publicKey) {
        publicKey = stored;
        privateKey = box.open(Buffer.from(storedPrivate, 'base64'), VAPID_PRIVATE);
      }
    }
    const base = this.#d.baseUrl;
    this.#vapid = {
      publicKey,
      privateKey,
      subject: base.startsWith('https://') ? new URL(base).origin : 'mailto:notifications@sparsam.invalid',
    };
  }

  get vapidPublicKey(): string {
    if (!this.#vapid) throw new Error('NotificationService.init() was not called');
    return this.#vapid.publicKey;
  }

  // ------------------------------------------------------------------------------------------ preferences

  async prefs(userId: string): Promise<NotificationPrefs> {
    const stored = await this.#d.port.getPrefs(userId);
    if (!stored) return structuredClone(DEFAULT_PREFS);
    return {
      ...DEFAULT_PREFS,
      ...stored,
      events: { ...DEFAULT_PREFS.events, ...stored.events },
      quietHours: { ...DEFAULT_PREFS.quietHours, ...stored.quietHours },
    };
  }

  async setPrefs(userId: string, prefs: NotificationPrefs): Promise<NotificationPrefs> {
    if (!validTimeZone(prefs.quietHours.timeZone)) {
      throw new AppError('VALIDATION', 'unknown time zone', { field: 'quietHours.timeZone' });
    }
    await this.#d.port.putPrefs(userId, prefs, this.#d.clock.now().getTime());
    return this.prefs(userId);
  }

  // ------------------------------------------------------------------------------------------ push subscriptions

  async subscribe(userId: string, subscription: PushSubscriptionData): Promise<void> {
    let url: URL;
    try {
      url = new URL(subscription.endpoint);
    } catch {
      throw new AppError('VALIDATION', 'the endpoint is not a URL', { field: 'endpoint' });
    }
    // Push services are public https hosts; an address on this machine or an IP literal is refused, so that a
    // subscription cannot make sparsam post to its own network (a test harness may allow loopback).
    const loopbackAllowed = this.#d.allowLoopbackEndpoints === true && isLoopback(url.hostname);
    if (!loopbackAllowed && (url.protocol !== 'https:' || isLocalOrIp(url.hostname))) {
      throw new AppError('VALIDATION', 'a push endpoint must be an https URL of a push service', {
        field: 'endpoint',
      });
    }
    if (!isKey(subscription.keys.p256dh, 65) || !isKey(subscription.keys.auth, 16)) {
      throw new AppError('VALIDATION', 'the subscription keys are malformed', { field: 'keys' });
    }
    const id = newId();
    const endpointHash = this.#endpointHash(subscription.endpoint);
    const data: PushSubscriptionData = {
      endpoint: subscription.endpoint,
      keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
    };
    await this.#d.port.upsertSubscription({
      id,
      user_id: userId,
      endpoint_hash: endpointHash,
      subscription_enc: this.#d.box.seal(JSON.stringify(data), `push:${endpointHash}`),
      created_at: this.#d.clock.now().getTime(),
      last_used_at: null,
    });
  }

  async unsubscribe(userId: string, endpoint: string): Promise<boolean> {
    return this.#d.port.deleteSubscriptionByEndpoint(userId, this.#endpointHash(endpoint));
  }

  async deviceCount(userId: string): Promise<number> {
    return (await this.#d.port.listSubscriptions(userId)).length;
  }

  #endpointHash(endpoint: string): string {
    return createHmac('sha256', this.#d.pepper).update(`push-endpoint:${endpoint}`, 'utf8').digest('hex');
  }

  // ------------------------------------------------------------------------------------------ e-mail settings

  async smtp(): Promise<SmtpView> {
    const stored = await this.#storedSmtp();
    return { ...stored, passwordSet: Boolean(await this.#d.port.getSetting(SMTP_PASSWORD)) };
  }

  async setSmtp(input: SmtpInput): Promise<SmtpView> {
    const at = this.#d.clock.now().getTime();
    const { password, ...plain } = input;
    if (plain.enabled && (!plain.host || !plain.from)) {
      throw new AppError('VALIDATION', 'host and sender address are needed', { field: plain.host ? 'from' : 'host' });
    }
    await this.#d.port.putSetting(SMTP, JSON.stringify(plain), at);
    if (password !== undefined) {
      const sealed = password === '' ? '' : Buffer.from(this.#d.box.seal(password, SMTP_PASSWORD)).toString('base64');
      await this.#d.port.putSetting(SMTP_PASSWORD, sealed, at);
    }
    return this.smtp();
  }

  /** Sends a test e-mail now (not queued), so that the admin sees the server's answer. */
  async sendTestMail(to: string, language: string): Promise<void> {
    const smtp = await this.#smtpSettings();
    if (!smtp) throw new AppError('VALIDATION', 'e-mail notifications are not set up', { field: 'host' });
    const de = language === 'de';
    try {
      await this.#d.mail.send(smtp, {
        to,
        subject: de ? 'sparsam: Test-E-Mail' : 'sparsam: test e-mail',
        text: de
          ? `Diese E-Mail bestätigt, dass sparsam über ${smtp.host} Benachrichtigungen senden kann.\n\n${this.#d.baseUrl}\n`
          : `This e-mail confirms that sparsam can send notifications through ${smtp.host}.\n\n${this.#d.baseUrl}\n`,
      });
    } catch (error) {
      throw new AppError('VALIDATION', `the SMTP server did not accept the e-mail: ${mailError(error)}`, {
        field: 'smtp',
      });
    }
  }

  async #storedSmtp(): Promise<Omit<SmtpView, 'passwordSet'>> {
    const text = await this.#d.port.getSetting(SMTP);
    const empty = { enabled: false, host: '', port: 587, secure: false, user: '', from: '' };
    if (!text) return empty;
    return { ...empty, ...(JSON.parse(text) as Partial<typeof empty>) };
  }

  async #smtpSettings(): Promise<SmtpSettings | undefined> {
    const s = await this.#storedSmtp();
    if (!s.enabled || !s.host) return undefined;
    const sealed = await this.#d.port.getSetting(SMTP_PASSWORD);
    const password = sealed ? this.#d.box.open(Buffer.from(sealed, 'base64'), SMTP_PASSWORD) : '';
    return { host: s.host, port: s.port, secure: s.secure, user: s.user, from: s.from, password };
  }

  // ------------------------------------------------------------------------------------------ events in

  /**
   * Turns an inbox event into a dispatch job (deduplicated: on PostgreSQL every instance sees every event). Runs on
   * the event bus, so it only enqueues; the job looks the conversation up and picks the recipients. Events whose job
   * was written with the transaction that caused them ({@link enqueueIn}) are skipped.
   */
  async onInboxEvent(event: InboxEvent): Promise<void> {
    if (this.#queuedInTx.has(event)) return;
    const job = dispatchJob(event);
    if (job) await this.#d.jobs.enqueue(NOTIFY_DISPATCH, job.payload, { dedupeKey: job.dedupeKey });
  }

  /** Writes the dispatch jobs of events in the transaction that causes them (a group of webhooks). */
  async enqueueIn(tx: EventJobWriter, events: readonly InboxEvent[]): Promise<void> {
    const jobs: { queue: string; payload: Record<string, string>; dedupeKey: string }[] = [];
    const queued: InboxEvent[] = [];
    for (const event of events) {
      const job = dispatchJob(event);
      if (!job) continue;
      jobs.push({ queue: NOTIFY_DISPATCH, payload: job.payload, dedupeKey: job.dedupeKey });
      queued.push(event);
    }
    // One statement for the group, sent with the transaction's COMMIT.
    await tx.enqueueMany(jobs);
    for (const event of queued) this.#queuedInTx.add(event);
  }

  /** The dispatch job: who is concerned by what happened. */
  async dispatch(payload: Record<string, unknown>): Promise<void> {
    const kind = payload.kind;
    const conversationId = payload.conversationId;
    const eventId = payload.eventId;
    if (typeof conversationId !== 'string' || typeof eventId !== 'string') return;
    const facts = await this.#d.port.conversationFacts(conversationId);
    if (!facts) return;
    if (kind === 'conversation.new') {
      await this.notify({ inboxId: facts.inboxId }, { kind, conversationId, eventId });
    } else if (kind === 'message.new') {
      if (typeof payload.messageId !== 'string') return;
      // Only what a customer wrote; replies, notes and automated messages are the team's own.
      if ((await this.#d.port.messageDirection(payload.messageId)) !== 'in') return;
      // A conversation's first message is announced as a new conversation.
      if (payload.messageId && facts.assigneeId) {
        await this.notify([facts.assigneeId], { kind, conversationId, eventId }, facts);
      }
    } else if (kind === 'conversation.assigned' && typeof payload.userId === 'string') {
      if (facts.assigneeId !== payload.userId) return;
      await this.notify([payload.userId], { kind, conversationId, eventId }, facts);
    }
  }

  /**
   * Notifies the given users (or everyone who may see an inbox) of an event, each as they chose: one push job per
   * device and one e-mail job, none during their quiet hours. A user is asked only when the recipient resolver lets
   * them through (inbox membership), so that `notify([id], …)` from a mention cannot reach outside the inbox.
   */
  async notify(audience: Audience, event: NotificationEvent, known?: ConversationFacts): Promise<number> {
    const facts = known ?? (await this.#d.port.conversationFacts(event.conversationId));
    if (!facts) return 0;
    const scoped: Audience = Array.isArray(audience) ? audience : { inboxId: facts.inboxId };
    const staff = await this.#d.port.listStaff();
    const users = await this.#recipients.resolve(scoped, staff);
    const now = this.#d.clock.now();
    let queued = 0;
    for (const user of users) {
      if (user.disabled || user.role === 'dpo') continue;
      const prefs = await this.prefs(user.id);
      if (!prefs.events[event.kind]) continue;
      if (inQuietHours(prefs.quietHours, now)) continue;
      const base = { kind: event.kind, conversationId: event.conversationId, userId: user.id };
      if (prefs.push) {
        for (const sub of await this.#d.port.listSubscriptions(user.id)) {
          await this.#d.jobs.enqueue(
            NOTIFY_PUSH,
            { ...base, subscriptionId: sub.id },
            { dedupeKey: `notify-push:${event.eventId}:${event.kind}:${sub.id}`, maxAttempts: 6 },
          );
          queued++;
        }
      }
      if (prefs.email && (await this.#smtpSettings())) {
        await this.#d.jobs.enqueue(NOTIFY_EMAIL, base, {
          dedupeKey: `notify-email:${event.eventId}:${event.kind}:${user.id}`,
          maxAttempts: 6,
        });
        queued++;
      }
    }
    return queued;
  }

  // ------------------------------------------------------------------------------------------ deliveries

  /** The push job: encrypts and sends; a subscription the push service no longer knows is removed. */
  async deliverPush(payload: Record<string, unknown>): Promise<'sent' | 'gone' | 'skipped'> {
    const { subscriptionId, conversationId, kind, userId } = payload;
    if (typeof subscriptionId !== 'string' || typeof conversationId !== 'string' || !isKind(kind)) return 'skipped';
    const sub = await this.#d.port.findSubscription(subscriptionId);
    if (!sub || sub.user_id !== userId) return 'skipped';
    const [facts, user] = await Promise.all([
      this.#d.port.conversationFacts(conversationId),
      this.#d.port.findStaff(sub.user_id),
    ]);
    if (!facts || !user || user.disabled) return 'skipped';
    const data = JSON.parse(
      this.#d.box.open(sub.subscription_enc, `push:${sub.endpoint_hash}`),
    ) as PushSubscriptionData;
    const result = await this.#d.push.send(
      data,
      JSON.stringify(this.pushPayload(kind, facts, user.language)),
      this.#vapidKeys(),
    );
    if (result === 'gone') {
      await this.#d.port.deleteSubscription(sub.id);
      this.#d.logger.info({ subscriptionId: sub.id }, 'push subscription expired; removed');
    } else {
      await this.#d.port.touchSubscription(sub.id, this.#d.clock.now().getTime());
    }
    return result;
  }

  /** The e-mail job. */
  async deliverEmail(payload: Record<string, unknown>): Promise<'sent' | 'skipped'> {
    const { conversationId, kind, userId } = payload;
    if (typeof conversationId !== 'string' || typeof userId !== 'string' || !isKind(kind)) return 'skipped';
    const [facts, user, smtp] = await Promise.all([
      this.#d.port.conversationFacts(conversationId),
      this.#d.port.findStaff(userId),
      this.#smtpSettings(),
    ]);
    if (!facts || !user || user.disabled || !smtp) return 'skipped';
    const text = notificationText(kind, facts, user.language);
    const link = new URL(`/inbox/${encodeURIComponent(facts.id)}`, this.#d.baseUrl).toString();
    const de = user.language === 'de';
    await this.#d.mail.send(smtp, {
      to: user.email,
      subject: `sparsam: ${text}`,
      text: `${text}\n\n${de ? 'Öffnen' : 'Open'}: ${link}\n\n${
        de
          ? 'Diese Benachrichtigung enthält bewusst keinen Nachrichteninhalt. Einstellungen: Mein Konto.'
          : 'This notification deliberately carries no message content. Settings: My account.'
      }\n`,
    });
    return 'sent';
  }

  /** What a device shows: the sentence, a link and a tag; nothing the customer wrote or who they are. */
  pushPayload(kind: NotificationEventKind, facts: ConversationFacts, language: string): PushPayload {
    return {
      title: 'sparsam',
      body: notificationText(kind, facts, language),
      url: `/inbox/${encodeURIComponent(facts.id)}`,
      tag: `conversation:${facts.id}`,
      kind,
    };
  }

  #vapidKeys(): VapidKeys {
    if (!this.#vapid) throw new Error('NotificationService.init() was not called');
    return this.#vapid;
  }
}

function isKind(value: unknown): value is NotificationEventKind {
  return typeof value === 'string' && (NOTIFICATION_EVENTS as readonly string[]).includes(value);
}

function isKey(value: string, bytes: number): boolean {
  return /^[A-Za-z0-9_-]+={0,2}$/.test(value) && Buffer.from(value, 'base64url').length === bytes;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

function isLocalOrIp(host: string): boolean {
  return (
    isLoopback(host) ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.startsWith('[') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(host) ||
    !host.includes('.')
  );
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The dispatch job of an inbox event, or undefined when nobody is told of that kind of event. */
function dispatchJob(event: InboxEvent): { payload: Record<string, string>; dedupeKey: string } | undefined {
  if (event.type === 'conversation.created') {
    return {
      payload: { kind: 'conversation.new', conversationId: event.conversationId, eventId: event.conversationId },
      dedupeKey: `notify:conversation.new:${event.conversationId}`,
    };
  }
  if (event.type === 'message.created') {
    // A customer's message notifies the conversation's assignee only: without one the job would find nobody.
    if (event.assigned === false) return undefined;
    return {
      payload: {
        kind: 'message.new',
        conversationId: event.conversationId,
        messageId: event.messageId,
        eventId: event.messageId,
      },
      dedupeKey: `notify:message.new:${event.messageId}`,
    };
  }
  if (event.type === 'conversation.assigned' && event.assigneeId) {
    return {
      payload: {
        kind: 'conversation.assigned',
        conversationId: event.conversationId,
        userId: event.assigneeId,
        eventId: event.eventId,
      },
      dedupeKey: `notify:conversation.assigned:${event.eventId}`,
    };
  }
  return undefined;
}

/** True when `now` falls in the daily quiet period (which may run past midnight: 22:00–07:00). */
export function inQuietHours(quiet: NotificationPrefs['quietHours'], now: Date): boolean {
  if (!quiet.enabled) return false;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: quiet.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  const local = hour * 60 + minute;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? local >= start && local < end : local >= start || local < end;
}

function mailError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  const responseCode = (error as { responseCode?: unknown }).responseCode;
  return (
    [typeof code === 'string' ? code : undefined, typeof responseCode === 'number' ? responseCode : undefined]
      .filter(Boolean)
      .join(' ')
      .concat(code || responseCode ? '' : error.name) || error.name
  );
}
