import type { CsatSurvey } from '../../src/core/ports/csat.port.ts';
import type { ReportFact } from '../../src/core/ports/report.port.ts';
import { createHash, randomBytes } from 'node:crypto';
import type {
  Channel,
  ChannelCapabilities,
  DeliveryStatus,
  OutboundCommand,
  SendResult,
} from '../../src/core/channel/channel.port.ts';
import { NO_OUTBOUND_MEDIA } from '../../src/core/channel/channel.port.ts';
import { LocalInboxEventBus, type InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import type { InboxDeps, InboxSettings } from '../../src/core/inbox/inbox.ports.ts';
import { openMessageContent, type ConversationKey, type MessageContent } from '../../src/core/inbox/message-content.ts';
import { noticeVersion } from '../../src/core/privacy/consent/consent.service.ts';
import type { DataKey } from '../../src/core/privacy/keys/data-key.ts';
import { formatLabel, type ContactsRead } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import type {
  ConversationFilter,
  ConversationPort,
  InboxTransactions,
  InboxTx,
  InboundTouch,
  JobPayload,
} from '../../src/core/ports/conversation.port.ts';
import type { MediaPort } from '../../src/core/ports/media.port.ts';
import type { MessagePort, StatusReport } from '../../src/core/ports/message.port.ts';
import type { ContactRecord, ConversationRecord, MediaRecord, MessageRecord } from '../../src/core/ports/model.ts';
import { Outbox } from '../../src/core/inbox/outbox.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';
import { createLogger } from '../../src/shared/logger.ts';

/**
 * The inbox core's ports in memory: the tables as maps of domain records, transactions as snapshot-and-restore, the
 * privacy services as small ledgers. Lets the real inbound pipeline (src/core/inbox/inbox.receive.ts) run without a
 * database, in milliseconds. Nothing here touches the disk.
 */

/** The messages, conversations and media "tables", with the parked statuses and queued jobs. */
export interface MemoryTables {
  conversations: Map<string, ConversationRecord>;
  messages: Map<string, MessageRecord>;
  media: Map<string, MediaRecord>;
  /** Statuses for provider ids no message carries yet, keyed by channel and provider id. */
  parked: Map<string, { status: DeliveryStatus; at: number; error: { code: string; reason: string } | undefined }[]>;
  jobs: { queue: string; payload: JobPayload; dedupeKey: string | undefined }[];
  reportFacts: ReportFact[];
  csatSurveys: Map<string, CsatSurvey>;
}

const RANK: Record<string, number> = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4, failed: 5 };
/** Forward-only, as the SQL stores do: failed replaces anything before read; nothing moves back. */
function replaces(current: string, next: DeliveryStatus): boolean {
  if (!(current in RANK)) return false;
  if (next === 'failed') return current !== 'read' && current !== 'failed';
  return current !== 'failed' && RANK[next]! > RANK[current]!;
}

const clone = <T>(value: T): T => structuredClone(value);

function snapshot(t: MemoryTables): MemoryTables {
  return {
    conversations: new Map([...t.conversations].map(([k, v]) => [k, clone(v)])),
    messages: new Map([...t.messages].map(([k, v]) => [k, clone(v)])),
    media: new Map([...t.media].map(([k, v]) => [k, clone(v)])),
    parked: new Map([...t.parked].map(([k, v]) => [k, clone(v)])),
    jobs: [...t.jobs],
    reportFacts: [...t.reportFacts],
    csatSurveys: new Map([...t.csatSurveys].map(([k, v]) => [k, clone(v)])),
  };
}

function restore(into: MemoryTables, from: MemoryTables): void {
  into.conversations = from.conversations;
  into.messages = from.messages;
  into.media = from.media;
  into.parked = from.parked;
  into.jobs = from.jobs;
  into.reportFacts = from.reportFacts;
  into.csatSurveys = from.csatSurveys;
}

