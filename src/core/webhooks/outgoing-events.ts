import type { WebhookEventType } from '../ports/webhook.port.ts';

/** Content-free facts an event may carry besides its ids (a status, a count, a staff id, a reason code). */
export type OutgoingEventDetails = Record<string, string | number | boolean | null>;

/**
 * A domain event for outgoing webhooks, raised by the core where the thing happened (after its commit). Ids,
 * the pseudonym label and content-free details only: it is stored in the delivery job's payload. Message text is never
 * part of it; an endpoint allowed to receive content reads the sealed message when it is delivered.
 */
export interface OutgoingEvent {
  type: WebhookEventType;
  occurredAt: number;
  /** The channel it happened on; the inbox and the channel kind are looked up from it when not given. */
  channelId?: string | undefined;
  inboxId?: string | undefined;
  conversationId?: string | undefined;
  messageId?: string | undefined;
  contactId?: string | undefined;
  /** The conversation's pseudonym ("Anfrage 42"). */
  label?: string | null | undefined;
  details?: OutgoingEventDetails | undefined;
}

/**
 * Where the core hands its events to outgoing webhooks (core/webhooks/webhook.service.ts implements it). emit()
 * never throws: a webhook problem must not fail the inbox work that raised the event.
 */
export interface OutgoingEventSink {
  emit(event: OutgoingEvent): Promise<void>;
}

/** The sink when no endpoint is wired (unit tests, one-shot CLI commands). */
export const NO_OUTGOING_EVENTS: OutgoingEventSink = { emit: () => Promise.resolve() };
