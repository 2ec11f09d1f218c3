import type { ConversationRecord, MessageRecord } from './model.ts';

/** What the team features need from the conversation tables. */
export interface TeamPort {
  findConversation(id: string): Promise<ConversationRecord | undefined>;
  updateConversation(
    id: string,
    patch: Partial<Pick<ConversationRecord, 'assignee_id' | 'labels' | 'unread' | 'priority'>>,
  ): Promise<void>;
  insertNote(row: MessageRecord): Promise<void>;
  /** The admins' label list, sorted by name. */
  labelCatalogue(): Promise<LabelEntry[]>;
  /** Adds a label; false when the name is taken. */
  insertLabel(entry: LabelEntry, now: number): Promise<boolean>;
  /** Changes a label's colour; false when there is no such label. */
  updateLabelColor(name: string, color: string | null): Promise<boolean>;
  /** Removes a label from the list and from every conversation; answers how many conversations lost it. */
  deleteLabel(name: string): Promise<{ found: boolean; conversations: number }>;
  /** Conversations whose labels are not all in the list and that hold no sealed legacy labels yet. */
  conversationsWithLegacyLabels(catalogue: readonly string[]): Promise<{ id: string; labels: string[] }[]>;
  /** Keeps the listed labels in plain and the sealed rest in labels_legacy_enc. */
  sealLegacyLabels(id: string, keep: string[], sealed: Uint8Array): Promise<void>;
}

/** A label of the admins' list. */
export interface LabelEntry {
  name: string;
  color: string | null;
}
