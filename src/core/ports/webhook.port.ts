import type { Millis } from './model.ts';

/** The events an outgoing webhook endpoint can subscribe to (Standard Webhooks `type`), in the order shown. */
export const WEBHOOK_EVENT_TYPES = [
  'conversation.opened',
  'conversation.assigned',
  'conversation.closed',
  'conversation.erased',
  'message.received',
  'message.sent',
  'message.failed',
  'consent.given',
  'consent.withdrawn',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Art. 6(1) GDPR: the legal basis an admin records before message text may leave sparsam through an endpoint. */
export const LEGAL_BASES = ['art6-1a', 'art6-1b', 'art6-1c', 'art6-1d', 'art6-1e', 'art6-1f'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** An outgoing webhook endpoint as the core sees it. The signing secrets stay sealed here. */
export interface WebhookEndpointRecord {
  id: string;
  name: string;
  url: string;
  /** Only events of this inbox; null = every inbox. */
  inbox_id: string | null;
  events: WebhookEventType[];
  /** 'paused' by an admin or after persistent failure: no new deliveries until resumed. */
  state: 'active' | 'paused';
  /** 'admin' or 'failures' while paused; null while active. */
  paused_reason: 'admin' | 'failures' | null;
  paused_at: Millis | null;
  /** Loopback, private and link-local targets (and plain http) are allowed: an on-premise receiver. */
  allow_private_target: boolean;
  /** Message text is sent with message events (needs a legal basis). */
  include_content: boolean;
  legal_basis: LegalBasis | null;
  legal_basis_note: string | null;
  /** The signing secret (`whsec_…`), sealed. */
  secret_enc: Uint8Array;
  /** The secret before the last rotation, still signing beside the new one until `previous_secret_until`. */
  previous_secret_enc: Uint8Array | null;
  previous_secret_until: Millis | null;
  /** Start of the current run of failed attempts (null after a success). */
  failing_since: Millis | null;
  consecutive_failures: number;
  last_success_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

export type WebhookDeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';

/** One event's delivery to one endpoint: what the log shows. Never the payload. */
export interface WebhookDeliveryRecord {
  id: string;
  endpoint_id: string;
  /** The Standard Webhooks message id (`webhook-id`), the same for every attempt. */
  event_id: string;
  event_type: string;
  state: WebhookDeliveryState;
  attempts: number;
  /** HTTP status of the last attempt; null when no answer came (refused target, timeout, network). */
  status_code: number | null;
  duration_ms: number | null;
  /** Content-free reason of the last failure ("timeout", "redirect not followed", "private target"). */
  error: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** The endpoints and their delivery log (store/sql/webhook.store.ts). */
export interface WebhookPort {
  list(): Promise<WebhookEndpointRecord[]>;
  get(id: string): Promise<WebhookEndpointRecord | undefined>;
  insert(row: WebhookEndpointRecord): Promise<void>;
  update(id: string, patch: Partial<Omit<WebhookEndpointRecord, 'id' | 'created_at'>>): Promise<void>;
  /** Deletes the endpoint with its delivery log. */
  delete(id: string): Promise<boolean>;
  /**
   * Counts a failed attempt: sets `failing_since` if unset and increments `consecutive_failures`; returns the row
   * after the change.
   */
  recordFailure(id: string, now: Millis): Promise<WebhookEndpointRecord | undefined>;
  /** A success: clears the failure run. */
  recordSuccess(id: string, now: Millis): Promise<void>;
  /** Inserts the delivery row unless one exists for (endpoint, event); returns the row. */
  openDelivery(row: WebhookDeliveryRecord): Promise<WebhookDeliveryRecord>;
  updateDelivery(id: string, patch: Partial<Omit<WebhookDeliveryRecord, 'id' | 'endpoint_id'>>): Promise<void>;
  deliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
  /** Deletes log rows last changed before `before`; returns how many. */
  pruneDeliveries(before: Millis): Promise<number>;
}
