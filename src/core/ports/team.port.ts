import type { ConversationRecord, MessageRecord } from './model.ts';

/** What the team features need from the conversation tables. */
export interface TeamPort {
  findConversation(id: string): Promise<ConversationRecord | undefined>;
  updateConversation(
    id: string,
    patch: Partial<Pick<ConversationRecord, 'assignee_id' | 'labels' | 'unread' | 'priority'>>,
  ): Promise<void>;
  insertNote(row: MessageRecord): Promise<void>;
  knownLabels(): Promise<string[]>;
}
