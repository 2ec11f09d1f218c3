import type { ColumnType, Generated } from 'kysely';
import type { ConversationState, MessageDirection, MessageStatus, Role } from '../core/ports/model.ts';

export type { ConversationState, MessageDirection, MessageStatus, Role };

/**
 * Row types of the main database. Times are Unix epoch milliseconds (bigint in PostgreSQL, parsed to number);
 * booleans are 0/1 integers on both dialects. Every `*_enc` column holds AES-256-GCM ciphertext made by
 * core/privacy; nothing personal is stored in a plain column. Core never sees these rows: src/store/sql/records.ts maps
 * them to the domain records of src/core/ports/model.ts.
 */
export type Millis = number;
export type Flag = 0 | 1;

export interface InboxRow {
  id: string;
  label_prefix: string;
  language: string;
  next_seq: number;
  /** JSON: retention, media policy, notice overrides, stop keywords (no personal data). */
  settings: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface ChannelRow {
  id: string;
  kind: string;
  inbox_id: string;
  enabled: Flag;
  /** JSON of non-secret settings. */
  settings: string;
  /** Encrypted JSON of secrets for channels created in the UI; null for channels declared in the config file. */
  secrets_enc: Uint8Array | null;
  source: 'config' | 'ui';
  created_at: Millis;
  updated_at: Millis;
}

export interface ContactRow {
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

export interface ConversationRow {
  id: string;
  inbox_id: string;
  channel_id: string;
  contact_id: string;
  label_seq: number;
  state: ConversationState;
  assignee_id: string | null;
  /** JSON array of label names from the admins' list (`label_catalogue`; migration 023). */
  labels: string;
  /** Free-text labels from before migration 023, sealed with the conversation's data key (JSON array). */
  labels_legacy_enc?: Uint8Array | null;
  unread: number;
  created_at: Millis;
  last_activity_at: Millis;
  last_inbound_at: Millis | null;
  consent_requested_at: Millis | null;
  closed_at: Millis | null;
  erase_at: Millis | null;
  /** SHA-256 of the exact privacy notice text sent to this conversation (migration 003). */
  notice_version: string | null;
  /** 'normal' or 'high' (migration 024; the column defaults to 'normal'). */
  priority?: 'normal' | 'high';
  /** Set aside until this time (migration 025); null when not snoozed. */
  snoozed_until?: Millis | null;
}

export interface MessageRow {
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
  /** The customer edited the message (migration 003). */
  edited: Flag;
  /** The customer revoked the message; its content is gone (migration 003). */
  deleted: Flag;
  /** 0 while an inbound message's follow-up steps (consent, erasure) are unfinished (migration 003). */
  handled: Flag;
}

export interface MediaRow {
  id: string;
  conversation_id: string;
  message_id: string | null;
  mime_type: string;
  size: number;
  data_enc: Uint8Array | null;
  state: 'pending' | 'stored' | 'rejected' | 'failed';
  created_at: Millis;
}

export interface ConsentEventRow {
  id: string;
  contact_id: string;
  channel_id: string;
  purpose: 'service' | 'marketing';
  action: 'grant' | 'withdraw';
  notice_version: string | null;
  method: string;
  evidence_message_id: string | null;
  /** Encrypted evidence for API imports (who collected the consent, where); null otherwise. */
  evidence_enc: Uint8Array | null;
  at: Millis;
  /** Set when the contact was erased: the entry is content-free proof kept until then (migration 017). */
  proof_until?: Millis | null;
}

export interface AuditRow {
  seq: number;
  at: Millis;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  result: string;
  /** Content-free JSON (ids, pseudonyms, counts). */
  details: string;
  prev_hash: string;
  hash: string;
  mac: string;
}

/** An audit entry found beyond the chain head and moved out of the log by the next append; migration 017. */
export interface AuditSetAsideRow extends AuditRow {
  id: string;
  set_aside_at: Millis;
}

/** The audit chain's 'head' (last appended entry) and 'anchor' (last pruned entry), each with its MAC. */
export interface AuditChainRow {
  name: 'head' | 'anchor';
  seq: number;
  hash: string;
  mac: string;
  at: Millis;
}

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  display_name: string;
  language: string;
  totp_secret_enc: Uint8Array | null;
  totp_enabled: Flag;
  recovery_codes: string | null;
  failed_logins: number;
  locked_until: Millis | null;
  disabled: Flag;
  created_at: Millis;
  updated_at: Millis;
  /** When an admin last reset the password with a new invitation link; cleared once the user saw it (023). */
  password_reset_at?: Millis | null;
}

export interface SessionRow {
  /** SHA-256 of the session token; the token itself is only in the browser's cookie. */
  id_hash: string;
  user_id: string;
  second_factor_done: Flag;
  created_at: Millis;
  expires_at: Millis;
  last_seen_at: Millis;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  role: Role;
  token_hash: string;
  created_at: Millis;
  last_used_at: Millis | null;
  revoked_at: Millis | null;
  /** Null: no expiry (migration 017). */
  expires_at?: Millis | null;
}

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface JobRow {
  id: string;
  queue: string;
  /** JSON of ids only; never personal data. */
  payload: string;
  dedupe_key: string | null;
  status: JobStatus;
  run_at: Millis;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: Millis | null;
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** A quick reply (Textbaustein) staff insert with `/shortcut`; written by staff, not personal data. */
export interface QuickReplyRow {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  created_by: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** A one-time invitation to set a password; only the SHA-256 of the token is stored. */
export interface InvitationRow {
  id: string;
  user_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: Millis;
  expires_at: Millis;
  used_at: Millis | null;
}

/** Installation-wide settings (key → JSON value), e.g. the 2FA requirement and inbox overrides from the admin UI. */
export interface SettingRow {
  key: string;
  value: string;
  updated_at: Millis;
}

/** An entry of the breach register (Art. 33 GDPR); migration 007. */
export interface BreachRow {
  id: string;
  /** Internal staff text, sealed (SecretBox under the key service's pepper). */
  description_enc: Uint8Array;
  /** 'none' | 'risk' | 'high' (high: data subjects must be told, Art. 34). */
  risk: string;
  /** JSON { conversationIds: string[], labels: string[] }: pseudonyms and ids only. */
  affected: string;
  discovered_at: Millis;
  /** When the supervisory authority was notified. */
  notified_at: Millis | null;
  subjects_notified_at: Millis | null;
  created_by: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface Database {
  inboxes: InboxRow;
  channels: ChannelRow;
  contacts: ContactRow;
  conversations: ConversationRow;
  messages: MessageRow;
  media: MediaRow;
  consent_events: ConsentEventRow;
  audit_log: AuditRow;
  audit_chain: AuditChainRow;
  audit_set_aside: AuditSetAsideRow;
  users: UserRow;
  sessions: SessionRow;
  api_tokens: ApiTokenRow;
  jobs: JobRow;
  quick_replies: QuickReplyRow;
  invitations: InvitationRow;
  settings: SettingRow;
  breaches: BreachRow;
  automation_sends: AutomationSendRow;
  campaigns: CampaignRow;
  campaign_recipients: CampaignRecipientRow;
  totp_used_steps: TotpUsedStepRow;
  send_pacing: SendPacingRow;
  parked_statuses: ParkedStatusRow;
  inbound_receipts: InboundReceiptRow;
  webhook_endpoints: WebhookEndpointRow;
  webhook_deliveries: WebhookDeliveryRow;
  daily_counts: DailyCountRow;
  public_key_pins: PublicKeyPinRow;
  inbox_members: InboxMemberRow;
  api_token_inboxes: ApiTokenInboxRow;
  user_presence: UserPresenceRow;
  mentions: MentionRow;
  whatsapp_templates: WhatsAppTemplateRow;
  channel_health: ChannelHealthRow;
  push_subscriptions: PushSubscriptionRow;
  notification_prefs: NotificationPrefsRow;
  report_facts: ReportFactRow;
  csat_surveys: CsatSurveyRow;
  label_catalogue: LabelCatalogueRow;
  saved_views: SavedViewRow;
}

/** A staff member's named list filter (migration 026). Never a search text: it could hold personal data. */
export interface SavedViewRow {
  id: string;
  user_id: string;
  name: string;
  view: string;
  label: string | null;
  channel_id: string | null;
  sort: string;
  created_at: Millis;
}

/** A label the admins offer (migration 023): a name such as "Rückruf" and an optional colour (#rrggbb). */
export interface LabelCatalogueRow {
  name: string;
  color: string | null;
  created_at: Millis;
}

/** An outgoing webhook endpoint; migration 016. `events` is JSON of event type names; secrets sealed. */
export interface WebhookEndpointRow {
  id: string;
  name: string;
  url: string;
  inbox_id: string | null;
  events: string;
  state: 'active' | 'paused';
  paused_reason: 'admin' | 'failures' | null;
  paused_at: Millis | null;
  allow_private_target: Flag;
  include_content: Flag;
  legal_basis: string | null;
  legal_basis_note: string | null;
  secret_enc: Uint8Array;
  previous_secret_enc: Uint8Array | null;
  previous_secret_until: Millis | null;
  failing_since: Millis | null;
  consecutive_failures: number;
  last_success_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
}

/** One event's delivery to one endpoint (the admin's delivery log; never the payload); migration 016. */
export interface WebhookDeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  state: 'pending' | 'retrying' | 'delivered' | 'failed';
  attempts: number;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** A content-free counter of one UTC day (YYYY-MM-DD), e.g. 'messages.inbound'; migration 018. */
export interface DailyCountRow {
  day: string;
  metric: string;
  count: number;
}

/** A customer's public key pinned on a channel, by keyed hash of the address; migration 014. */
export interface PublicKeyPinRow {
  channel_id: string;
  address_ref: string;
  public_key: Uint8Array;
  pinned_at: Millis;
  changes: number;
}

/** A staff member's membership of an inbox, with the round-robin position of auto-assignment; migration 020. */
export interface InboxMemberRow {
  inbox_id: string;
  user_id: string;
  created_at: Millis;
  last_assigned_at: Millis | null;
}

/** An inbox an API token is limited to (a token without rows is not limited); migration 020. */
export interface ApiTokenInboxRow {
  token_id: string;
  inbox_id: string;
}

/** An agent's chosen availability and the last heartbeats of their inbox tab; migration 020. */
export interface UserPresenceRow {
  user_id: string;
  status: 'online' | 'away' | 'offline';
  last_seen_at: Millis | null;
  last_active_at: Millis | null;
  changed_at: Millis;
}

/** A colleague named with @ in an internal note (ids only); migration 020. */
export interface MentionRow {
  id: string;
  user_id: string;
  inbox_id: string;
  conversation_id: string;
  message_id: string;
  author_id: string | null;
  created_at: Millis;
  read_at: Millis | null;
}

/** A WhatsApp message template of a channel (components as Meta's JSON); migration 019. */
export interface WhatsAppTemplateRow {
  channel_id: string;
  name: string;
  language: string;
  provider_id: string | null;
  category: string;
  status: string;
  reason: string | null;
  components: string;
  status_at: Millis;
  category_at: Millis;
  updated_at: Millis;
}

/** A channel's WhatsApp account health, content-free (Meta's enum values); migration 019. */
export interface ChannelHealthRow {
  channel_id: string;
  quality_rating: string | null;
  quality_event: string | null;
  messaging_limit: string | null;
  quality_at: Millis | null;
  /** JSON object of the last business_capability_update (limits as numbers). */
  capability: string | null;
  capability_at: Millis | null;
  account_event: string | null;
  violation_type: string | null;
  ban_state: string | null;
  /** JSON array of { type, expiresAt }. */
  restrictions: string | null;
  account_at: Millis | null;
  updated_at: Millis;
}

/** A browser that receives Web Push for a staff member; the subscription (endpoint, keys) sealed; migration 021. */
export interface PushSubscriptionRow {
  id: string;
  user_id: string;
  /** HMAC-SHA256 of the endpoint URL, hex. */
  endpoint_hash: string;
  subscription_enc: Uint8Array;
  created_at: Millis;
  last_used_at: Millis | null;
}

/** A staff member's notification choices (JSON: events, push, e-mail, quiet hours); migration 021. */
export interface NotificationPrefsRow {
  user_id: string;
  prefs: string;
  updated_at: Millis;
}

/** An inbound event without a message row that took effect once (keyed hash of its provider id); migration 012. */
/** A content-free fact for the reports (see main.022-report-facts). */
export interface ReportFactRow {
  id: string;
  kind: string;
  at: Millis;
  inbox_id: string;
  channel_kind: string;
  agent_id: string | null;
  duration_ms: Millis | null;
  score: number | null;
}

/** A satisfaction question waiting for its answer (see main.027-csat). */
export interface CsatSurveyRow {
  id: string;
  conversation_id: string;
  contact_id: string;
  channel_id: string;
  channel_kind: string;
  inbox_id: string;
  agent_id: string | null;
  sent_at: Millis;
}

export interface InboundReceiptRow {
  channel_id: string;
  provider_ref: string;
  received_at: Millis;
  expires_at: Millis;
}

/** The last TOTP time step (Unix time / 30 s) a user's code was accepted for; migration 009. */
export interface TotpUsedStepRow {
  user_id: string;
  step: number;
}

/** The shared outbound pace of a channel (database clock, epoch ms with fractions); migration 010. */
export interface SendPacingRow {
  sender: string;
  next_at: number;
  held_until: number;
}

/**
 * A delivery status that arrived before its message's provider id was stored (migration 011); content-free: the
 * keyed hash of the provider id, never the id.
 */
export interface ParkedStatusRow {
  channel_id: string;
  provider_ref: string;
  status: string;
  status_at: Millis;
  error_code: string | null;
  error_reason: string | null;
  expires_at: Millis;
}

/** When an automated message (greeting, away) last went to a conversation; migration 008. */
export interface AutomationSendRow {
  conversation_id: string;
  kind: string;
  message_id: string;
  sent_at: Millis;
}

/** A marketing broadcast (template by name, no text); migration 008. */
export interface CampaignRow {
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

/** One contact a broadcast was queued to, by ids only; migration 008. */
export interface CampaignRecipientRow {
  campaign_id: string;
  contact_id: string;
  conversation_id: string;
  message_id: string;
}

/** The separate key store: wrapped data keys only. */
export interface DataKeyRow {
  id: string;
  owner_type: 'conversation' | 'contact' | 'system';
  owner_id: string;
  wrapped: Uint8Array;
  kek_id: string;
  created_at: Millis;
}

export interface KeystoreMetaRow {
  key: string;
  value: string;
}

export interface KeystoreDatabase {
  data_keys: DataKeyRow;
  keystore_meta: KeystoreMetaRow;
  sealed_secrets: SealedSecretRow;
}

/** A configuration secret sealed under a `system` data key; key store migration 004. */
export interface SealedSecretRow {
  name: string;
  sealed: Uint8Array;
  sealed_at: Millis;
}

/** Marker for generated columns where a table needs one later. */
export type Auto<T> = Generated<T>;
export type ReadOnly<T> = ColumnType<T, never, never>;
