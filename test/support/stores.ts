import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import type { SqlDialectName, Store } from '../../src/store/store.ts';

/**
 * Store test support: every contract suite runs once per dialect. SQLite always; PostgreSQL when it answers at
 * SPARSAM_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres). With SPARSAM_TEST_POSTGRES=required
 * (set by .ci/run) a missing PostgreSQL fails the run instead of being reported as skipped.
 */
export const PG_ADMIN_URL = process.env.SPARSAM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_REQUIRED = process.env.SPARSAM_TEST_POSTGRES === 'required';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresAvailable: boolean = await probePostgres();
if (!postgresAvailable && PG_REQUIRED) {
  throw new Error(`SPARSAM_TEST_POSTGRES=required but PostgreSQL does not answer at ${PG_ADMIN_URL}`);
}
if (!postgresAvailable) {
  console.warn(`[sparsam tests] PostgreSQL not reachable at ${PG_ADMIN_URL}: PostgreSQL suites are skipped`);
}

export const dialects: SqlDialectName[] = postgresAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

function urlFor(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sparsam_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: urlFor(name),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestStore {
  dialect: SqlDialectName;
  store: Store;
  dataDir: string;
  /** Environment that points sparsam at this store (for end-to-end tests that start a server). */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Opens a fresh, migrated store of the given dialect with its own data dir (and database, on PostgreSQL). */
export async function openTestStore(dialect: SqlDialectName): Promise<TestStore> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `sparsam-${dialect}-`));
  let pgDb: { url: string; drop(): Promise<void> } | undefined;
  const env: Record<string, string> = { SPARSAM_DATA_DIR: dataDir };
  if (dialect === 'postgres') {
    pgDb = await createPgDatabase();
    env.SPARSAM_DATABASE_URL = pgDb.url;
    env.SPARSAM_KEYSTORE_URL = pgDb.url;
  }
  const store = await openStore({
    dataDir,
    databaseUrl: env.SPARSAM_DATABASE_URL,
    keystoreUrl: env.SPARSAM_KEYSTORE_URL,
  });
  return {
    dialect,
    store,
    dataDir,
    env,
    async cleanup() {
      await store.close().catch(() => undefined);
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Declares `fn`'s tests once per available dialect, in a describe block named "<name> [sqlite]" and
 * "<name> [postgres]" so that the run's report shows both.
 */
export function describeEachStore(name: string, fn: (dialect: SqlDialectName) => void): void {
  for (const dialect of dialects) describe(`${name} [${dialect}]`, () => fn(dialect));
}
