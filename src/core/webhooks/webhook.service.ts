import { createHash } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AuditPort } from '../inbox/inbox.ports.ts';
import {
  LEGAL_BASES,
  WEBHOOK_EVENT_TYPES,
  type LegalBasis,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
  type WebhookEventType,
  type WebhookPort,
} from '../ports/webhook.port.ts';
import type { OutgoingEvent, OutgoingEventDetails, OutgoingEventSink } from './outgoing-events.ts';
import { newWebhookSecret, signWebhook } from './webhook-signature.ts';

/** Queue name of outgoing webhook deliveries. Payload: {@link WebhookJobPayload}. */
export const WEBHOOK_DELIVERY = 'webhook-delivery';

/** The job payload of one event's delivery to one endpoint: ids, the label and content-free details only. */
export type WebhookJobPayload = Record<string, string | number | boolean | null> & {
  endpointId: string;
  eventId: string;
  type: string;
  occurredAt: number;
  /** JSON of the event's content-free data ({@link WebhookEventData} without text). */
  data: string;
};

/** The `data` of a payload: the event's ids and facts; `text` only for an endpoint allowed to receive content. */
export type WebhookEventData = Record<string, string | number | boolean | null>;

/** What a delivery attempt came to. `status` is absent when no HTTP answer came. */
export interface WebhookAttemptResult {
  status?: number | undefined;
  /** Content-free: 'timeout', 'private target', 'redirect not followed', 'network error (ECONNREFUSED)'. */
  error?: string | undefined;
  durationMs: number;
}

/** POSTs a signed body; refuses internal targets unless allowed; never follows a redirect (jobs/webhook-transport.ts). */
export interface WebhookTransport {
  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    options: { allowPrivateTarget: boolean },
  ): Promise<WebhookAttemptResult>;
}

/** Enqueues delivery jobs (the job queue, seen narrowly). */
export interface WebhookJobQueue {
  enqueue(
    queue: string,
    payload: WebhookJobPayload,
    options: { dedupeKey?: string; maxAttempts?: number; runAt?: number },
  ): Promise<string>;
}

/** Seals and opens the signing secrets (SecretBox under a purpose of its own). */
export interface SecretSealer {
  seal(plaintext: string, aad: string): Uint8Array;
  open(sealed: Uint8Array, aad: string): string;
}

export interface WebhookServiceDeps {
  port: WebhookPort;
  box: SecretSealer;
  clock: Clock;
  audit: AuditPort;
  jobs: WebhookJobQueue;
  transport: WebhookTransport;
  /** The inbox and kind of a channel (for filtering by inbox and for `channelKind`). */
  channelInfo(channelId: string): Promise<{ inboxId: string; kind: string } | undefined>;
  /** The pseudonym label of a conversation ("Anfrage 42"), for events raised without one. */
  conversationLabel?(conversationId: string): Promise<string | undefined>;
  /** The inboxes an endpoint may be limited to. */
  inboxIds(): Promise<string[]>;
  /** The text of a message (opened with its conversation's key); undefined when it is gone or has none. */
  messageText(messageId: string): Promise<string | undefined>;
  logger?: Logger | undefined;
  options?: Partial<WebhookPolicy> | undefined;
}

/** Retry and pause policy. */
export interface WebhookPolicy {
  /**
   * Waits before the 2nd, 3rd, … attempt. Default after the Standard Webhooks spec's example schedule: 5 s, 5 min,
   * 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts over about 27.5 hours); each ±10 % jitter.
   */
  retryDelaysMs: readonly number[];
  /** An endpoint failing for this long … (24 h) */
  pauseAfterMs: number;
  /** … with at least this many failed attempts in a row is paused (8). */
  pauseAfterFailures: number;
  /** The previous secret keeps signing this long after a rotation (24 h), so receivers can switch without loss. */
  rotationOverlapMs: number;
  /** Delivery log rows are kept this long (30 days). */
  logRetentionMs: number;
}

