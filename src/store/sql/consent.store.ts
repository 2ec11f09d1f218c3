import type { ConsentEventRecord } from '../../core/ports/model.ts';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.ts';
import type { ConsentPort } from '../../core/ports/consent.port.ts';
import { consentMetric, countDaily } from './daily-counts.ts';

/** ConsentPort over the main database. */
export class ConsentStore implements ConsentPort {
  constructor(private readonly db: Kysely<Database>) {}

  async insertEvent(row: ConsentEventRecord): Promise<void> {
    await this.db.insertInto('consent_events').values(row).execute();
    await countDaily(this.db, [{ at: row.at, metric: consentMetric(row) }]);
  }

  listEvents(contactId: string, purpose?: ConsentEventRecord['purpose']): Promise<ConsentEventRecord[]> {
    let q = this.db.selectFrom('consent_events').selectAll().where('contact_id', '=', contactId);
    if (purpose) q = q.where('purpose', '=', purpose);
    return q
      .orderBy('at')
      .orderBy(sql`case when action = 'withdraw' then 1 else 0 end`)
      .orderBy('id')
      .execute();
  }

  latestEvent(contactId: string, purpose: ConsentEventRecord['purpose']): Promise<ConsentEventRecord | undefined> {
    return this.db
      .selectFrom('consent_events')
      .selectAll()
      .where('contact_id', '=', contactId)
      .where('purpose', '=', purpose)
      .orderBy('at', 'desc')
      .orderBy(sql`case when action = 'withdraw' then 0 else 1 end`)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async latestEvents(
    contactIds: readonly string[],
    purpose: ConsentEventRecord['purpose'],
  ): Promise<Map<string, ConsentEventRecord>> {
    const out = new Map<string, ConsentEventRecord>();
    for (let i = 0; i < contactIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('consent_events')
        .selectAll()
        .where('contact_id', 'in', contactIds.slice(i, i + 500))
        .where('purpose', '=', purpose)
        .orderBy('contact_id')
        .orderBy('at')
        .orderBy(sql`case when action = 'withdraw' then 1 else 0 end`)
        .orderBy('id')
        .execute();
      // Oldest first within a contact, as latestEvent's order reversed: the last one seen is the newest.
      for (const row of rows) out.set(row.contact_id, row);
    }
    return out;
  }
}
