import type { ConversationRow, MessageRow } from '../database.ts';

/** What the team features need from the conversation tables. */
export interface TeamPort {
  findConversation(id: string): Promise<ConversationRow | undefined>;
  updateConversation(
    id: string,
    patch: Partial<Pick<ConversationRow, 'assignee_id' | 'labels' | 'unread'>>,
  ): Promise<void>;
  insertNote(row: MessageRow): Promise<void>;
  knownLabels(): Promise<string[]>;
}