const HOUR = 3_600_000;
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  retryDelaysMs: [5_000, 5 * 60_000, 30 * 60_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR],
  pauseAfterMs: 24 * HOUR,
  pauseAfterFailures: 8,
  rotationOverlapMs: 24 * HOUR,
  logRetentionMs: 30 * 24 * HOUR,
};

/** An endpoint as admins see it: never a secret. */
export interface WebhookEndpointView {
  id: string;
  name: string;
  url: string;
  inboxId: string | null;
  events: WebhookEventType[];
  state: 'active' | 'paused';
  pausedReason: 'admin' | 'failures' | null;
  pausedAt: number | null;
  allowPrivateTarget: boolean;
  includeContent: boolean;
  legalBasis: LegalBasis | null;
  legalBasisNote: string | null;
  failingSince: number | null;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  secretRotatedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookEndpointInput {
  name: string;
  url: string;
  inboxId: string | null;
  events: readonly string[];
  allowPrivateTarget: boolean;
  includeContent: boolean;
  legalBasis: string | null;
  legalBasisNote: string | null;
}

/** The event of a manual test send ("Test senden"); not subscribable. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** How long emit() trusts its copy of the endpoint list (a change on another instance shows within this). */
const ENDPOINT_CACHE_MS = 5_000;
const CHANNEL_CACHE_MS = 60_000;

const MESSAGE_EVENTS = new Set<string>(['message.received', 'message.sent', 'message.failed']);

function view(e: WebhookEndpointRecord, now: number): WebhookEndpointView {
  return {
    id: e.id,
    name: e.name,
    url: e.url,
    inboxId: e.inbox_id,
    events: e.events,
    state: e.state,
    pausedReason: e.paused_reason,
    pausedAt: e.paused_at,
    allowPrivateTarget: e.allow_private_target,
    includeContent: e.include_content,
    legalBasis: e.legal_basis,
    legalBasisNote: e.legal_basis_note,
    failingSince: e.failing_since,
    consecutiveFailures: e.consecutive_failures,
    lastSuccessAt: e.last_success_at,
    secretRotatedUntil:
      e.previous_secret_until !== null && e.previous_secret_until > now ? e.previous_secret_until : null,
    createdAt: e.created_at,
    updatedAt: e.updated_at,
  };
}

/**
 * Outgoing webhooks: admins register endpoints per inbox (or for all) with the events they want; the core's events
 * ({@link OutgoingEventSink.emit}) become one durable 'webhook-delivery' job per subscribed endpoint; each attempt is
 * signed in the Standard Webhooks format and logged (status, attempts, duration; never the payload).
 *
 * Privacy: payloads are content-free (ids, inbox, channel kind, pseudonym label, counts, times). Message text is
 * added only for an endpoint whose admin enabled it and recorded the Art. 6 legal basis (audited), and it is read
 * from the sealed message at delivery time, so an erased conversation's text is never sent afterwards.
 *
 * Failure: retries follow {@link WebhookPolicy.retryDelaysMs}; an endpoint failing for 24 h with 8 failed attempts
 * in a row is paused with an audit entry (the admin screen shows a banner) until an admin resumes it.
 */
export class WebhookService implements OutgoingEventSink {
  readonly #deps: WebhookServiceDeps;
  readonly policy: WebhookPolicy;
  /**
   * The endpoints, cached for a few seconds: emit() runs on the inbox's hot path (every stored message) and must not
   * add a query per event. Changes made here drop the cache at once; another instance's changes show within the TTL.
   */
  #endpoints: { at: number; rows: Promise<WebhookEndpointRecord[]> } | undefined;
  readonly #channels = new Map<string, { at: number; info: Promise<{ inboxId: string; kind: string } | undefined> }>();

  constructor(deps: WebhookServiceDeps) {
    this.#deps = deps;
    this.policy = { ...DEFAULT_WEBHOOK_POLICY, ...deps.options };
  }

  #now(): number {
    return this.#deps.clock.now().getTime();
  }

  // ------------------------------------------------------------------------------------------------ admin

