import type { ConsentEventRow } from '../database.ts';

/** The consent ledger: append-only grant and withdrawal entries per contact. */
export interface ConsentPort {
  insertEvent(row: ConsentEventRow): Promise<void>;
  /** Events of a contact, oldest first; only one purpose when given. */
  listEvents(contactId: string, purpose?: ConsentEventRow['purpose']): Promise<ConsentEventRow[]>;
  /** The newest event of a contact for a purpose (withdrawal first when two share a millisecond). */
  latestEvent(contactId: string, purpose: ConsentEventRow['purpose']): Promise<ConsentEventRow | undefined>;
}
