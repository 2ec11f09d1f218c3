import type { ContactRecord, ConversationRecord } from './model.ts';

export interface ErasedRowCounts {
  conversations: number;
  messages: number;
  media: number;
  consentEvents: number;
  contacts: number;
}

/**
 * Content-free tombstones of the erased inbound messages' provider ids (their stored keyed hashes) until `until`: a
 * provider's redelivery of an erased message within its retry window is then recognised and has no effect.
 */
export interface Tombstones {
  now: number;
  until: number;
  /**
   * Only messages received at or after this time get a tombstone: one received earlier is past every provider's
   * retry window already (a tombstone written when it arrived would have expired by now), so a retention sweep of
   * old conversations writes none.
   */
  receivedSince: number;
}

/** Row deletion for erasure (the data keys are destroyed through the KeyPort first). */
export interface ErasurePort {
  findConversation(id: string): Promise<(ConversationRecord & { label_prefix: string | null }) | undefined>;
  findContact(id: string): Promise<(ContactRecord & { label_prefix: string | null }) | undefined>;
  conversationIdsOfContact(contactId: string): Promise<string[]>;
  /** Deletes a conversation with its messages and media, in one transaction. */
  deleteConversation(id: string, tombstones?: Tombstones): Promise<ErasedRowCounts>;
  /** Deletes several conversations with their messages and media in one transaction; counts per conversation id. */
  deleteConversations(ids: readonly string[], tombstones?: Tombstones): Promise<Map<string, ErasedRowCounts>>;
  /**
   * Deletes a contact with all its conversations, messages, media and consent events, in one transaction. With
   * `keepConsentProofUntil`, the consent events are not deleted but reduced to content-free proof (evidence and
   * evidence message removed, `proof_until` set); they are then not counted as erased.
   */
  deleteContact(
    id: string,
    options?: { keepConsentProofUntil?: number; tombstones?: Tombstones },
  ): Promise<ErasedRowCounts>;
  /**
   * True when nothing needs the contact any more: no conversation left and no standing marketing opt-in (its newest
   * marketing consent entry is not a grant). Consent entries alone keep no contact alive.
   */
  contactIsOrphan(contactId: string): Promise<boolean>;
  /** Makes deleted content unrecoverable from the live files (SQLite: WAL checkpoint after secure_delete). */
  scrub(): Promise<void>;
}
