import type {
  BreachRecord,
  ChannelRecord,
  ConversationRecord,
  InboxRecord,
  MessageRecord,
  SessionRecord,
  UserRecord,
} from '../../core/ports/model.ts';
import type {
  BreachRow,
  ChannelRow,
  ContactRow,
  ConversationRow,
  Flag,
  InboxRow,
  MessageRow,
  SessionRow,
  UserRow,
} from '../database.ts';

/**
 * Row <-> record mapping: the only place where sparsam's storage encodings (0/1 flags, JSON text columns) are read
 * and written. Core sees records (src/core/ports/model.ts); the stores map at their boundary with these functions.
 */

const flag = (value: boolean): Flag => (value ? 1 : 0);

/** Parses a JSON object column; a damaged value reads as an empty object (every reader has defaults). */
function jsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Parses a JSON array-of-strings column; anything else in it reads as absent. */
function jsonStrings(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** Copies the fields of `patch` that are present (an explicit undefined is left out, as Kysely would). */
function mapPatch<R, P>(patch: Partial<R>, encode: { [K in keyof R]?: (value: R[K]) => unknown }): Partial<P> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    const fn = (encode as Record<string, ((value: unknown) => unknown) | undefined>)[k];
    out[k] = fn ? fn(v) : v;
  }
  return out as Partial<P>;
}

export function toMessage(row: MessageRow): MessageRecord {
  return { ...row, edited: row.edited === 1, deleted: row.deleted === 1, handled: row.handled === 1 };
}
export function messageRow(record: MessageRecord): MessageRow {
  return { ...record, edited: flag(record.edited), deleted: flag(record.deleted), handled: flag(record.handled) };
}
export function messagePatch(patch: Partial<Omit<MessageRecord, 'id'>>): Partial<Omit<MessageRow, 'id'>> {
  return mapPatch<MessageRecord, MessageRow>(patch, { edited: flag, deleted: flag, handled: flag });
}

/** The label names of a conversations.labels column. */
export const labelsOf = (text: string): string[] => jsonStrings(text);
const labelsText = (labels: readonly string[]): string => JSON.stringify(labels);

export function toConversation(row: ConversationRow): ConversationRecord {
  return { ...row, labels: jsonStrings(row.labels) };
}
export function conversationRow(record: ConversationRecord): ConversationRow {
  return { ...record, labels: labelsText(record.labels) };
}
export function conversationPatch(
  patch: Partial<Omit<ConversationRecord, 'id'>>,
): Partial<Omit<ConversationRow, 'id'>> {
  return mapPatch<ConversationRecord, ConversationRow>(patch, { labels: labelsText });
}
/** The LIKE pattern that finds a label in the labels column (the quoted name, so "vip" does not match "vip-old"). */
export function labelPattern(label: string): string {
  return `%${JSON.stringify(label).replace(/[%_]/g, '')}%`;
}

/** The settings document of an inboxes.settings column. */
export const inboxSettingsOf = (text: string): Record<string, unknown> => jsonObject(text);
export function toInbox(row: InboxRow): InboxRecord {
  return { ...row, settings: inboxSettingsOf(row.settings) };
}
export const inboxSettingsText = (settings: Record<string, unknown>): string => JSON.stringify(settings);

export function toChannel(row: ChannelRow): ChannelRecord {
  return { ...row, enabled: row.enabled === 1, settings: jsonObject(row.settings) };
}
export const channelEnabledFlag = flag;

/** The value of a structured installation setting (JSON text; empty = reset, reads as absent). */
export const settingValueOf = (text: string | undefined): unknown => (text ? (JSON.parse(text) as unknown) : undefined);
/** The stored text of a structured setting; `undefined` (a reset) is stored as an empty value. */
export const settingText = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value));

const recoveryText = (codes: readonly string[] | null): string | null => (codes ? JSON.stringify(codes) : null);

export function toUser(row: UserRow): UserRecord {
  return {
    ...row,
    totp_enabled: row.totp_enabled === 1,
    disabled: row.disabled === 1,
    recovery_codes: row.recovery_codes === null ? null : jsonStrings(row.recovery_codes),
  };
}
export function userRow(record: UserRecord): UserRow {
  return {
    ...record,
    totp_enabled: flag(record.totp_enabled),
    disabled: flag(record.disabled),
    recovery_codes: recoveryText(record.recovery_codes),
  };
}
export function userPatch(patch: Partial<Omit<UserRecord, 'id'>>): Partial<Omit<UserRow, 'id'>> {
  return mapPatch<UserRecord, UserRow>(patch, { totp_enabled: flag, disabled: flag, recovery_codes: recoveryText });
}
export { recoveryText };

