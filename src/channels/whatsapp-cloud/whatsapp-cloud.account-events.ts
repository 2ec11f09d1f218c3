import type { AccountEvent, AccountRestriction } from '../../core/ports/business-account.port.ts';
import type { WhatsAppAccountChange } from './whatsapp-cloud.parser.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const id = (v: unknown): string | undefined =>
  typeof v === 'number' ? String(v) : typeof v === 'string' && v.length > 0 ? v : undefined;
/** Meta's enum values only (upper case, digits, _): anything else (free text) is not kept. */
const enumValue = (v: unknown): string | undefined => {
  const s = str(v);
  return s && /^[A-Z0-9_]{1,64}$/.test(s) ? s : undefined;
};

/**
 * Maps one account-level change (no `metadata.phone_number_id`; it belongs to the WhatsApp Business Account of
 * `entry.id`) to core's {@link AccountEvent}, keeping only what sparsam shows: Meta's enum values, template names
 * and languages, limits and dates, never free text other than a rejection reason. Payload shapes from Meta's webhook
 * references (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/<field>):
 *
 * - `message_template_status_update`: `event` (APPROVED, REJECTED, PENDING, PAUSED, DISABLED, IN_APPEAL,
 *   PENDING_DELETION, ARCHIVED, …), `message_template_id`, `message_template_name`, `message_template_language`,
 *   `reason`, optional `message_template_category`;
 * - `template_category_update`: `message_template_id`, `message_template_name`, `message_template_language`,
 *   `previous_category`, `new_category`;
 * - `phone_number_quality_update`: `display_phone_number`, `event` (FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE,
 *   ONBOARDING, THROUGHPUT_UPGRADE), `current_limit` (TIER_50 … TIER_UNLIMITED), `old_limit`;
 * - `business_capability_update`: `max_daily_conversation_per_phone`, `max_phone_numbers_per_business`, …;
 * - `account_update`: `event` (ACCOUNT_VIOLATION, ACCOUNT_RESTRICTION, DISABLED_UPDATE, …), `violation_info`
 *   (`violation_type`), `ban_info` (`waba_ban_state`, `waba_ban_date`), `restriction_info[]`
 *   (`restriction_type`, `expiration`).
 *
 * Answers undefined for fields sparsam does not keep (they are acknowledged and audited by field name only).
 */
export function mapAccountChange(change: WhatsAppAccountChange, channelId: string): AccountEvent | undefined {
  const v = (change.value && typeof change.value === 'object' ? change.value : {}) as Record<string, unknown>;
  const at = (change.time ?? 0) * 1000;
  switch (change.field) {
    case 'message_template_status_update': {
      const name = str(v.message_template_name);
      const language = str(v.message_template_language);
      const status = enumValue(v.event);
      if (!name || !language || !status) return undefined;
      const reason = str(v.reason);
      return {
        type: 'template_status',
        channelId,
        at,
        name,
        language,
        providerId: id(v.message_template_id),
        status,
        reason: reason && reason !== 'NONE' ? reason.slice(0, 200) : undefined,
        category: enumValue(v.message_template_category),
      };
    }
    case 'template_category_update': {
      const name = str(v.message_template_name);
      const language = str(v.message_template_language);
      const category = enumValue(v.new_category);
      if (!name || !language || !category) return undefined;
      return {
        type: 'template_category',
        channelId,
        at,
        name,
        language,
        providerId: id(v.message_template_id),
        category,
        previousCategory: enumValue(v.previous_category),
      };
    }
    case 'phone_number_quality_update':
      return {
        type: 'quality',
        channelId,
        at,
        event: enumValue(v.event),
        messagingLimit: enumValue(v.current_limit),
      };
    case 'business_capability_update': {
      const limits: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(v)) {
        if (!/^[a-z0-9_]{1,64}$/.test(key)) continue;
        if (typeof value === 'number') limits[key] = value;
        else if (enumValue(value)) limits[key] = value as string;
      }
      return { type: 'capability', channelId, at, limits };
    }
    case 'account_update': {
      const ban = (v.ban_info ?? {}) as Record<string, unknown>;
      const violation = (v.violation_info ?? {}) as Record<string, unknown>;
      const restrictions: AccountRestriction[] = (Array.isArray(v.restriction_info) ? v.restriction_info : [])
        .map((r) => r as Record<string, unknown>)
        .map((r) => ({ type: enumValue(r.restriction_type) ?? '', expiresAt: str(r.expiration)?.slice(0, 40) }))
        .filter((r) => r.type.length > 0);
      return {
        type: 'account',
        channelId,
        at,
        event: enumValue(v.event),
        violationType: enumValue(violation.violation_type),
        banState: enumValue(ban.waba_ban_state),
        restrictions,
      };
    }
    default:
      return undefined;
  }
}
