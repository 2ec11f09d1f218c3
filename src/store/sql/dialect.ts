import { PostgresAdapter, type Kysely } from 'kysely';

/** Whether `db` (a handle or a transaction on it) talks to PostgreSQL; otherwise it is SQLite. */
export function onPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
