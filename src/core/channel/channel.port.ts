import type { InteractiveList } from '../inbox/interactive-list.ts';
import type { BusinessAccountApi } from './business-account-api.port.ts';

/**
 * The port every messenger implements, declared by core. A channel knows one provider and nothing else: it verifies the provider's
 * requests, turns the provider's payload into {@link InboundEvent}s, and turns {@link OutboundCommand}s into provider
 * API calls. Core reads only these types and the capability flags; a provider's raw payload never crosses into core.
 * The implementations live in src/channels/<kind>/, one module per kind (src/channels/registry.ts).
 */

/** What a channel can do; core decides by these flags, never by the channel's kind. */
export interface ChannelCapabilities {
  /** Free-form messages are allowed only this many hours after the customer's last message (WhatsApp, Messenger: 24); null = no window. */
  messagingWindowHours: number | null;
  /** Interactive reply buttons (used for the consent notice); without them the notice asks for a keyword reply. */
  supportsButtons: boolean;
  /**
   * Interactive lists (a button that opens up to 10 rows to choose from; WhatsApp's `interactive.type: "list"`).
   * Where false, core refuses a reply with a list (VALIDATION, reason `list_unsupported`) before anything is queued.
   */
  supportsLists: boolean;
  /**
   * How many answers one question can offer: more than three where the channel shows them as a list (WhatsApp's
   * interactive list, up to 10 rows) or as a longer keyboard (Telegram). Absent: 3 with buttons, else 0. The
   * satisfaction question (five answers) is asked only where this is at least 5.
   */
  maxReplyOptions?: number;
  /** Pre-approved templates, the only thing allowed outside the window. */
  supportsTemplates: boolean;
  /** Read receipts can be sent to the customer. */
  supportsReadReceipts: boolean;
  /** Outbound messages per second allowed by the provider for one sender. */
  messagesPerSecond: number;
  /** Largest media file accepted from the provider, in bytes. */
  maxMediaBytes: number;
  /**
   * Staff can send files (OutboundCommand 'media'). Where false, core refuses an attachment before anything is
   * stored (SMS: Twilio fetches MMS from a public URL, which sparsam never hands out).
   */
  supportsOutboundMedia: boolean;
  /** Largest file sent, per media type, in bytes (the provider's limits); 0 where the channel sends no files. */
  maxOutboundMediaBytes: Readonly<Record<OutboundMediaType, number>>;
  /**
   * Longest free-text message the provider takes, in characters (Unicode code points). Core refuses a longer reply
   * with TEXT_TOO_LONG before anything is queued, so that nothing is cut or fails later at the provider.
   */
  maxTextChars: number;
}

/** The kinds of file a channel can send. */
export type OutboundMediaType = 'image' | 'document' | 'audio' | 'video';

/** The limits of a channel that sends no files. */
export const NO_OUTBOUND_MEDIA: Readonly<Record<OutboundMediaType, number>> = Object.freeze({
  image: 0,
  document: 0,
  audio: 0,
  video: 0,
});

export type InboundKind =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'voice'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'button'
  | 'reaction'
  | 'order'
  | 'unsupported';

/** A media attachment announced by the provider; fetched later by a job (the payload holds no bytes). */
export interface InboundMediaRef {
  /** Provider's media id (WhatsApp media id, Telegram file_id). */
  providerMediaId: string;
  mimeType: string | undefined;
  fileName: string | undefined;
  /** Provider's checksum as given (opaque). */
  sha256: string | undefined;
  size: number | undefined;
}

