import type { Millis } from './model.ts';

/** Which inboxes a staff member works in, and the inboxes an API token is limited to (many to many). */
export interface MembershipPort {
  /** Inbox ids of a user's memberships. */
  inboxIdsOfUser(userId: string): Promise<string[]>;
  /** Every membership, for the admin screen. */
  listMemberships(): Promise<{ inboxId: string; userId: string }[]>;
  /** Members of one inbox with the time each was last given a conversation by auto-assignment (round robin). */
  membersOfInbox(inboxId: string): Promise<{ userId: string; lastAssignedAt: Millis | null }[]>;
  /** Replaces a user's memberships; answers the inbox ids added and removed. */
  setInboxesOfUser(
    userId: string,
    inboxIds: readonly string[],
    at: Millis,
  ): Promise<{ added: string[]; removed: string[] }>;
  /** Records that auto-assignment gave the member a conversation (moves them to the back of the round). */
  markAssigned(inboxId: string, userId: string, at: Millis): Promise<void>;
  /** Inbox ids an API token is limited to; empty = no limit. */
  inboxIdsOfToken(tokenId: string): Promise<string[]>;
  setInboxesOfToken(tokenId: string, inboxIds: readonly string[]): Promise<void>;
  listTokenInboxes(): Promise<{ tokenId: string; inboxId: string }[]>;
}

/** What an agent chose: available, away for a while, or not working. */
export type PresenceStatus = 'online' | 'away' | 'offline';

export interface PresenceRecord {
  user_id: string;
  /** The status the agent chose (the effective availability also looks at the times below). */
  status: PresenceStatus;
  /** Last heartbeat of an open inbox tab. */
  last_seen_at: Millis | null;
  /** Last heartbeat that reported keyboard, pointer or touch input. */
  last_active_at: Millis | null;
  /** When `status` was last changed. */
  changed_at: Millis;
}

export interface PresencePort {
  getPresence(userId: string): Promise<PresenceRecord | undefined>;
  listPresence(): Promise<PresenceRecord[]>;
  putPresence(row: PresenceRecord): Promise<void>;
}

/** A colleague named with @ in an internal note. Ids only: the note itself stays sealed with the conversation. */
export interface MentionRecord {
  id: string;
  user_id: string;
  inbox_id: string;
  conversation_id: string;
  message_id: string;
  author_id: string | null;
  created_at: Millis;
  read_at: Millis | null;
}

export interface MentionPort {
  insertMentions(rows: readonly MentionRecord[]): Promise<void>;
  /** Newest first. */
  listMentions(userId: string, limit: number): Promise<MentionRecord[]>;
  /** Marks the user's mentions read (all of them, or the ids given); answers how many changed. */
  markMentionsRead(userId: string, ids: readonly string[] | undefined, at: Millis): Promise<number>;
}

/** What auto-assignment and the offline rule need from the conversations table. */
export interface AssignmentPort {
  /** Open, unassigned conversations of an inbox, oldest activity first. */
  unassignedOpen(inboxId: string, limit: number): Promise<{ id: string; inboxId: string }[]>;
  /** How many open conversations of the inbox each assignee holds. */
  openCountsByAssignee(inboxId: string): Promise<Map<string, number>>;
  /** Assigns only while nobody else has (another instance, an agent); true when this call assigned it. */
  assignIfUnassigned(conversationId: string, userId: string): Promise<boolean>;
  /** Returns the user's open conversations in the inbox to unassigned; answers their ids. */
  unassignOpen(inboxId: string, userId: string): Promise<string[]>;
}
