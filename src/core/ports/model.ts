/**
 * The stored entities as core sees them: plain domain values (booleans, arrays, parsed settings objects, epoch
 * milliseconds). How they are encoded in a database (0/1 flags, JSON text columns) is store/'s business alone:
 * src/store/sql maps its rows to these records and back. Field names follow the columns, so that a record and its
 * row differ only where the encoding does.
 */

/** Unix epoch milliseconds. */
export type Millis = number;

export type Role = 'admin' | 'agent' | 'dpo';

/** An inbox's settings document (retention, media policy, notice overrides, stop keywords; no personal data). */
export type InboxSettingsDocument = Record<string, unknown>;

export interface InboxRecord {
  id: string;
  label_prefix: string;
  language: string;
  next_seq: number;
  settings: InboxSettingsDocument;
  created_at: Millis;
  updated_at: Millis;
}

export interface ChannelRecord {
  id: string;
  kind: string;
  inbox_id: string;
  /** false when an admin stopped the channel (kill switch). */
  enabled: boolean;
  /** Non-secret settings. */
  settings: Record<string, unknown>;
  /** Sealed secrets of channels created in the UI; null for channels declared in the config file. */
  secrets_enc: Uint8Array | null;
  source: 'config' | 'ui';
  created_at: Millis;
  updated_at: Millis;
}

export interface ContactRecord {
  id: string;
  channel_id: string;
  inbox_id: string;
  /** HMAC-SHA256(pepper, channel kind + ":" + address), hex. The only way to find a contact by address. */
  lookup_hash: string;
  label_seq: number;
  address_enc: Uint8Array;
  profile_name_enc: Uint8Array | null;
  created_at: Millis;
  last_inbound_at: Millis | null;
}

export type ConversationState = 'pending_consent' | 'open' | 'closed';

export interface ConversationRecord {
  id: string;
  inbox_id: string;
  channel_id: string;
  contact_id: string;
  label_seq: number;
  state: ConversationState;
  assignee_id: string | null;
  /** Label names from the admins' list (not personal data by policy). */
  labels: string[];
  /** Free-text labels from before the admins' list, sealed with the conversation's data key (JSON array). */
  labels_legacy_enc?: Uint8Array | null;
  unread: number;
  created_at: Millis;
  last_activity_at: Millis;
  last_inbound_at: Millis | null;
  consent_requested_at: Millis | null;
  closed_at: Millis | null;
  erase_at: Millis | null;
  /** SHA-256 of the exact privacy notice text sent to this conversation. */
  notice_version: string | null;
  /** Set by staff; 'normal' where absent (rows written before migration 024 or by older code). */
  priority?: ConversationPriority;
  /** Snoozed (set aside) until this time; null or absent when not snoozed. Stays state 'open'. */
  snoozed_until?: Millis | null;
}

export type ConversationPriority = 'normal' | 'high';

export type MessageDirection = 'in' | 'out' | 'note' | 'system';
/** 'sending': outbound-send is calling the provider right now (or stopped during the call; see src/jobs/outbound-send.job.ts). */
export type MessageStatus = 'held' | 'received' | 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface MessageRecord {
  id: string;
  conversation_id: string;
  channel_id: string;
  direction: MessageDirection;
  kind: string;
  provider_message_id: string | null;
  status: MessageStatus;
  body_enc: Uint8Array | null;
  media_id: string | null;
  author_id: string | null;
  error_code: string | null;
  error_reason: string | null;
  created_at: Millis;
  updated_at: Millis;
  /** The customer edited the message. */
  edited: boolean;
  /** The customer revoked the message; its content is gone. */
  deleted: boolean;
  /** false while an inbound message's follow-up steps (consent, erasure) are unfinished. */
  handled: boolean;
}

export interface MediaRecord {
  id: string;
  conversation_id: string;
  message_id: string | null;
  mime_type: string;
  size: number;
  data_enc: Uint8Array | null;
  state: 'pending' | 'stored' | 'rejected' | 'failed';
  created_at: Millis;
}

