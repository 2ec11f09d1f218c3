import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../store.ts';

/** Column types that differ between the dialects; everything else is written once. */
export interface ColumnTypes {
  blob: 'blob' | 'bytea';
  millis: 'integer' | 'bigint';
}

export function columnTypes(dialect: SqlDialectName): ColumnTypes {
  return dialect === 'postgres' ? { blob: 'bytea', millis: 'bigint' } : { blob: 'blob', millis: 'integer' };
}

/** A numbered migration. `up` receives the dialect's column types so one file serves SQLite and PostgreSQL. */
export interface SparsamMigration {
  name: string;
  up(db: Kysely<unknown>, t: ColumnTypes, dialect: SqlDialectName): Promise<void>;
}

class ListMigrationProvider implements MigrationProvider {
  constructor(
    private readonly list: readonly SparsamMigration[],
    private readonly dialect: SqlDialectName,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const t = columnTypes(this.dialect);
    return Object.fromEntries(
      this.list.map((m) => [m.name, { up: (db: Kysely<unknown>) => m.up(db, t, this.dialect) } satisfies Migration]),
    );
  }
}

/**
 * Runs every pending migration in order, all in one transaction, and is safe when several instances start at once.
 * PostgreSQL: Kysely's Migrator holds an advisory lock while it migrates, so the others wait and then find nothing
 * pending. SQLite: Kysely takes no lock (it assumes one connection), so a second process on the same file may read
 * "nothing applied yet" and then find the tables it wants to create already there, or lose the write lock; its
 * transaction rolls back whole, and it tries again (a few times, after a short random pause) until it finds the
 * migrations applied. Throws with the failing migration's name.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: SqlDialectName,
  list: readonly SparsamMigration[],
  tableName = 'sparsam_migration',
  schema?: string,
): Promise<string[]> {
  const attempts = dialect === 'sqlite' ? SQLITE_MIGRATION_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db, dialect, list, tableName, schema);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 80)));
    }
  }
}

const SQLITE_MIGRATION_ATTEMPTS = 8;

async function migrateOnce(
  db: Kysely<unknown>,
  dialect: SqlDialectName,
  list: readonly SparsamMigration[],
  tableName: string,
  schema: string | undefined,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new ListMigrationProvider(list, dialect),
    migrationTableName: tableName,
    migrationLockTableName: `${tableName}_lock`,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export { sql };