export class MemoryConversations implements ConversationPort {
  constructor(private readonly t: MemoryTables) {}
  async insert(row: ConversationRecord): Promise<void> {
    if (this.t.conversations.has(row.id)) throw new Error('duplicate conversation id');
    this.t.conversations.set(row.id, clone(row));
  }
  async findByIds(ids: readonly string[]): Promise<ConversationRecord[]> {
    return ids.flatMap((id) => {
      const row = this.t.conversations.get(id);
      return row ? [clone(row)] : [];
    });
  }
  async findById(id: string): Promise<ConversationRecord | undefined> {
    const row = this.t.conversations.get(id);
    return row && clone(row);
  }
  async findCurrentForContact(contactId: string): Promise<ConversationRecord | undefined> {
    return (await this.findCurrentForContacts([contactId]))[0];
  }
  async listForContact(contactId: string): Promise<ConversationRecord[]> {
    return [...this.t.conversations.values()]
      .filter((c) => c.contact_id === contactId)
      .sort((a, b) => a.created_at - b.created_at)
      .map(clone);
  }
  async findCurrentForContacts(contactIds: readonly string[]): Promise<ConversationRecord[]> {
    const ids = new Set(contactIds);
    return [...this.t.conversations.values()]
      .filter((c) => ids.has(c.contact_id) && (c.state === 'open' || c.state === 'pending_consent'))
      .map(clone);
  }
  async update(id: string, patch: Partial<Omit<ConversationRecord, 'id'>>): Promise<void> {
    const row = this.t.conversations.get(id);
    if (row) Object.assign(row, clone(patch));
  }
  async touchInbound(id: string, at: number, unreadDelta: number): Promise<void> {
    const row = this.t.conversations.get(id);
    if (!row) return;
    row.unread += unreadDelta;
    row.snoozed_until = null;
    row.last_activity_at = Math.max(row.last_activity_at, at);
    row.last_inbound_at = Math.max(row.last_inbound_at ?? at, at);
  }
  async touchInboundMany(touches: readonly InboundTouch[]): Promise<{ touched: Promise<number> }> {
    let touched = 0;
    for (const t of touches) {
      const row = this.t.conversations.get(t.id);
      if (row?.state !== t.state || row.consent_requested_at !== t.consentRequestedAt) continue;
      await this.touchInbound(t.id, t.at, t.unreadDelta);
      touched++;
    }
    return { touched: Promise.resolve(touched) };
  }
  async list(filter: ConversationFilter): Promise<ConversationRecord[]> {
    return [...this.t.conversations.values()]
      .filter((c) => (filter.states as readonly string[]).includes(c.state))
      .filter((c) => !filter.label || c.labels.includes(filter.label))
      .filter((c) => filter.snoozed === undefined || filter.snoozed === (c.snoozed_until != null))
      .sort((a, b) => b.last_activity_at - a.last_activity_at)
      .slice(0, filter.limit)
      .map(clone);
  }
}

/** Shared by every MemoryMessages over the same tables (one in each transaction). */
const receivedByTables = new WeakMap<MemoryTables, Map<string, number>>();