/** A message a customer sent. `address` is the provider's address of the customer (wa_id, chat id): personal data. */
export interface InboundMessage {
  type: 'message';
  channelId: string;
  providerMessageId: string;
  address: string;
  profileName: string | undefined;
  /** When the customer sent it (provider's timestamp), epoch ms. */
  sentAt: number;
  kind: InboundKind;
  /** Human-readable text: the body, caption, button title, location description, contact card summary… */
  text: string | undefined;
  /** Id of a button or list row the customer tapped (consent buttons), or a template quick-reply payload. */
  buttonId: string | undefined;
  media: InboundMediaRef | undefined;
  /** The provider message id this one replies or reacts to. */
  replyToProviderMessageId: string | undefined;
  /** Structured, still personal, details kept encrypted with the message (location, contact cards, order items). */
  extra: Record<string, unknown> | undefined;
}

/** The customer edited an earlier message. */
export interface InboundEdit {
  type: 'edit';
  channelId: string;
  providerMessageId: string;
  originalProviderMessageId: string;
  address: string;
  sentAt: number;
  text: string | undefined;
}

/** The customer deleted (revoked) an earlier message. */
export interface InboundRevoke {
  type: 'revoke';
  channelId: string;
  providerMessageId: string;
  originalProviderMessageId: string;
  address: string;
  sentAt: number;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** A delivery status of a message sparsam sent. */
export interface InboundStatus {
  type: 'status';
  channelId: string;
  providerMessageId: string;
  status: DeliveryStatus;
  at: number;
  /** For failed: the provider's code and reason, shown to the agent on the message. */
  error: { code: string; reason: string } | undefined;
  /** Pricing category when the provider reports one (old and new shapes normalised). */
  pricingCategory: string | undefined;
}

/** A system notice about the customer (changed number, identity changed); content-free apart from the type. */
export interface InboundSystem {
  type: 'system';
  channelId: string;
  providerMessageId: string | undefined;
  address: string | undefined;
  sentAt: number;
  systemType: string;
  /** The new address when the customer changed number (personal data). */
  newAddress: string | undefined;
}

/** An out-of-band error reported by the provider (not tied to one of our messages). */
export interface InboundError {
  type: 'error';
  channelId: string;
  code: string;
  reason: string;
}

export type InboundEvent = InboundMessage | InboundEdit | InboundRevoke | InboundStatus | InboundSystem | InboundError;

/**
 * Something sparsam asks the channel to send. `address` is decrypted just before the call and never stored.
 * `messageId` is sparsam's own id of the message when the send job sends a stored message (absent for the direct
 * replies before an erasure): channels that deliver from sparsam's own store (the website chat) answer with a
 * provider id derived from it.
 */
export type OutboundCommand =
  | { type: 'text'; address: string; text: string; replyToProviderMessageId?: string; messageId?: string }
  | {
      type: 'buttons';
      messageId?: string;
      address: string;
      text: string;
      /**
       * At most 3, titles at most 20 characters (WhatsApp's limits; other channels accept these too); up to
       * `capabilities.maxReplyOptions` where the channel has more.
       */
      buttons: { id: string; title: string }[];
      footer?: string;
      /** The label of the button that opens the answers where a channel shows more than 3 as a list (WhatsApp). */
      listButton?: string;
    }
  | {
      /** An interactive list (only on channels with `supportsLists`; checked against LIST_LIMITS by core). */
      type: 'list';
      messageId?: string;
      address: string;
      text: string;
      list: InteractiveList;
    }
  | {
      type: 'template';
      messageId?: string;
      address: string;
      name: string;
      language: string;
      parameters: string[];
      /** The header's value where the template has a header placeholder or file. */
      header?: { format: 'TEXT'; text: string } | { format: 'IMAGE' | 'DOCUMENT' | 'VIDEO'; link: string };
      /** Values of URL buttons with a placeholder, by the button's index. */
      buttons?: { index: number; text: string }[];
    }
  | {
      type: 'media';
      messageId?: string;
      address: string;
      mediaType: OutboundMediaType;
      data: Buffer;
      mimeType: string;
      fileName?: string;
      caption?: string;
      /**
       * A voice note recorded in the inbox (always Ogg/Opus): WhatsApp shows it as a voice message (`audio.voice`),
       * Telegram as a voice message (sendVoice); other channels send it as the audio file it is.
       */
      voice?: boolean;
    }
  | { type: 'read'; providerMessageId: string };

export interface SendResult {
  providerMessageId: string | undefined;
}

/**
 * One webhook request as the provider sent it, free of any HTTP framework: the channel verifies the signature over
 * `rawBody` (the exact bytes) and reads `body`, the same bytes parsed by their content type (JSON, or a form as an
 * object of strings).
 */
export interface WebhookRequest {
  /** 'GET' or 'POST' (upper case). */
  method: string;
  /** The request target as received: path and query string (`/webhooks/sms/sms-main?x=1`). */
  url: string;
  /** Scheme and host the request was addressed to (`https://inbox.example.org`), for providers that sign the URL. */
  origin: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The query string parsed (a repeated name gives an array). */
  query: Readonly<Record<string, unknown>>;
  /** The body exactly as received; undefined for a request without one. */
  rawBody: Buffer | undefined;
  /** The body parsed by its content type; undefined for a request without one. */
  body: unknown;
}

/** The result of verifying and parsing one webhook request. */
export type WebhookResult =
  | {
      kind: 'events';
      events: InboundEvent[];
      /** Content-free notes on parts of the payload that were left out (unknown types), logged by the route. */
      ignored?: readonly unknown[];
      /**
       * Runs once the events are committed, before the answer (Threema pins the sender's public key only then, so
       * that a redelivery after a failed commit still sees a changed key as changed).
       */
      afterCommit?: () => Promise<void>;
    }
  /** A verification handshake (Meta's GET hub.challenge): answer with this body and status. */
  | { kind: 'handshake'; status: number; body: string };

/** Downloaded media, still untrusted: core checks magic bytes and strips metadata before storing. */
export interface DownloadedMedia {
  data: Buffer;
  mimeType: string | undefined;
}

/**
 * One configured channel. Throws `AppError('SIGNATURE_INVALID')` from `verifyAndParse` for forged or unsigned
 * requests, `AppError('VALIDATION')` for payloads that are not the provider's shape or belong to another number;
 * throws `ChannelApiError` / `ChannelNetworkError` (./channel-errors.ts) from `send` and `downloadMedia`.
 */
export interface Channel {
  readonly id: string;
  /** The channel's kind ("whatsapp-cloud"); core decides by the capability flags, never by the kind. */
  readonly kind: string;
  readonly inboxId: string;
  readonly capabilities: ChannelCapabilities;
  verifyAndParse(request: WebhookRequest): Promise<WebhookResult> | WebhookResult;
  send(command: OutboundCommand): Promise<SendResult>;
  downloadMedia(ref: InboundMediaRef): Promise<DownloadedMedia>;
  /** Account management (templates, phone number info, business profile) where the provider offers it. */
  readonly businessAccount?: BusinessAccountApi;
  /**
   * Reacts to one of the customer's messages with an emoji, or takes the reaction back (`emoji` empty); only on
   * messengers with reactions (WhatsApp). Where it is missing, agents are not offered reactions.
   */
  react?(address: string, providerMessageId: string, emoji: string): Promise<SendResult>;
  /**
   * Channels whose customers hand files to sparsam directly (the website chat): holds the uploaded bytes, still
   * untrusted, until `downloadMedia` is asked for them by the media fetch (which sanitizes them), and returns the
   * reference the inbound message carries. Absent on provider channels, which announce media by id.
   */
  acceptUpload?(data: Buffer, mimeType: string | undefined, fileName: string | undefined): InboundMediaRef;
  /** The prepaid balance of the provider account, where the provider bills per message (Threema's credits). */
  balance?(): Promise<ChannelBalance>;
}

/** A provider account's prepaid balance, shown to admins with a warning below `warnBelow`. */
export interface ChannelBalance {
  credits: number;
  warnBelow: number;
}