  async list(): Promise<WebhookEndpointView[]> {
    const now = this.#now();
    return (await this.#deps.port.list()).map((e) => view(e, now));
  }

  async get(id: string): Promise<WebhookEndpointView> {
    return view(await this.#require(id), this.#now());
  }

  /** Creates an endpoint and returns it with its signing secret, which is shown this once. */
  async create(input: WebhookEndpointInput, actor: string): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const checked = await this.#check(input);
    const now = this.#now();
    const id = newId();
    const secret = newWebhookSecret();
    const row: WebhookEndpointRecord = {
      id,
      name: checked.name,
      url: checked.url,
      inbox_id: checked.inboxId,
      events: checked.events,
      state: 'active',
      paused_reason: null,
      paused_at: null,
      allow_private_target: checked.allowPrivateTarget,
      include_content: checked.includeContent,
      legal_basis: checked.legalBasis,
      legal_basis_note: checked.legalBasisNote,
      secret_enc: this.#deps.box.seal(secret, aad(id)),
      previous_secret_enc: null,
      previous_secret_until: null,
      failing_since: null,
      consecutive_failures: 0,
      last_success_at: null,
      created_at: now,
      updated_at: now,
    };
    await this.#deps.port.insert(row);
    this.#changed();
    await this.#audit(actor, 'webhook_endpoint.created', id, {
      target: hostOf(row.url),
      inbox: row.inbox_id,
      events: row.events.join(' '),
      privateTarget: row.allow_private_target,
    });
    if (row.include_content) await this.#auditContent(actor, row, true);
    return { endpoint: view(row, now), secret };
  }

  async update(id: string, input: WebhookEndpointInput, actor: string): Promise<WebhookEndpointView> {
    const before = await this.#require(id);
    const checked = await this.#check(input);
    const now = this.#now();
    const patch = {
      name: checked.name,
      url: checked.url,
      inbox_id: checked.inboxId,
      events: checked.events,
      allow_private_target: checked.allowPrivateTarget,
      include_content: checked.includeContent,
      legal_basis: checked.legalBasis,
      legal_basis_note: checked.legalBasisNote,
      updated_at: now,
    };
    await this.#deps.port.update(id, patch);
    this.#changed();
    const after = { ...before, ...patch };
    await this.#audit(actor, 'webhook_endpoint.updated', id, {
      target: hostOf(after.url),
      inbox: after.inbox_id,
      events: after.events.join(' '),
      privateTarget: after.allow_private_target,
    });
    const contentChanged =
      before.include_content !== after.include_content ||
      (after.include_content &&
        (before.legal_basis !== after.legal_basis || before.legal_basis_note !== after.legal_basis_note));
    if (contentChanged) await this.#auditContent(actor, after, after.include_content);
    return view(after, now);
  }

  async delete(id: string, actor: string): Promise<void> {
    const row = await this.#require(id);
    await this.#deps.port.delete(id);
    this.#changed();
    await this.#audit(actor, 'webhook_endpoint.deleted', id, { target: hostOf(row.url) });
  }

  /**
   * A new signing secret, shown this once. The previous one keeps signing beside it (a second `v1,` signature) for
   * {@link WebhookPolicy.rotationOverlapMs}, so a receiver can switch without rejecting deliveries meanwhile.
   */
  async rotateSecret(id: string, actor: string): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const row = await this.#require(id);
    const now = this.#now();
    const secret = newWebhookSecret();
    const patch = {
      secret_enc: this.#deps.box.seal(secret, aad(id)),
      previous_secret_enc: row.secret_enc,
      previous_secret_until: now + this.policy.rotationOverlapMs,
      updated_at: now,
    };
    await this.#deps.port.update(id, patch);
    this.#changed();
    await this.#audit(actor, 'webhook_endpoint.secret-rotated', id, { target: hostOf(row.url) });
    return { endpoint: view({ ...row, ...patch }, now), secret };
  }

  async pause(id: string, actor: string): Promise<WebhookEndpointView> {
    const row = await this.#require(id);
    const now = this.#now();
    const patch = { state: 'paused' as const, paused_reason: 'admin' as const, paused_at: now, updated_at: now };
    await this.#deps.port.update(id, patch);
    this.#changed();
    await this.#audit(actor, 'webhook_endpoint.paused', id, { target: hostOf(row.url), reason: 'admin' });
    return view({ ...row, ...patch }, now);
  }

  /** Resumes a paused endpoint; its failure run starts afresh. Deliveries missed while paused are not replayed. */
  async resume(id: string, actor: string): Promise<WebhookEndpointView> {
    const row = await this.#require(id);
    const now = this.#now();
    const patch = {
      state: 'active' as const,
      paused_reason: null,
      paused_at: null,
      failing_since: null,
      consecutive_failures: 0,
      updated_at: now,
    };
    await this.#deps.port.update(id, patch);
    this.#changed();
    await this.#audit(actor, 'webhook_endpoint.resumed', id, { target: hostOf(row.url) });
    return view({ ...row, ...patch }, now);
  }

  /**
   * Sends a signed `webhook.test` event at once (also to a paused endpoint) and answers with the outcome; logged like
   * any delivery, but it neither counts towards pausing nor resumes.
   */
  async test(id: string, actor: string): Promise<WebhookDeliveryView> {
    const row = await this.#require(id);
    const now = this.#now();
    const eventId = `msg_${newId().replaceAll('-', '')}`;
    const delivery = await this.#deps.port.openDelivery({
      id: newId(),
      endpoint_id: id,
      event_id: eventId,
      event_type: TEST_EVENT_TYPE,
      state: 'pending',
      attempts: 0,
      status_code: null,
      duration_ms: null,
      error: null,
      created_at: now,
      updated_at: now,
    });
    const body = JSON.stringify({
      type: TEST_EVENT_TYPE,
      timestamp: new Date(now).toISOString(),
      data: { endpointId: id, inboxId: row.inbox_id },
    });
    const result = await this.#attempt(row, eventId, body);
    const ok = isSuccess(result);
    const patch = {
      state: ok ? ('delivered' as const) : ('failed' as const),
      attempts: 1,
      status_code: result.status ?? null,
      duration_ms: result.durationMs,
      error: ok ? null : describe(result),
      updated_at: this.#now(),
    };
    await this.#deps.port.updateDelivery(delivery.id, patch);
    await this.#audit(actor, 'webhook_endpoint.test-sent', id, {
      target: hostOf(row.url),
      status: result.status ?? null,
      ok,
    });
    return deliveryView({ ...delivery, ...patch });
  }

  async deliveries(id: string, limit = 100): Promise<WebhookDeliveryView[]> {
    await this.#require(id);
    return (await this.#deps.port.deliveries(id, Math.min(Math.max(limit, 1), 500))).map(deliveryView);
  }

  /** Endpoints paused after persistent failure, for the admin screen's banner. */
  async pausedByFailures(): Promise<WebhookEndpointView[]> {
    return (await this.list()).filter((e) => e.state === 'paused' && e.pausedReason === 'failures');
  }

  // ------------------------------------------------------------------------------------------------ events

  /** Fans an event out to the subscribed active endpoints: one durable delivery job each. Never throws. */
  async emit(event: OutgoingEvent): Promise<void> {
    try {
      const active = (await this.#cachedEndpoints()).filter(
        (e) => e.state === 'active' && e.events.includes(event.type),
      );
      if (active.length === 0) return;
      const channel = event.channelId ? await this.#channelInfo(event.channelId) : undefined;
      const inboxId = event.inboxId ?? channel?.inboxId ?? null;
      const endpoints = active.filter((e) => e.inbox_id === null || e.inbox_id === inboxId);
      if (endpoints.length === 0) return;
      const label =
        event.label ??
        (event.conversationId ? await this.#deps.conversationLabel?.(event.conversationId) : undefined) ??
        null;
      const data: WebhookEventData = {
        inboxId,
        channelId: event.channelId ?? null,
        channelKind: channel?.kind ?? null,
        conversationId: event.conversationId ?? null,
        ...(event.messageId !== undefined ? { messageId: event.messageId } : {}),
        ...(event.contactId !== undefined ? { contactId: event.contactId } : {}),
        label,
        ...cleanDetails(event.details),
      };
      const eventId = `msg_${newId().replaceAll('-', '')}`;
      for (const endpoint of endpoints) {
        await this.#deps.jobs.enqueue(
          WEBHOOK_DELIVERY,
          {
            endpointId: endpoint.id,
            eventId,
            type: event.type,
            occurredAt: event.occurredAt,
            data: JSON.stringify(data),
          },
          {
            dedupeKey: `${WEBHOOK_DELIVERY}:${endpoint.id}:${eventId}`,
            maxAttempts: this.policy.retryDelaysMs.length + 1,
          },
        );
      }
    } catch (error) {
      this.#deps.logger?.warn(
        { type: event.type, err: error instanceof Error ? error.name : 'unknown' },
        'outgoing webhook event not queued',
      );
    }
  }

  /**
   * One attempt of a delivery job. Returns `{ retryInMs }` when the attempt failed and another follows; returns
   * nothing when the delivery is finished (delivered, failed for good, or dropped because the endpoint is paused or
   * gone). The caller (jobs/webhook-delivery.job.ts) turns `retryInMs` into the queue's RetryLater.
   */
  async deliver(payload: WebhookJobPayload, attempt: number): Promise<{ retryInMs: number } | undefined> {
    const endpoint = await this.#deps.port.get(payload.endpointId);
    if (!endpoint) return undefined;
    const now = this.#now();
    const delivery = await this.#deps.port.openDelivery({
      id: newId(),
      endpoint_id: endpoint.id,
      event_id: payload.eventId,
      event_type: payload.type,
      state: 'pending',
      attempts: 0,
      status_code: null,
      duration_ms: null,
      error: null,
      created_at: now,
      updated_at: now,
    });
    if (delivery.state === 'delivered' || delivery.state === 'failed') return undefined;
    if (endpoint.state === 'paused') {
      await this.#deps.port.updateDelivery(delivery.id, { state: 'failed', error: 'endpoint paused', updated_at: now });
      return undefined;
    }
    const body = await this.#body(endpoint, payload);
    const result = await this.#attempt(endpoint, payload.eventId, body);
    const done = this.#now();
    if (isSuccess(result)) {
      await this.#deps.port.updateDelivery(delivery.id, {
        state: 'delivered',
        attempts: attempt,
        status_code: result.status ?? null,
        duration_ms: result.durationMs,
        error: null,
        updated_at: done,
      });
      await this.#deps.port.recordSuccess(endpoint.id, done);
      return undefined;
    }
    const failed = await this.#deps.port.recordFailure(endpoint.id, done);
    const persistent =
      failed !== undefined &&
      failed.state === 'active' &&
      failed.failing_since !== null &&
      done - failed.failing_since >= this.policy.pauseAfterMs &&
      failed.consecutive_failures >= this.policy.pauseAfterFailures;
    const last = attempt > this.policy.retryDelaysMs.length;
    const finished = persistent || last;
    await this.#deps.port.updateDelivery(delivery.id, {
      state: finished ? 'failed' : 'retrying',
      attempts: attempt,
      status_code: result.status ?? null,
      duration_ms: result.durationMs,
      error: describe(result),
      updated_at: done,
    });
    if (persistent) await this.#pauseForFailures(failed, done);
    if (finished) return undefined;
    const base = this.policy.retryDelaysMs[attempt - 1] ?? 0;
    return { retryInMs: Math.round(base * (0.9 + Math.random() * 0.2)) };
  }

  /** Deletes delivery log rows older than the retention. */
  async pruneLog(): Promise<number> {
    return this.#deps.port.pruneDeliveries(this.#now() - this.policy.logRetentionMs);
  }

  // ------------------------------------------------------------------------------------------------ inside

  #cachedEndpoints(): Promise<WebhookEndpointRecord[]> {
    const now = Date.now();
    if (!this.#endpoints || now - this.#endpoints.at > ENDPOINT_CACHE_MS) {
      const rows = this.#deps.port.list();
      this.#endpoints = { at: now, rows };
      rows.catch(() => {
        this.#endpoints = undefined;
      });
    }
    return this.#endpoints.rows;
  }

  #channelInfo(channelId: string): Promise<{ inboxId: string; kind: string } | undefined> {
    const now = Date.now();
    const hit = this.#channels.get(channelId);
    if (hit && now - hit.at <= CHANNEL_CACHE_MS) return hit.info;
    const info = this.#deps.channelInfo(channelId);
    this.#channels.set(channelId, { at: now, info });
    info.catch(() => this.#channels.delete(channelId));
    return info;
  }

  /** Drops the endpoint cache (after a change made through this service). */
  #changed(): void {
    this.#endpoints = undefined;
  }

  async #pauseForFailures(endpoint: WebhookEndpointRecord, now: number): Promise<void> {
    await this.#deps.port.update(endpoint.id, {
      state: 'paused',
      paused_reason: 'failures',
      paused_at: now,
      updated_at: now,
    });
    this.#changed();
    await this.#audit('system', 'webhook_endpoint.paused', endpoint.id, {
      target: hostOf(endpoint.url),
      reason: 'failures',
      failures: endpoint.consecutive_failures,
      failingSince: endpoint.failing_since,
    });
    this.#deps.logger?.warn(
      { endpointId: endpoint.id, failures: endpoint.consecutive_failures },
      'outgoing webhook endpoint paused after persistent failure',
    );
  }

  async #body(endpoint: WebhookEndpointRecord, payload: WebhookJobPayload): Promise<string> {
    let data: WebhookEventData = {};
    try {
      data = JSON.parse(payload.data) as WebhookEventData;
    } catch {
      // Only enqueue() writes the payload: JSON by construction.
    }
    if (
      endpoint.include_content &&
      endpoint.legal_basis !== null &&
      MESSAGE_EVENTS.has(payload.type) &&
      typeof data.messageId === 'string'
    ) {
      data = { ...data, text: (await this.#deps.messageText(data.messageId)) ?? null };
    }
    return JSON.stringify({ type: payload.type, timestamp: new Date(payload.occurredAt).toISOString(), data });
  }

  async #attempt(endpoint: WebhookEndpointRecord, eventId: string, body: string): Promise<WebhookAttemptResult> {
    const now = this.#now();
    const secrets = [this.#deps.box.open(endpoint.secret_enc, aad(endpoint.id))];
    if (
      endpoint.previous_secret_enc &&
      endpoint.previous_secret_until !== null &&
      endpoint.previous_secret_until > now
    ) {
      secrets.push(this.#deps.box.open(endpoint.previous_secret_enc, aad(endpoint.id)));
    }
    const timestamp = Math.floor(now / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'sparsam-webhooks/1',
      'webhook-id': eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secrets, eventId, timestamp, body),
    };
    return this.#deps.transport.post(endpoint.url, headers, body, {
      allowPrivateTarget: endpoint.allow_private_target,
    });
  }

  async #require(id: string): Promise<WebhookEndpointRecord> {
    const row = await this.#deps.port.get(id);
    if (!row) throw new AppError('NOT_FOUND', 'no such webhook endpoint');
    return row;
  }

  async #check(input: WebhookEndpointInput) {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 80) {
      throw new AppError('VALIDATION', 'name: 1 to 80 characters, e.g. "n8n Ticketing"', { field: 'name' });
    }
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new AppError('VALIDATION', 'url: an absolute URL, e.g. https://n8n.example.org/webhook/sparsam', {
        field: 'url',
      });
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && input.allowPrivateTarget)) {
      throw new AppError(
        'VALIDATION',
        'url: must start with https:// (plain http only for an on-premise target, with "allow private target" set)',
        { field: 'url' },
      );
    }
    if (url.username || url.password) {
      throw new AppError('VALIDATION', 'url: no user name or password in the URL; the signature authenticates', {
        field: 'url',
      });
    }
    const events = [...new Set(input.events)];
    const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
    if (events.length === 0 || unknown.length > 0) {
      throw new AppError('VALIDATION', `events: one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}`, {
        field: 'events',
      });
    }
    if (input.inboxId !== null && !(await this.#deps.inboxIds()).includes(input.inboxId)) {
      throw new AppError('VALIDATION', 'inboxId: no such inbox (null for every inbox)', { field: 'inboxId' });
    }
    const note = input.legalBasisNote?.trim() ?? '';
    if (input.legalBasis !== null && !(LEGAL_BASES as readonly string[]).includes(input.legalBasis)) {
      throw new AppError('VALIDATION', `legalBasis: one of ${LEGAL_BASES.join(', ')}`, { field: 'legalBasis' });
    }
    if (input.includeContent && (input.legalBasis === null || note.length < 10)) {
      throw new AppError(
        'VALIDATION',
        'sending message text needs the legal basis (Art. 6(1) a–f) and a note of at least 10 characters saying why',
        { field: 'legalBasis', reason: 'legal_basis_required' },
      );
    }
    if (note.length > 1000) {
      throw new AppError('VALIDATION', 'legalBasisNote: at most 1000 characters', { field: 'legalBasisNote' });
    }
    return {
      name,
      url: url.toString(),
      inboxId: input.inboxId,
      events: WEBHOOK_EVENT_TYPES.filter((t) => events.includes(t)),
      allowPrivateTarget: input.allowPrivateTarget,
      includeContent: input.includeContent,
      legalBasis: input.includeContent ? (input.legalBasis as LegalBasis) : null,
      legalBasisNote: input.includeContent ? note : null,
    };
  }

  async #auditContent(actor: string, row: WebhookEndpointRecord, enabled: boolean): Promise<void> {
    await this.#audit(
      actor,
      enabled ? 'webhook_endpoint.content-enabled' : 'webhook_endpoint.content-disabled',
      row.id,
      {
        target: hostOf(row.url),
        legalBasis: enabled ? row.legal_basis : null,
        // The admin's free-text reason stays on the endpoint; the audit entry binds it by its SHA-256 (the audit log
        // holds codes and ids only), so the record proves which statement was in force from when.
        legalBasisNoteSha256:
          enabled && row.legal_basis_note
            ? createHash('sha256').update(row.legal_basis_note, 'utf8').digest('hex')
            : null,
      },
    );
  }

  async #audit(actor: string, action: string, id: string, details: Record<string, string | number | boolean | null>) {
    await this.#deps.audit.append({ actor, action, targetType: 'webhook-endpoint', targetId: id, details });
  }
}