export class MemoryMessages implements MessagePort {
  constructor(private readonly t: MemoryTables) {}
  /** Inbound events without a message row that took effect (number changes), by channel and provider id. */
  get #received(): Map<string, number> {
    let received = receivedByTables.get(this.t);
    if (!received) receivedByTables.set(this.t, (received = new Map()));
    return received;
  }
  async wasReceived(channelId: string, providerMessageId: string): Promise<boolean> {
    return this.#received.has(`${channelId}\0${providerMessageId}`);
  }
  async findStoredOrReceived(channelId: string, providerMessageIds: readonly string[]) {
    return {
      stored: await this.findByProviderIds(channelId, providerMessageIds),
      received: new Set(providerMessageIds.filter((id) => this.#received.has(`${channelId}\0${id}`))),
    };
  }
  async markReceived(channelId: string, providerMessageId: string, _now: number, expiresAt: number): Promise<void> {
    const key = `${channelId}\0${providerMessageId}`;
    if (!this.#received.has(key)) this.#received.set(key, expiresAt);
  }
  #byProvider(channelId: string, providerMessageId: string): MessageRecord | undefined {
    for (const m of this.t.messages.values()) {
      if (m.channel_id === channelId && m.provider_message_id === providerMessageId) return m;
    }
    return undefined;
  }
  async insertUnlessDuplicate(row: MessageRecord): Promise<boolean> {
    if (row.provider_message_id !== null && this.#byProvider(row.channel_id, row.provider_message_id)) return false;
    await this.insert(row);
    return true;
  }
  async insert(row: MessageRecord): Promise<void> {
    if (this.t.messages.has(row.id)) throw new Error('duplicate message id');
    this.t.messages.set(row.id, clone(row));
  }
  async insertManyUnlessDuplicate(rows: readonly MessageRecord[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (const row of rows) if (await this.insertUnlessDuplicate(row)) inserted.add(row.id);
    return inserted;
  }
  async findByProviderIds(channelId: string, providerMessageIds: readonly string[]) {
    return providerMessageIds.flatMap((id) => {
      const m = this.#byProvider(channelId, id);
      return m ? [{ id: m.id, conversation_id: m.conversation_id, provider_message_id: id, handled: m.handled }] : [];
    });
  }
  async findById(id: string): Promise<MessageRecord | undefined> {
    const row = this.t.messages.get(id);
    return row && clone(row);
  }
  async findByProviderId(channelId: string, providerMessageId: string): Promise<MessageRecord | undefined> {
    const row = this.#byProvider(channelId, providerMessageId);
    return row && clone(row);
  }
  async listForConversation(conversationId: string): Promise<MessageRecord[]> {
    return [...this.t.messages.values()]
      .filter((m) => m.conversation_id === conversationId)
      .sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
      .map(clone);
  }
  async listNewestSealed(
    conversationIds: readonly string[],
    limit: number,
  ): Promise<Pick<MessageRecord, 'id' | 'conversation_id' | 'body_enc' | 'created_at'>[]> {
    const ids = new Set(conversationIds);
    return [...this.t.messages.values()]
      .filter((m) => ids.has(m.conversation_id) && m.body_enc !== null && m.status !== 'held')
      .sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id))
      .slice(0, limit)
      .map(clone);
  }

  async latestForConversations(conversationIds: readonly string[]): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for (const id of conversationIds) {
      const shown = (await this.listForConversation(id)).filter(
        (m) => ['in', 'out', 'note'].includes(m.direction) && m.status !== 'held' && m.kind !== 'reaction',
      );
      const last = shown.at(-1);
      if (last) out.push(last);
    }
    return out;
  }
  async update(id: string, patch: Partial<Omit<MessageRecord, 'id'>>): Promise<void> {
    const row = this.t.messages.get(id);
    if (row) Object.assign(row, clone(patch));
  }
  async releaseHeld(conversationId: string, at: number): Promise<number> {
    let n = 0;
    for (const m of this.t.messages.values()) {
      if (m.conversation_id === conversationId && m.status === 'held') {
        m.status = 'received';
        m.updated_at = at;
        n += 1;
      }
    }
    return n;
  }
  async advanceStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    at: number,
  ): Promise<MessageRecord | undefined> {
    const row = this.#byProvider(channelId, providerMessageId);
    if (!row || row.direction !== 'out' || !replaces(row.status, status)) return undefined;
    row.status = status;
    row.updated_at = at;
    if (status === 'failed') {
      row.error_code = error?.code ?? 'unknown';
      row.error_reason = error?.reason ?? 'the provider reported a failure';
    }
    return clone(row);
  }
  async advanceOrParkStatus(
    channelId: string,
    providerMessageId: string,
    status: DeliveryStatus,
    error: { code: string; reason: string } | undefined,
    statusAt: number,
    now: number,
  ): Promise<{ row: MessageRecord | undefined; parked: boolean }> {
    if (this.#byProvider(channelId, providerMessageId)) {
      return { row: await this.advanceStatus(channelId, providerMessageId, status, error, now), parked: false };
    }
    const key = `${channelId}\0${providerMessageId}`;
    const list = this.t.parked.get(key) ?? [];
    if (!list.some((p) => p.status === status)) list.push({ status, at: statusAt, error });
    this.t.parked.set(key, list);
    return { row: undefined, parked: true };
  }
  async advanceOrParkStatuses(
    statuses: readonly StatusReport[],
    now: number,
    _expiresAt: number,
  ): Promise<{ rows: MessageRecord[]; parked: boolean[] }> {
    const rows = new Map<string, MessageRecord>();
    const parked: boolean[] = [];
    for (const s of statuses) {
      const r = await this.advanceOrParkStatus(s.channelId, s.providerMessageId, s.status, s.error, s.statusAt, now);
      if (r.row) rows.set(r.row.id, r.row);
      parked.push(r.parked);
    }
    return { rows: [...rows.values()], parked };
  }
  async applyParkedStatuses(
    channelId: string,
    providerMessageId: string,
    now: number,
  ): Promise<MessageRecord | undefined> {
    const key = `${channelId}\0${providerMessageId}`;
    const list = this.t.parked.get(key);
    if (!list || !this.#byProvider(channelId, providerMessageId)) return undefined;
    let changed: MessageRecord | undefined;
    for (const p of [...list].sort((a, b) => a.at - b.at)) {
      changed = (await this.advanceStatus(channelId, providerMessageId, p.status, p.error, now)) ?? changed;
    }
    this.t.parked.delete(key);
    return changed;
  }
}

