import type { InboxSettingsDocument, InvitationRecord, QuickReplyRecord } from './model.ts';

/** Quick replies, invitations and installation settings of the browser inbox. */
export interface WebPort {
  listQuickReplies(): Promise<QuickReplyRecord[]>;
  findQuickReply(id: string): Promise<QuickReplyRecord | undefined>;
  findQuickReplyByShortcut(shortcut: string): Promise<QuickReplyRecord | undefined>;
  insertQuickReply(row: QuickReplyRecord): Promise<void>;
  updateQuickReply(id: string, patch: Partial<Omit<QuickReplyRecord, 'id'>>): Promise<void>;
  deleteQuickReply(id: string): Promise<boolean>;

  insertInvitation(row: InvitationRecord): Promise<void>;
  findInvitationByHash(hash: string): Promise<InvitationRecord | undefined>;
  listOpenInvitations(now: number): Promise<InvitationRecord[]>;
  useInvitation(id: string, at: number): Promise<boolean>;
  deleteInvitationsOfUser(userId: string): Promise<void>;

  getSetting(key: string): Promise<string | undefined>;
  listSettings(prefix: string): Promise<{ key: string; value: string }[]>;
  putSetting(key: string, value: string, at: number): Promise<void>;
  /** A setting that holds a structured value (e.g. an inbox's settings override); undefined when absent or reset. */
  getStructuredSetting(key: string): Promise<unknown>;
  /** Stores a structured setting; `undefined` resets it (the key reads as absent afterwards). */
  putStructuredSetting(key: string, value: unknown, at: number): Promise<void>;
  setInboxSettings(inboxId: string, settings: InboxSettingsDocument, at: number): Promise<void>;
}