export interface ConsentEventRecord {
  id: string;
  contact_id: string;
  channel_id: string;
  purpose: 'service' | 'marketing';
  action: 'grant' | 'withdraw';
  notice_version: string | null;
  method: string;
  evidence_message_id: string | null;
  /** Sealed evidence for API imports (who collected the consent, where); null otherwise. */
  evidence_enc: Uint8Array | null;
  at: Millis;
}

/**
 * An entry of the audit log. `details` is the canonical JSON text the entry's hash covers (content-free: ids,
 * pseudonyms, counts); it is part of the hash-chained record itself, so it stays text (see audit-log.ts).
 */
export interface AuditRecord {
  seq: number;
  at: Millis;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  result: string;
  details: string;
  prev_hash: string;
  hash: string;
  mac: string;
}

export interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  display_name: string;
  language: string;
  totp_secret_enc: Uint8Array | null;
  totp_enabled: boolean;
  /** Hashes of the unused recovery codes; null before two-factor sign-in was set up. */
  recovery_codes: string[] | null;
  failed_logins: number;
  locked_until: Millis | null;
  disabled: boolean;
  created_at: Millis;
  updated_at: Millis;
  /** When an admin last reset the password with a new invitation link; null once the user has seen the notice. */
  password_reset_at?: Millis | null;
}

export interface SessionRecord {
  /** SHA-256 of the session token; the token itself is only in the browser's cookie. */
  id_hash: string;
  user_id: string;
  second_factor_done: boolean;
  created_at: Millis;
  expires_at: Millis;
  last_seen_at: Millis;
}

export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  token_hash: string;
  created_at: Millis;
  last_used_at: Millis | null;
  revoked_at: Millis | null;
  /** When the token stops working; null or absent: never. */
  expires_at?: Millis | null;
}

/** A quick reply (Textbaustein) staff insert with `/shortcut`; written by staff, not personal data. */
export interface QuickReplyRecord {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  created_by: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** A one-time invitation to set a password; only the SHA-256 of the token is stored. */
export interface InvitationRecord {
  id: string;
  user_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: Millis;
  expires_at: Millis;
  used_at: Millis | null;
}

/** Who a breach affected: pseudonyms and ids only. */
export interface BreachAffected {
  conversationIds: string[];
  labels: string[];
}

/** An entry of the breach register (Art. 33 GDPR). */
export interface BreachRecord {
  id: string;
  /** Internal staff text, sealed (SecretBox under the key service's pepper). */
  description_enc: Uint8Array;
  /** 'none' | 'risk' | 'high' (high: data subjects must be told, Art. 34). */
  risk: string;
  affected: BreachAffected;
  discovered_at: Millis;
  /** When the supervisory authority was notified. */
  notified_at: Millis | null;
  subjects_notified_at: Millis | null;
  created_by: string;
  created_at: Millis;
  updated_at: Millis;
}

/** A marketing broadcast (template by name, no text). */
export interface CampaignRecord {
  id: string;
  channel_id: string;
  template_name: string;
  template_language: string;
  created_by: string;
  created_at: Millis;
  /** Contacts of the channel left out because their marketing consent was not valid. */
  skipped: number;
  /** 'queueing' while its batches are written (a crash leaves it so, and it is resumed), then 'queued'. */
  state: 'queueing' | 'queued';
  /** Id of the last contact of the channel a batch looked at (contacts are walked in id order); null before. */
  cursor: string | null;
  /** The template parameters, sealed with a system data key, while queueing; null afterwards. */
  parameters_enc: Uint8Array | null;
}

export type DataKeyOwnerType = 'conversation' | 'contact' | 'system';

/** A wrapped data key of the separate key store. */
export interface DataKeyRecord {
  id: string;
  owner_type: DataKeyOwnerType;
  owner_id: string;
  wrapped: Uint8Array;
  kek_id: string;
  created_at: Millis;
}