export class MemoryMedia implements MediaPort {
  constructor(private readonly t: MemoryTables) {}
  async insert(row: MediaRecord): Promise<void> {
    this.t.media.set(row.id, clone(row));
  }
  async findById(id: string): Promise<MediaRecord | undefined> {
    const row = this.t.media.get(id);
    return row && clone(row);
  }
  async update(id: string, patch: Partial<Omit<MediaRecord, 'id'>>): Promise<void> {
    const row = this.t.media.get(id);
    if (row) Object.assign(row, clone(patch));
  }
  async delete(id: string): Promise<void> {
    this.t.media.delete(id);
  }
  async describe(ids: readonly string[]) {
    return ids.flatMap((id) => {
      const m = this.t.media.get(id);
      return m ? [{ id: m.id, mime_type: m.mime_type, size: m.size, state: m.state }] : [];
    });
  }
  async countByState(conversationId: string, state: MediaRecord['state']): Promise<number> {
    return [...this.t.media.values()].filter((m) => m.conversation_id === conversationId && m.state === state).length;
  }
}

/** Transactions over the maps: the callback sees the live maps and a failure restores the snapshot taken before. */
export class MemoryTransactions implements InboxTransactions {
  /** How many transactions ran (group commit: several webhooks share one). */
  count = 0;
  /** Makes the next `n` transactions fail (before their callback returns), as a lost database would. */
  failNext = 0;

  constructor(private readonly t: MemoryTables) {}

  async runUntilCommitted<T>(fn: (tx: InboxTx) => Promise<T>): Promise<{ value: T; durable: Promise<void> }> {
    return { value: await this.run(fn), durable: Promise.resolve() };
  }

