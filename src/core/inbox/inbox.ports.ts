import type { TemplateButton, TemplateHeader } from '../ports/business-account.port.ts';
import type { ReportFactWrites } from '../ports/report.port.ts';
import type { Channel } from '../channel/channel.port.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ContactRecord, ConversationRecord, Role } from '../ports/model.ts';
import type { ContactsRead, FindOrCreateContact } from '../privacy/pseudonym/contact-directory.ts';
import type { InboxScope } from '../teams/inbox-scope.ts';
import type { ConversationPort, InboxTransactions } from '../ports/conversation.port.ts';
import type { MediaPort } from '../ports/media.port.ts';
import type { MessagePort } from '../ports/message.port.ts';
import type { AutomationHook, AutomationSettings, MarketingKeywords } from './automation.ts';
import type { EventJobSink, InboxEventBus } from './inbox-events.ts';
import type { ConversationKey } from './message-content.ts';
import type { NoticeLanguage } from './notices.ts';
import type { Outbox } from './outbox.ts';
import type { OutgoingEventSink } from '../webhooks/outgoing-events.ts';

/**
 * The few things the inbox core needs from the privacy core, the channels and the stores, as narrow structural
 * interfaces: the privacy core's classes (ContactDirectory, ConsentService, ErasureService, AuditLog, KeyService)
 * and B1's ChannelRegistry and MediaSanitizer satisfy them as they are.
 */

/** Who is calling from the staff side (the http layer's Principal has this shape). */
export interface StaffPrincipal {
  kind: 'session' | 'token';
  id: string;
  role: Role;
  userId?: string;
  /** The inboxes the caller may see; everything outside does not exist for them (404). */
  scope: InboxScope;
}

export interface ContactDirectoryPort {
  findOrCreate(input: FindOrCreateContact): Promise<{ contact: ContactRecord; created: boolean }>;
  /**
   * Reads the existing contacts of `inputs` and creates nothing (a read that may run beside others), for a later
   * {@link findOrCreateMany} of some of them.
   */
  readMany(inputs: readonly FindOrCreateContact[]): Promise<ContactsRead>;
  /**
   * {@link findOrCreate} for several addresses at once (existing contacts in one query, or from `earlier`, with
   * their current conversation: null when none, undefined when not read); results in input order.
   */
  findOrCreateMany(
    inputs: readonly FindOrCreateContact[],
    earlier?: ContactsRead,
  ): Promise<{ contact: ContactRecord; created: boolean; current?: ConversationRecord | null }[]>;
  findByAddress(channelId: string, channelKind: string, address: string): Promise<ContactRecord | undefined>;
  updateAddress(contact: ContactRecord, newAddress: string): Promise<unknown>;
}

export interface ConsentPort {
  grant(input: {
    contactId: string;
    channelId: string;
    purpose: 'service' | 'marketing';
    noticeVersion: string | null;
    method: string;
    evidenceMessageId?: string;
  }): Promise<unknown>;
  withdraw(input: {
    contactId: string;
    channelId: string;
    purpose: 'service' | 'marketing';
    method: string;
    evidenceMessageId?: string;
  }): Promise<unknown>;
  status(contactId: string, purpose: 'service' | 'marketing'): Promise<{ allowed: boolean; reason: string }>;
}

export interface ErasurePort {
  eraseConversation(id: string, by: { actor: string; reason: string }): Promise<unknown>;
  eraseContact(id: string, by: { actor: string; reason: string }): Promise<unknown>;
  /** Erases the contact when nothing refers to it any more (no conversation, no consent entry). */
  eraseContactIfOrphan(id: string, by: { actor: string; reason: string }): Promise<unknown>;
}

