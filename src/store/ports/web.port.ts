import type { InvitationRow, QuickReplyRow } from '../database.ts';

/** Quick replies, invitations and installation settings of the browser inbox. */
export interface WebPort {
  listQuickReplies(): Promise<QuickReplyRow[]>;
  findQuickReply(id: string): Promise<QuickReplyRow | undefined>;
  findQuickReplyByShortcut(shortcut: string): Promise<QuickReplyRow | undefined>;
  insertQuickReply(row: QuickReplyRow): Promise<void>;
  updateQuickReply(id: string, patch: Partial<Omit<QuickReplyRow, 'id'>>): Promise<void>;
  deleteQuickReply(id: string): Promise<boolean>;

  insertInvitation(row: InvitationRow): Promise<void>;
  findInvitationByHash(hash: string): Promise<InvitationRow | undefined>;
  listOpenInvitations(now: number): Promise<InvitationRow[]>;
  useInvitation(id: string, at: number): Promise<boolean>;
  deleteInvitationsOfUser(userId: string): Promise<void>;

  getSetting(key: string): Promise<string | undefined>;
  listSettings(prefix: string): Promise<{ key: string; value: string }[]>;
  putSetting(key: string, value: string, at: number): Promise<void>;
  setInboxSettings(inboxId: string, settings: string, at: number): Promise<void>;
}
