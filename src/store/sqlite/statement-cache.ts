import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Statements kept per database: far more than the distinct queries sparsam issues, so the hot ones stay. */
const DEFAULT_CAPACITY = 1_000;

/**
 * The database handle given to Kysely's SQLite dialect, with the prepared statement of each SQL text kept for reuse.
 * Kysely's driver prepares every query anew; preparing (parsing and planning in SQLite) cost about as much as running
 * the small indexed queries of a send itself. Reuse is safe: the driver runs one query at a time on its single
 * connection and runs each statement to its end (`all` or `run`) before the next; a statement still iterating
 * (a streamed query) is never handed out again (`busy`). SQLite re-prepares a kept statement by itself when the
 * schema changed (migrations). The least recently used statement is dropped when the cache is full: texts with
 * inlined values would otherwise grow it without bound.
 */
export function cachingStatements(raw: BetterSqlite3.Database, capacity = DEFAULT_CAPACITY): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => void raw.close(),
    prepare(sql: string) {
      const kept = statements.get(sql);
      if (kept !== undefined && !kept.busy) {
        // Most recently used last: Map keeps insertion order.
        statements.delete(sql);
        statements.set(sql, kept);
        return kept;
      }
      const statement = raw.prepare(sql);
      if (kept === undefined) {
        statements.set(sql, statement);
        if (statements.size > capacity) statements.delete(statements.keys().next().value!);
      }
      return statement;
    },
  };
}