export interface AuditPort {
  append(entry: {
    actor: string;
    action: string;
    targetType?: string;
    targetId?: string;
    result?: 'ok' | 'denied' | 'failed';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<unknown>;
}

export interface ConversationKeyPort {
  /** `fresh`: the conversation was opened just now (see KeyService's NewOwnerOption). */
  dataKeyFor(ownerType: 'conversation', ownerId: string, options?: { fresh?: boolean }): Promise<ConversationKey>;
  /** The data keys of many conversations, the missing ones created in one key-store transaction; by conversation id. */
  dataKeysFor(ownerType: 'conversation', ownerIds: readonly string[]): Promise<Map<string, ConversationKey>>;
  existingDataKey(ownerType: 'conversation', ownerId: string): Promise<ConversationKey | undefined>;
  /** Destroys the data keys of conversations (keys made for conversations that were not opened after all). */
  destroyMany(ownerType: 'conversation', ownerIds: readonly string[]): Promise<number>;
}

export interface ChannelLookup {
  get(channelId: string): Channel | undefined;
}

/** The kill switch state of channels (channels.enabled). */
export interface ChannelStatePort {
  isEnabled(channelId: string): Promise<boolean>;
}

export interface StaffDirectoryPort {
  findUserById(id: string): Promise<{ id: string; display_name: string } | undefined>;
}

export type MediaPolicy = 'strip' | 'reject' | 'allow';

/** B1's MediaSanitizer: re-encodes images without metadata, checks other types by magic bytes. */
export interface MediaSanitizerPort {
  sanitize(
    data: Buffer,
    options: {
      policy: MediaPolicy;
      claimedMime: string | undefined;
      maxBytes: number;
      sticker?: boolean;
      stillImages?: boolean;
    },
  ): Promise<{ ok: true; data: Buffer; mimeType: string; kind: string } | { ok: false; reason: string }>;
}

/** An inbox's policies as configured (a subset of config's Inbox). */
export interface InboxSettings {
  id: string;
  labelPrefix: string;
  language: NoticeLanguage;
  retention: { consentTimeoutHours: number; autoCloseAfterDays: number; eraseAfterCloseDays: number };
  media: MediaPolicy;
  notice?: { de?: string | undefined; en?: string | undefined } | undefined;
  stopKeywords: readonly string[];
  /** Greeting and away message (automation.ts); absent = off. */
  automation?: AutomationSettings | undefined;
  /** Marketing opt-in/opt-out keywords (automation.ts). */
  marketing?: MarketingKeywords | undefined;
  /** The team that works the inbox, for the reports; the inbox id where none is set. */
  team: string;
  /** The satisfaction question after staff closed a conversation (off by default). */
  csat: { enabled: boolean };
}

/** Reads an inbox's effective settings (implementations may cache for a few seconds). */
export interface InboxSettingsPort {
  get(inboxId: string): Promise<InboxSettings | undefined>;
}

/** A pre-approved WhatsApp template declared for a channel in the configuration. */
export interface TemplateSpec {
  name: string;
  language: string;
  category: string;
  body: string;
  header?: TemplateHeader;
  footer?: string;
  buttons?: TemplateButton[];
}

export interface InboxDeps {
  clock: Clock;
  logger: Logger;
  transactions: InboxTransactions;
  /** The one writer of outbound messages and their send jobs (and of new conversations). */
  outbox: Outbox;
  conversations: ConversationPort;
  messages: MessagePort;
  media: MediaPort;
  contacts: ContactDirectoryPort;
  consent: ConsentPort;
  erasure: ErasurePort;
  audit: AuditPort;
  /** Content-free facts for the reports (closed conversations; messages are counted inside their transaction). */
  reportFacts: ReportFactWrites;
  keys: ConversationKeyPort;
  channels: ChannelLookup;
  channelState: ChannelStatePort;
  staff: StaffDirectoryPort;
  sanitizer: MediaSanitizerPort;
  events: InboxEventBus;
  /** The effective settings of an inbox (configuration defaults with the admin's changes from the UI). */
  inboxes: InboxSettingsPort;
  /** noticeUrl: where the full privacy notice is published (the consent message links to it). */
  organisation: { name: string; contact: string; noticeUrl?: string | undefined };
  /** Templates per channel id (from the configuration). */
  /** The approved templates of a channel (synced from the provider, or configured). */
  templates: (channelId: string) => Promise<readonly TemplateSpec[]> | readonly TemplateSpec[];
  /** The notice version of a text (the privacy core's noticeVersion: SHA-256 hex of the exact text). */
  noticeVersion: (text: string) => string;
  /** "Anfrage 42" from the inbox's prefix and the sequence number (the privacy core's formatLabel). */
  formatLabel: (prefix: string, seq: number) => string;
  /** Automated replies and marketing keywords, run after a webhook's messages are committed (automation.ts). */
  automation?: AutomationHook;
  /**
   * The page of a website chat customers of this inbox can turn to (the same inbox's first, else any), linked in the
   * reply of a paused channel; undefined where no website chat is configured.
   */
  chatUrl?: (inboxId: string) => string | undefined;
  /** The organisation's time zone: a satisfaction score is kept with the local day only (default Europe/Berlin). */
  timeZone?: string;
  /** How long a direct reply (decline, STOP) may take before erasure goes ahead without it. */
  directSendTimeoutMs?: number;
  /** Outgoing webhooks (conversation opened/closed, message received, …); absent = none. */
  webhooks?: OutgoingEventSink;
  /** Jobs that follow from the events of a group of webhooks, written in the group's transaction (notifications). */
  eventJobs?: EventJobSink;
  /**
   * Groups of webhooks committed at once (default 1). More than one only where the store runs transactions in
   * parallel (PostgreSQL); SQLite has one writer.
   */
  ingestConcurrency?: number;
}

/**
 * Retry budget of an 'outbound-send' job: with the send backoff (1 s doubling, capped at 20 s, ±25 % jitter) at least
 * 20 minutes of provider trouble (about 27 on average) before a message is marked failed.
 */
export const OUTBOUND_ATTEMPTS = 85;

/**
 * How long a status for a provider id no message carries yet is kept. The send job stores the id right after the
 * provider's answer (milliseconds later, or a few seconds while the database is busy); a status still unmatched
 * after an hour belongs to no message sparsam will ever store (its conversation was erased, the send was left
 * unconfirmed, or another system sends from the same number) and is swept.
 */
/**
 * How long an inbound event without a message row (a number change) is remembered against redelivery. Meta retries
 * an unacknowledged webhook for up to 7 days (sources in docs/channels.md, "WhatsApp: one app, several numbers"); a
 * day more for clocks and queues.
 */
export const INBOUND_RECEIPT_TTL_MS = 8 * 24 * 60 * 60 * 1000;

export const PARKED_STATUS_TTL_MS = 60 * 60 * 1000;

let lastStamp = 0;

/**
 * A message's `created_at`: the clock's time, but strictly after the previous stamp of this process, so that the
 * messages of one webhook and the replies queued with them keep their order (the list is ordered by this).
 */
export function messageStamp(now: number): number {
  lastStamp = Math.max(now, lastStamp + 1);
  return lastStamp;
}

/** The audit actor of a staff member or API token. */
export function actorOf(principal: StaffPrincipal): string {
  return principal.kind === 'session' ? `user:${principal.userId ?? principal.id}` : `token:${principal.id}`;
}