  async run<T>(fn: (tx: InboxTx) => Promise<T>): Promise<T> {
    this.count += 1;
    const before = snapshot(this.t);
    try {
      const result = await fn({
        conversations: new MemoryConversations(this.t),
        messages: new MemoryMessages(this.t),
        media: new MemoryMedia(this.t),
        marketing: {
          // The inbound pipeline queues no greeting, away message or campaign in this tier.
          async claimAutomatedSend() {
            return true;
          },
          async advanceCampaign() {
            return true;
          },
          async insertRecipients() {},
        },
        reportFacts: { record: async (facts) => void this.t.reportFacts.push(...facts) },
        csat: {
          insert: async (survey) => void this.t.csatSurveys.set(survey.id, clone(survey)),
          take: async (id, to) => {
            const survey = this.t.csatSurveys.get(id);
            if (!survey || survey.channelId !== to.channelId || survey.contactId !== to.contactId) return undefined;
            this.t.csatSurveys.delete(id);
            return survey;
          },
          deleteSentBefore: async (cutoff) => {
            let n = 0;
            for (const [id, survey] of this.t.csatSurveys)
              if (survey.sentAt < cutoff && this.t.csatSurveys.delete(id)) n++;
            return n;
          },
        },
        enqueue: async (queue, payload, opts) => {
          const dedupeKey = opts?.dedupeKey;
          if (dedupeKey === undefined || !this.t.jobs.some((j) => j.dedupeKey === dedupeKey)) {
            this.t.jobs.push({ queue, payload, dedupeKey });
          }
          return newId();
        },
        enqueueMany: async (jobs) => {
          for (const { queue, payload, dedupeKey } of jobs) {
            if (dedupeKey === undefined || !this.t.jobs.some((j) => j.dedupeKey === dedupeKey)) {
              this.t.jobs.push({ queue, payload, dedupeKey });
            }
          }
        },
      });
      if (this.failNext > 0) {
        this.failNext -= 1;
        throw Object.assign(new Error('database unavailable'), { code: 'STORE_UNAVAILABLE' });
      }
      return result;
    } catch (error) {
      restore(this.t, before);
      throw error;
    }
  }
}

/** Contacts by channel and address (in memory only; the SQL directory keeps a keyed hash and sealed address). */
export class MemoryContacts {
  readonly byId = new Map<string, ContactRecord & { address: string }>();
  #seq = 0;

  /** Nothing to read ahead in memory: findOrCreateMany looks each address up anyway. */
  async readMany(): Promise<ContactsRead> {
    return { epoch: undefined, hashes: new Map(), found: new Map() };
  }

  async findOrCreateMany(
    inputs: readonly { inboxId: string; channelId: string; channelKind: string; address: string }[],
  ): Promise<{ contact: ContactRecord; created: boolean }[]> {
    const out: { contact: ContactRecord; created: boolean }[] = [];
    for (const input of inputs) out.push(await this.findOrCreate(input));
    return out;
  }

  async findOrCreate(input: {
    inboxId: string;
    channelId: string;
    channelKind: string;
    address: string;
  }): Promise<{ contact: ContactRecord; created: boolean }> {
    const found = await this.findByAddress(input.channelId, input.channelKind, input.address);
    if (found) return { contact: found, created: false };
    const contact = {
      id: newId(),
      channel_id: input.channelId,
      inbox_id: input.inboxId,
      lookup_hash: createHash('sha256').update(`${input.channelId}:${input.address}`).digest('hex'),
      label_seq: ++this.#seq,
      address_enc: new Uint8Array(),
      profile_name_enc: null,
      created_at: 0,
      last_inbound_at: null,
      address: input.address,
    };
    this.byId.set(contact.id, contact);
    return { contact, created: true };
  }
  async findByAddress(channelId: string, _kind: string, address: string): Promise<ContactRecord | undefined> {
    return [...this.byId.values()].find((c) => c.channel_id === channelId && c.address === address);
  }
  async updateAddress(contact: ContactRecord, newAddress: string): Promise<void> {
    const row = this.byId.get(contact.id);
    if (row) row.address = newAddress;
  }
}

