import type { ChannelRecord } from './model.ts';

/** A channel created in the admin screen, as stored: plain settings and the sealed secrets. */
export interface ManagedChannelRow {
  id: string;
  kind: string;
  inboxId: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  secretsSealed: Uint8Array;
}

/** Rows of channels created in the admin screen (`channels.source = 'ui'`). */
export interface ManagedChannelPort {
  /** Channels created in the admin screen, by id. */
  listManaged(): Promise<ChannelRecord[]>;
  findChannel(id: string): Promise<ChannelRecord | undefined>;
  inboxExists(id: string): Promise<boolean>;
  /** Inserts unless a channel with this id exists (declared or managed); false = the id is taken. */
  insertManaged(row: ManagedChannelRow, now: number): Promise<boolean>;
  /** Changes a managed channel's inbox, settings and sealed secrets (never a declared one's). */
  updateManaged(row: ManagedChannelRow, now: number): Promise<void>;
  /** Contacts of the channel (their conversations go with them when they are erased). */
  contactIdsOfChannel(channelId: string): Promise<string[]>;
  /** Conversations of the channel (normally none left once its contacts are erased). */
  conversationIdsOfChannel(channelId: string): Promise<string[]>;
  /**
   * Deletes the channel's remaining content-free rows (campaigns, pacing, parked statuses, receipts of redeliveries)
   * and the channel itself; content and contacts must have been erased before.
   */
  deleteChannel(channelId: string): Promise<void>;
}
