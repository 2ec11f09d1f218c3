/**
 * The WhatsApp Business Account as sparsam keeps it: message templates and each channel's account health. Domain
 * records (epoch ms, arrays, objects); rows and their encodings live in src/store/sql/business-account.store.ts.
 * Content-free: templates are the business's own texts, health holds Meta's enum values only.
 */

export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

/** Meta's template status (APPROVED, PENDING, REJECTED, PAUSED, DISABLED, IN_APPEAL, PENDING_DELETION, …). */
export type TemplateStatus = string;

export type TemplateButton =
  | { type: 'QUICK_REPLY'; text: string }
  /** A URL; at most one {{1}} at its end, filled per send (`example` is the sample value for the review). */
  | { type: 'URL'; text: string; url: string; example?: string }
  | { type: 'PHONE_NUMBER'; text: string; phoneNumber: string };

export type TemplateHeader =
  /** Text with at most one {{1}} (`example` is the sample value for the review). */
  | { format: 'TEXT'; text: string; example?: string }
  /** A file given per send (a public https link to it, or a media id). */
  | { format: 'IMAGE' | 'DOCUMENT' | 'VIDEO' };

/** What a template says: header, body with {{1}} … placeholders and their examples, footer, buttons. */
export interface TemplateContent {
  header?: TemplateHeader;
  body: string;
  /** One example value per body placeholder, in order (required by Meta's review when the body has any). */
  bodyExamples?: string[];
  footer?: string;
  buttons: TemplateButton[];
}

/** A template of one channel (one name in one language). */
export interface TemplateRecord extends TemplateContent {
  channelId: string;
  name: string;
  language: string;
  /** Meta's template id, once known. */
  providerId: string | undefined;
  category: string;
  status: TemplateStatus;
  /** Meta's reason for a rejection (or a pause, or a disable), as given. */
  reason: string | undefined;
  /** `entry.time` of the last status / category change applied (ms); older webhooks change nothing. */
  statusAt: number;
  categoryAt: number;
  updatedAt: number;
}

export interface TemplatePort {
  list(channelId: string): Promise<TemplateRecord[]>;
  get(channelId: string, name: string, language: string): Promise<TemplateRecord | undefined>;
  /** Inserts or replaces the template (channel, name, language). */
  put(record: TemplateRecord): Promise<void>;
  /** Deletes every language of a template name; answers how many rows went. */
  removeName(channelId: string, name: string): Promise<number>;
  /** Deletes the channel's templates not in `keep` (name + language). */
  removeOthers(channelId: string, keep: readonly { name: string; language: string }[]): Promise<number>;
}

/** A restriction Meta put on the account (`restriction_info`). */
export interface AccountRestriction {
  type: string;
  /** ISO date-time as given, when it ends. */
  expiresAt: string | undefined;
}

/** A channel's account health from Meta's account-level webhooks. */
export interface ChannelHealth {
  channelId: string;
  /** GREEN, YELLOW, RED or UNKNOWN (from the phone number's info, or inferred: FLAGGED → RED). */
  qualityRating: string | undefined;
  /** The last phone_number_quality_update event: FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ONBOARDING, … */
  qualityEvent: string | undefined;
  /** TIER_50, TIER_250, TIER_1K, TIER_10K, TIER_100K, TIER_UNLIMITED, … */
  messagingLimit: string | undefined;
  qualityAt: number | undefined;
  /** The last business_capability_update's limits (max_daily_conversation_per_phone, max_phone_numbers_per_business …). */
  capability: Record<string, string | number> | undefined;
  capabilityAt: number | undefined;
  /** The last account_update event: ACCOUNT_VIOLATION, ACCOUNT_RESTRICTION, DISABLED_UPDATE, VERIFIED_ACCOUNT, … */
  accountEvent: string | undefined;
  violationType: string | undefined;
  /** `ban_info.waba_ban_state`: SCHEDULE_FOR_DISABLE, DISABLE, REINSTATE. */
  banState: string | undefined;
  restrictions: AccountRestriction[];
  accountAt: number | undefined;
  updatedAt: number;
}

export interface ChannelHealthPort {
  get(channelId: string): Promise<ChannelHealth | undefined>;
  list(): Promise<ChannelHealth[]>;
  put(health: ChannelHealth): Promise<void>;
}

/**
 * An account-level webhook change, mapped from the provider's payload by the channel (never the raw payload). `at`
 * is the webhook's `entry.time` in ms (0 when absent).
 */
export type AccountEvent = { channelId: string; at: number } & (
  | {
      type: 'template_status';
      name: string;
      language: string;
      providerId: string | undefined;
      status: string;
      reason: string | undefined;
      category: string | undefined;
    }
  | {
      type: 'template_category';
      name: string;
      language: string;
      providerId: string | undefined;
      category: string;
      previousCategory: string | undefined;
    }
  | { type: 'quality'; event: string | undefined; messagingLimit: string | undefined }
  | { type: 'capability'; limits: Record<string, string | number> }
  | {
      type: 'account';
      event: string | undefined;
      violationType: string | undefined;
      banState: string | undefined;
      restrictions: AccountRestriction[];
    }
);
