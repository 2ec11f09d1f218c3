import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { PipelinedPostgresDialect } from './pipelined-driver.ts';

// int8 columns hold epoch milliseconds and sequence numbers, all far below 2^53: parse them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Schema for every table (created if missing); used by the key store to live apart from the main tables. */
  schema?: string;
  max?: number;
}

/** Opens a PostgreSQL pool. With `schema`, every connection's search_path points at it. */
export async function openPostgres<DB>(options: PostgresOptions): Promise<{ db: Kysely<DB>; pool: pg.Pool }> {
  if (options.schema) {
    // Create the schema once through a plain connection before the pool pins search_path to it.
    const setup = new pg.Client({ connectionString: options.url });
    await setup.connect();
    const schema = options.schema.replace(/"/g, '');
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } catch (error) {
      // Two instances creating the schema at the same instant: IF NOT EXISTS does not stop PostgreSQL from failing
      // the second with a unique violation on pg_namespace. The schema exists then, which is all that is needed.
      const found = await setup.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (found.rowCount === 0) throw error;
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Statements sent ahead in a transaction go out without waiting for the previous answer (pipelined-driver.ts).
    pipeline: true,
  } as pg.PoolConfig);
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PipelinedPostgresDialect(pool) });
  return { db, pool };
}

export async function pingPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