/** The consent ledger: grants and withdrawals per contact and purpose, newest last. */
export class MemoryConsent {
  readonly events: { contactId: string; purpose: string; action: 'grant' | 'withdraw'; method: string }[] = [];
  async grant(input: { contactId: string; purpose: 'service' | 'marketing'; method: string }): Promise<void> {
    this.events.push({ contactId: input.contactId, purpose: input.purpose, action: 'grant', method: input.method });
  }
  async withdraw(input: { contactId: string; purpose: 'service' | 'marketing'; method: string }): Promise<void> {
    this.events.push({ contactId: input.contactId, purpose: input.purpose, action: 'withdraw', method: input.method });
  }
  async status(contactId: string, purpose: 'service' | 'marketing'): Promise<{ allowed: boolean; reason: string }> {
    const last = this.events.filter((e) => e.contactId === contactId && e.purpose === purpose).at(-1);
    return last?.action === 'grant' ? { allowed: true, reason: 'granted' } : { allowed: false, reason: 'none' };
  }
}

/** A channel that records what it was asked to send. */
export function memoryChannel(
  id: string,
  inboxId: string,
  capabilities: Partial<ChannelCapabilities> = {},
): Channel & { sent: OutboundCommand[] } {
  const sent: OutboundCommand[] = [];
  return {
    id,
    kind: 'whatsapp-cloud',
    inboxId,
    capabilities: {
      messagingWindowHours: 24,
      supportsButtons: true,
      supportsLists: true,
      supportsTemplates: true,
      supportsReadReceipts: true,
      messagesPerSecond: 80,
      maxTextChars: 4096,
      maxMediaBytes: 16 * 1024 * 1024,
      supportsOutboundMedia: true,
      maxOutboundMediaBytes: NO_OUTBOUND_MEDIA,
      ...capabilities,
    },
    sent,
    verifyAndParse: () => {
      throw new Error('not a webhook channel');
    },
    async send(command: OutboundCommand): Promise<SendResult> {
      sent.push(command);
      return { providerMessageId: `wamid.OUT${sent.length}` };
    },
    downloadMedia: () => Promise.reject(new Error('no media in memory')),
  };
}

export const INBOX_ID = 'service';
export const CHANNEL_ID = 'wa-main';

/** Everything an in-memory inbound pipeline consists of, with the deps to build an InboundProcessor from. */
export interface MemoryInbox {
  deps: InboxDeps;
  tables: MemoryTables;
  transactions: MemoryTransactions;
  contacts: MemoryContacts;
  consent: MemoryConsent;
  channel: ReturnType<typeof memoryChannel>;
  clock: ManualClock;
  published: InboxEvent[];
  audit: { action: string; targetId?: string | undefined; details?: Record<string, unknown> | undefined }[];
  erased: { conversations: string[]; contacts: string[] };
  settings: InboxSettings;
  /** The decrypted content of a message. */
  content(message: MessageRecord): MessageContent;
}

