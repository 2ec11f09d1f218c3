import type { MediaRow } from '../database.ts';

/** Media files of conversations; bytes are sealed by core before they get here. */
export interface MediaPort {
  insert(row: MediaRow): Promise<void>;
  findById(id: string): Promise<MediaRow | undefined>;
  update(id: string, patch: Partial<Omit<MediaRow, 'id'>>): Promise<void>;
  /** Removes a media row and its sealed bytes (the customer revoked the message). */
  delete(id: string): Promise<void>;
  /** Metadata (no bytes) of several media rows, for message lists. */
  describe(ids: readonly string[]): Promise<Pick<MediaRow, 'id' | 'mime_type' | 'size' | 'state'>[]>;
  /** Media rows of a conversation in a given state (to find an earlier rejection). */
  countByState(conversationId: string, state: MediaRow['state']): Promise<number>;
}