export function toSession(row: SessionRow): SessionRecord {
  return { ...row, second_factor_done: row.second_factor_done === 1 };
}
export function sessionRow(record: SessionRecord): SessionRow {
  return { ...record, second_factor_done: flag(record.second_factor_done) };
}
export function sessionPatch(patch: Partial<Omit<SessionRecord, 'id_hash'>>): Partial<Omit<SessionRow, 'id_hash'>> {
  return mapPatch<SessionRecord, SessionRow>(patch, { second_factor_done: flag });
}

const affectedText = (affected: BreachRecord['affected']): string => JSON.stringify(affected);

export function toBreach(row: BreachRow): BreachRecord {
  const parsed = jsonObject(row.affected) as Partial<BreachRecord['affected']>;
  return { ...row, affected: { conversationIds: parsed.conversationIds ?? [], labels: parsed.labels ?? [] } };
}
export function breachRow(record: BreachRecord): BreachRow {
  return { ...record, affected: affectedText(record.affected) };
}
export function breachPatch(
  patch: Partial<Omit<BreachRecord, 'id' | 'created_at' | 'created_by'>>,
): Partial<Omit<BreachRow, 'id' | 'created_at' | 'created_by'>> {
  return mapPatch<BreachRecord, BreachRow>(patch, { affected: affectedText });
}

/** Every column of a table row, checked by the compiler: a column added to the row type must be added here. */
export function allColumns<Row>() {
  return <const C extends readonly (keyof Row & string)[]>(
    columns: C &
      ([Exclude<keyof Row, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof Row, C[number]> }),
  ): C => columns;
}

/** The columns of `conversations`, for selecting them under a prefix beside another table's. */
export const CONVERSATION_COLUMNS = allColumns<ConversationRow>()([
  'id',
  'inbox_id',
  'channel_id',
  'contact_id',
  'label_seq',
  'state',
  'assignee_id',
  'labels',
  'labels_legacy_enc',
  'unread',
  'created_at',
  'last_activity_at',
  'last_inbound_at',
  'consent_requested_at',
  'closed_at',
  'erase_at',
  'notice_version',
  'priority',
  'snoozed_until',
]);

/** The columns of `messages`, in the order a prepared multi-row insert binds them. */
export const MESSAGE_COLUMNS = allColumns<MessageRow>()([
  'id',
  'conversation_id',
  'channel_id',
  'direction',
  'kind',
  'provider_message_id',
  'status',
  'body_enc',
  'media_id',
  'author_id',
  'error_code',
  'error_reason',
  'created_at',
  'updated_at',
  'edited',
  'deleted',
  'handled',
]);

/** The columns of `contacts`, for selecting them under a prefix beside another table's. */
export const CONTACT_COLUMNS = allColumns<ContactRow>()([
  'id',
  'channel_id',
  'inbox_id',
  'lookup_hash',
  'label_seq',
  'address_enc',
  'profile_name_enc',
  'created_at',
  'last_inbound_at',
]);

/**
 * The states of a contact's current conversation: at most one conversation per contact is in them
 * (`conversations_current_uq`).
 */
export const CURRENT_CONVERSATION_STATES = ['open', 'pending_consent'] as const;

/**
 * A row of a join whose joined tables' columns were selected under a prefix (`c__id`, `k__id`; see
 * CONVERSATION_COLUMNS): its own columns, and each prefix's columns without the prefix (`joined.get('c')`).
 */
export function splitJoinedRow(row: Record<string, unknown>): {
  own: Record<string, unknown>;
  joined: Map<string, Record<string, unknown>>;
} {
  const own: Record<string, unknown> = {};
  const joined = new Map<string, Record<string, unknown>>();
  for (const key in row) {
    const [prefix, name] = splitColumnName(key);
    if (prefix === undefined) {
      own[name] = row[key];
      continue;
    }
    let part = joined.get(prefix);
    if (!part) joined.set(prefix, (part = {}));
    part[name] = row[key];
  }
  return { own, joined };
}

/** The prefix and column of each result column name seen, so that a hot join does not cut its names every row. */
const columnNames = new Map<string, readonly [prefix: string | undefined, name: string]>();

function splitColumnName(key: string): readonly [prefix: string | undefined, name: string] {
  let split = columnNames.get(key);
  if (split === undefined) {
    const at = key.indexOf('__');
    split = at < 0 ? [undefined, key] : [key.slice(0, at), key.slice(at + 2)];
    // The joins name a few dozen columns; the bound only guards against a caller with generated names.
    if (columnNames.size < 1_000) columnNames.set(key, split);
  }
  return split;
}
