import type { Kysely } from 'kysely';
import type { Database, KeystoreDatabase } from './database.ts';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Capability flags of a dialect, read by code that must behave differently (job claiming, live fan-out, erasure
 * hygiene) instead of scattering `if (dialect === …)`.
 */
export interface StoreCapabilities {
  /** `SELECT … FOR UPDATE SKIP LOCKED` is available, so several instances can share the job table. */
  skipLocked: boolean;
  /** LISTEN/NOTIFY is available for live updates across instances. */
  listenNotify: boolean;
  /** Freed pages must be overwritten and the WAL truncated after erasure (SQLite secure_delete + checkpoint). */
  needsCheckpointAfterErase: boolean;
}

/** Both databases of sparsam, opened and migrated. Only store/ and the composition root see this object. */
export interface Store {
  readonly dialect: SqlDialectName;
  readonly keysDialect: SqlDialectName;
  readonly db: Kysely<Database>;
  readonly keys: Kysely<KeystoreDatabase>;
  readonly capabilities: StoreCapabilities;
  /** Files that hold data on disk (SQLite only), for diagnostics and the raw-file privacy tests. */
  readonly files: readonly string[];
  /** Answers when both databases respond; throws otherwise. */
  ping(): Promise<void>;
  /**
   * Makes deleted content unrecoverable from the live files: on SQLite a WAL checkpoint (TRUNCATE) after
   * secure_delete; on PostgreSQL a no-op, since dead tuples are outside the files an application can read and
   * VACUUM reclaims them (documented in docs/deployment.md).
   */
  scrub(): Promise<void>;
  close(): Promise<void>;
}
