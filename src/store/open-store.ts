import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { AppError } from '../shared/app-error.ts';
import type { Database, KeystoreDatabase } from './database.ts';
import { keystoreMigrations, mainMigrations } from './migrations/index.ts';
import { migrateToLatest } from './migrations/migration.ts';
import { deferredSyncFor } from './sqlite/deferred-sync.ts';
import { checkpointSqlite, openSqlite } from './sqlite/sqlite.dialect.ts';
import type { SqlDialectName, Store, StoreCapabilities } from './store.ts';

export interface StoreSettings {
  dataDir: string;
  databaseUrl?: string | undefined;
  keystoreUrl?: string | undefined;
  /** Skip migrations (doctor uses this to inspect without changing anything). */
  migrate?: boolean;
}

const MAIN_FILE = 'sparsam.db';
const KEYS_FILE = 'keys.db';
/** PostgreSQL schema of the key store, so that it can share a database yet stay out of main-data dumps. */
export const KEYSTORE_SCHEMA = 'sparsam_keys';

const capabilitiesOf: Record<SqlDialectName, StoreCapabilities> = {
  sqlite: { skipLocked: false, listenNotify: false, needsCheckpointAfterErase: true },
  postgres: { skipLocked: true, listenNotify: true, needsCheckpointAfterErase: false },
};

interface Opened<DB> {
  db: Kysely<DB>;
  dialect: SqlDialectName;
  files: string[];
  scrub(): void;
  close(): Promise<void>;
}

async function openOne<DB>(url: string | undefined, sqliteFile: string, schema?: string): Promise<Opened<DB>> {
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when PostgreSQL is used: a SQLite installation never loads the pg driver.
    const { openPostgres } = await import('./postgres/postgres.dialect.ts');
    const { db } = await openPostgres<DB>({ url, ...(schema ? { schema } : {}) });
    return { db, dialect: 'postgres', files: [], scrub: () => undefined, close: () => db.destroy() };
  }
  const file = url?.startsWith('sqlite:') ? url.slice('sqlite:'.length) : sqliteFile;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const { db, raw } = openSqlite<DB>(file);
  return {
    db,
    dialect: 'sqlite',
    files: [file, `${file}-wal`, `${file}-shm`],
    scrub: () => checkpointSqlite(raw),
    close: async () => {
      checkpointSqlite(raw);
      deferredSyncFor(db)?.close();
      await db.destroy();
    },
  };
}

/**
 * Opens the main database and the separate key store and brings both to the latest migration. SQLite files live
 * in the data dir (created with mode 0700); PostgreSQL is used when a postgres:// URL is given. A PostgreSQL key
 * store keeps its tables in the schema `sparsam_keys`, so that a dump of the main schema holds no key material.
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  const dataDir = path.resolve(settings.dataDir);
  let main: Opened<Database> | undefined;
  let keys: Opened<KeystoreDatabase> | undefined;
  try {
    main = await openOne<Database>(settings.databaseUrl, path.join(dataDir, MAIN_FILE));
    keys = await openOne<KeystoreDatabase>(settings.keystoreUrl, path.join(dataDir, KEYS_FILE), KEYSTORE_SCHEMA);
    if (settings.migrate !== false) {
      await migrateToLatest(main.db as Kysely<unknown>, main.dialect, mainMigrations);
      await migrateToLatest(
        keys.db as Kysely<unknown>,
        keys.dialect,
        keystoreMigrations,
        'sparsam_migration',
        keys.dialect === 'postgres' ? KEYSTORE_SCHEMA : undefined,
      );
    }
  } catch (error) {
    await main?.close().catch(() => undefined);
    await keys?.close().catch(() => undefined);
    throw new AppError('STORE_UNAVAILABLE', `cannot open the store: ${describeStoreError(error)}`, undefined, {
      cause: error,
    });
  }
  const m = main;
  const k = keys;
  return {
    dialect: m.dialect,
    keysDialect: k.dialect,
    db: m.db,
    keys: k.db,
    capabilities: capabilitiesOf[m.dialect],
    files: [...m.files, ...k.files],
    async ping() {
      await sql`select 1`.execute(m.db);
      await sql`select 1`.execute(k.db);
    },
    async scrub() {
      m.scrub();
      k.scrub();
    },
    async close() {
      await m.close();
      await k.close();
    },
  };
}

/** A store error in plain words, without the connection string (it may hold a password). */
export function describeStoreError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { code?: string };
  if (e?.code === 'ECONNREFUSED') return 'PostgreSQL refused the connection (is it running, and is the port right?)';
  if (e?.code === '3D000') return 'the PostgreSQL database does not exist (create it first)';
  if (e?.code === '28P01' || e?.code === '28000') return 'PostgreSQL rejected the user name or password';
  if (e?.code === 'ENOTFOUND') return 'the PostgreSQL host name cannot be resolved';
  if (e?.code === 'SQLITE_CANTOPEN') return 'the SQLite file cannot be opened (check the data dir and its rights)';
  const message = e instanceof Error ? e.message : String(error);
  return message.replace(/postgres(ql)?:\/\/[^\s]+/g, 'postgres://…');
}
