import { sql } from 'kysely';
import type { SparsamMigration } from './migration.ts';

/**
 * `send_pacing`: the outbound pace of each channel shared by every instance on one PostgreSQL database (read and
 * written only by src/store/postgres/send-pacing.store.ts). `next_at` is the database clock's time (epoch ms, with
 * fractions) of the next free send slot; `held_until` the end of the latest provider hold-off (429/130429). No
 * address, no content: channel ids and times only.
 *
 * On PostgreSQL the table is UNLOGGED: every send claims slots, and a claim that waited for a WAL flush would cost
 * each send a disk sync; after a database crash the table is empty again, which only means an idle start. SQLite
 * gets the same table for one schema on both dialects, but a SQLite deployment is one instance and paces in-process.
 */
export const sendPacing: SparsamMigration = {
  name: '010-send-pacing',
  async up(db, _t, dialect) {
    let table = db.schema.createTable('send_pacing');
    if (dialect === 'postgres') table = table.modifyFront(sql`unlogged`);
    await table
      .addColumn('sender', 'text', (c) => c.primaryKey())
      .addColumn('next_at', 'double precision', (c) => c.notNull())
      .addColumn('held_until', 'double precision', (c) => c.notNull())
      .execute();
  },
};
