import type { ConsentEventRecord } from './model.ts';

/** The consent ledger: append-only grant and withdrawal entries per contact. */
export interface ConsentPort {
  insertEvent(row: ConsentEventRecord): Promise<void>;
  /** Events of a contact, oldest first; only one purpose when given. */
  listEvents(contactId: string, purpose?: ConsentEventRecord['purpose']): Promise<ConsentEventRecord[]>;
  /** The newest event of a contact for a purpose (withdrawal first when two share a millisecond). */
  latestEvent(contactId: string, purpose: ConsentEventRecord['purpose']): Promise<ConsentEventRecord | undefined>;
  /** {@link latestEvent} of many contacts at once (at most 1,000 a call): by contact id, none for a contact without. */
  latestEvents(
    contactIds: readonly string[],
    purpose: ConsentEventRecord['purpose'],
  ): Promise<Map<string, ConsentEventRecord>>;
}
