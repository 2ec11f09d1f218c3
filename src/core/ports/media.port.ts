import type { MediaRecord } from './model.ts';

/** Media files of conversations; bytes are sealed by core before they get here. */
export interface MediaPort {
  insert(row: MediaRecord): Promise<void>;
  findById(id: string): Promise<MediaRecord | undefined>;
  update(id: string, patch: Partial<Omit<MediaRecord, 'id'>>): Promise<void>;
  /** Removes a media row and its sealed bytes (the customer revoked the message). */
  delete(id: string): Promise<void>;
  /** Metadata (no bytes) of several media rows, for message lists. */
  describe(ids: readonly string[]): Promise<Pick<MediaRecord, 'id' | 'mime_type' | 'size' | 'state'>[]>;
  /** Media rows of a conversation in a given state (to find an earlier rejection). */
  countByState(conversationId: string, state: MediaRecord['state']): Promise<number>;
}