/** A delivery log row as admins see it. */
export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  state: WebhookDeliveryRecord['state'];
  attempts: number;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

function deliveryView(d: WebhookDeliveryRecord): WebhookDeliveryView {
  return {
    id: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    state: d.state,
    attempts: d.attempts,
    statusCode: d.status_code,
    durationMs: d.duration_ms,
    error: d.error,
    createdAt: d.created_at,
    updatedAt: d.updated_at,
  };
}

function aad(endpointId: string): string {
  return `webhook_endpoints:${endpointId}:secret`;
}

function isSuccess(result: WebhookAttemptResult): boolean {
  return result.status !== undefined && result.status >= 200 && result.status < 300;
}

function describe(result: WebhookAttemptResult): string {
  if (result.error) return result.error;
  if (result.status !== undefined && result.status >= 300 && result.status < 400) return 'redirect not followed';
  return `HTTP ${result.status ?? '?'}`;
}

/** The target's origin for the audit log (scheme, host, port; never the path or query, which may carry tokens). */
function hostOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '?';
  }
}

/** Details keep their content-free scalar values; `text` is reserved for content and dropped here. */
function cleanDetails(details: OutgoingEventDetails | undefined): OutgoingEventDetails {
  const out: OutgoingEventDetails = {};
  for (const [key, value] of Object.entries(details ?? {})) if (key !== 'text') out[key] = value;
  return out;
}