export function memoryInbox(options: { settings?: Partial<InboxSettings> } = {}): MemoryInbox {
  const tables: MemoryTables = {
    conversations: new Map(),
    messages: new Map(),
    media: new Map(),
    parked: new Map(),
    jobs: [],
    reportFacts: [],
    csatSurveys: new Map(),
  };
  const transactions = new MemoryTransactions(tables);
  const contacts = new MemoryContacts();
  const consent = new MemoryConsent();
  const channel = memoryChannel(CHANNEL_ID, INBOX_ID);
  const clock = new ManualClock(new Date('2026-12-01T09:00:00Z'));
  const events = new LocalInboxEventBus();
  const published: InboxEvent[] = [];
  events.subscribe((e) => published.push(e));
  const audit: MemoryInbox['audit'] = [];
  const erased = { conversations: [] as string[], contacts: [] as string[] };
  const keys = new Map<string, DataKey>();
  const settings: InboxSettings = {
    id: INBOX_ID,
    labelPrefix: 'Anfrage',
    language: 'de',
    retention: { consentTimeoutHours: 24, autoCloseAfterDays: 14, eraseAfterCloseDays: 0 },
    media: 'strip',
    stopKeywords: ['STOP'],
    team: INBOX_ID,
    csat: { enabled: false },
    ...options.settings,
  };
  const conversations = new MemoryConversations(tables);
  const eraseConversation = (id: string) => {
    tables.conversations.delete(id);
    for (const [mid, m] of tables.messages) if (m.conversation_id === id) tables.messages.delete(mid);
    for (const [fid, f] of tables.media) if (f.conversation_id === id) tables.media.delete(fid);
    for (const [sid, q] of tables.csatSurveys) if (q.conversationId === id) tables.csatSurveys.delete(sid);
    keys.delete(id);
    erased.conversations.push(id);
  };
  const deps: InboxDeps = {
    outbox: undefined as unknown as Outbox,
    clock,
    logger: createLogger({ level: 'silent' }),
    transactions,
    reportFacts: { record: async (facts) => void tables.reportFacts.push(...facts) },
    conversations,
    messages: new MemoryMessages(tables),
    media: new MemoryMedia(tables),
    contacts,
    consent,
    erasure: {
      async eraseConversation(id) {
        eraseConversation(id);
      },
      async eraseContact(id) {
        for (const c of [...tables.conversations.values()]) if (c.contact_id === id) eraseConversation(c.id);
        consent.events.splice(0, consent.events.length, ...consent.events.filter((e) => e.contactId !== id));
        contacts.byId.delete(id);
        erased.contacts.push(id);
      },
      async eraseContactIfOrphan(id) {
        const used =
          [...tables.conversations.values()].some((c) => c.contact_id === id) ||
          consent.events.some((e) => e.contactId === id);
        if (!used) {
          contacts.byId.delete(id);
          erased.contacts.push(id);
        }
      },
    },
    audit: {
      async append(entry) {
        audit.push({ action: entry.action, targetId: entry.targetId, details: entry.details });
      },
    },
    keys: {
      async dataKeyFor(ownerType, ownerId) {
        let key = keys.get(ownerId);
        if (!key) {
          key = { id: newId(), ownerType, ownerId, key: randomBytes(32) };
          keys.set(ownerId, key);
        }
        return key as ConversationKey;
      },
      async dataKeysFor(ownerType, ownerIds) {
        const out = new Map<string, ConversationKey>();
        for (const id of ownerIds) out.set(id, await this.dataKeyFor(ownerType, id));
        return out;
      },
      async existingDataKey(_ownerType, ownerId) {
        return keys.get(ownerId) as ConversationKey | undefined;
      },
      async destroyMany(_ownerType, ownerIds) {
        return ownerIds.filter((id) => keys.delete(id)).length;
      },
    },
    channels: { get: (id) => (id === channel.id ? channel : undefined) },
    channelState: { isEnabled: async () => true },
    staff: { findUserById: async () => undefined },
    sanitizer: {
      sanitize: async () => ({ ok: false, reason: 'no sanitizer in memory' }),
    },
    events,
    inboxes: { get: async (id) => (id === INBOX_ID ? settings : undefined) },
    organisation: { name: 'Autohaus Beispiel', contact: 'datenschutz@autohaus.example' },
    templates: () => [],
    noticeVersion,
    formatLabel,
    directSendTimeoutMs: 500,
  };
  deps.outbox = new Outbox({ clock, transactions, keys: deps.keys });
  return {
    deps,
    tables,
    transactions,
    contacts,
    consent,
    channel,
    clock,
    published,
    audit,
    erased,
    settings,
    content(message) {
      const key = keys.get(message.conversation_id);
      if (!key || !message.body_enc) return {};
      return openMessageContent(key as ConversationKey, message.id, message.body_enc);
    },
  };
}
