import type { ContactRecord, ConversationRecord } from './model.ts';

/** Contacts (pseudonymous: found only by their lookup hash) and the per-inbox label sequence. */
export interface ContactPort {
  findByLookup(channelId: string, lookupHash: string): Promise<ContactRecord | undefined>;
  /**
   * The contacts of a channel with any of these lookup hashes, each with its current conversation (open or waiting
   * for consent; undefined when it has none), in one query: what a group of inbound messages reads before it writes.
   */
  findByLookupsWithCurrent(
    channelId: string,
    lookupHashes: readonly string[],
  ): Promise<{ contact: ContactRecord; current: ConversationRecord | undefined }[]>;
  findById(id: string): Promise<ContactRecord | undefined>;
  /**
   * Inserts the contact with the inbox's next label number, unless a contact with the same (channel, lookup hash)
   * exists; then nothing changes and the existing row is returned with `created: false`. Atomic on both dialects.
   */
  createWithLabel(row: Omit<ContactRecord, 'label_seq'>): Promise<{ contact: ContactRecord; created: boolean }>;
  /**
   * {@link createWithLabel} for several new contacts in one transaction, label numbers in the given order. When any
   * of them exists already (another request created it), nothing is written and the answer is undefined: the caller
   * creates them one by one.
   */
  createManyWithLabels(rows: readonly Omit<ContactRecord, 'label_seq'>[]): Promise<ContactRecord[] | undefined>;
  /** Takes the inbox's next label number (atomic increment of inboxes.next_seq). */
  nextLabelSeq(inboxId: string): Promise<number>;
  /** Label prefix of an inbox ("Anfrage"), or undefined when the inbox does not exist. */
  labelPrefix(inboxId: string): Promise<string | undefined>;
  /** Kind of a channel ("whatsapp-cloud"), or undefined when it does not exist. */
  channelKind(channelId: string): Promise<string | undefined>;
  updateContact(
    id: string,
    patch: Partial<Pick<ContactRecord, 'lookup_hash' | 'address_enc' | 'profile_name_enc' | 'last_inbound_at'>>,
  ): Promise<void>;
  /** Up to `limit` contacts with ids after `afterId`, ordered by id: what re-peppering the lookup hashes needs. */
  listForRepepper(
    afterId: string,
    limit: number,
  ): Promise<Pick<ContactRecord, 'id' | 'channel_id' | 'lookup_hash' | 'address_enc'>[]>;
  /** Replaces a contact's lookup hash while it is still `fromHash`; true when replaced. */
  replaceLookupHash(id: string, fromHash: string, toHash: string): Promise<boolean>;
}
