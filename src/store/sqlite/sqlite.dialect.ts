import { closeSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { DeferredSync, registerDeferredSync } from './deferred-sync.ts';
import { cachingStatements } from './statement-cache.ts';

/**
 * Opens a SQLite database with sparsam's pragmas:
 * - WAL, so readers never block the writer;
 * - synchronous=FULL, so a webhook acknowledged after commit survives power loss, not only a crash (the inbound
 *   group commit waits for the disk beside the event loop instead: {@link DeferredSync});
 * - secure_delete=ON, so deleted rows are overwritten with zeros in the file (crypto-shredding is the first line,
 *   this is the second);
 * - foreign_keys and a busy timeout for the CLI running beside the server.
 *
 * Kysely gets the handle through {@link cachingStatements}: each SQL text is prepared once.
 */
export function openSqlite<DB>(file: string): { db: Kysely<DB>; raw: BetterSqlite3.Database } {
  // Create the file owner-only before SQLite opens it; the -wal and -shm files inherit its mode.
  closeSync(openSync(file, 'a', 0o600));
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('secure_delete = ON');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) });
  registerDeferredSync(db, new DeferredSync(raw, `${file}-wal`));
  return { db, raw };
}

/** Writes the WAL back into the main file and truncates it, so that no old page image stays in the -wal file. */
export function checkpointSqlite(raw: BetterSqlite3.Database): void {
  raw.pragma('wal_checkpoint(TRUNCATE)');
}
