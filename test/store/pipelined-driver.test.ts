import net from 'node:net';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres/postgres.dialect.ts';
import { sendAhead } from '../../src/store/sql/send-ahead.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';

interface Db {
  items: { id: number; label: string };
}

/** Counts the writes to PostgreSQL's sockets while `fn` runs (a write is one system call and one wake-up). */
async function writesDuring(port: number, fn: () => Promise<void>): Promise<number> {
  const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const original = { _write: proto._write, _writev: proto._writev };
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    proto[name] = function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === port) writes++;
      return original[name].apply(this, args);
    };
  }
  try {
    await fn();
  } finally {
    proto._write = original._write;
    proto._writev = original._writev;
  }
  return writes;
}

describe.runIf(postgresAvailable)('statements sent ahead in a transaction [postgres]', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: Kysely<Db>;
  let port: number;

  beforeAll(async () => {
    database = await createPgDatabase();
    port = Number(new URL(database.url).port || 5432);
    db = (await openPostgres<Db>({ url: database.url, max: 2 })).db;
    await sql`create table items (id integer primary key, label text not null)`.execute(db);
  });
  afterEach(async () => {
    await sql`delete from items`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  const ids = async () => (await db.selectFrom('items').select('id').orderBy('id').execute()).map((r) => r.id);

  it('go out with the next awaited statement, and the last ones with the COMMIT: two writes in all', async () => {
    await db.selectFrom('items').selectAll().execute(); // a connection in the pool, so that connecting is not counted
    let seen: number[] = [];
    const writes = await writesDuring(port, () =>
      db.transaction().execute(async (tx) => {
        await sendAhead(tx, tx.insertInto('items').values({ id: 1, label: 'a' }));
        await sendAhead(tx, tx.insertInto('items').values({ id: 2, label: 'b' }));
        // BEGIN, both inserts and this read leave in one write; the read sees the inserts.
        seen = (await tx.selectFrom('items').select('id').orderBy('id').execute()).map((r) => r.id);
        const third = await sendAhead(tx, tx.insertInto('items').values({ id: 3, label: 'c' }));
        void third.result;
      }),
    );
    expect(seen).toEqual([1, 2]);
    expect(writes).toBe(2);
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('fail the transaction with their own error (a unique violation stays one), and none of it commits', async () => {
    await db.insertInto('items').values({ id: 1, label: 'there before' }).execute();
    const attempt = db.transaction().execute(async (tx) => {
      await sendAhead(tx, tx.insertInto('items').values({ id: 5, label: 'new' }));
      await sendAhead(tx, tx.insertInto('items').values({ id: 1, label: 'duplicate' }));
      await tx.selectFrom('items').selectAll().execute();
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(await ids()).toEqual([1]);
  });

  it('a failure of the last one fails the COMMIT instead of passing unnoticed', async () => {
    await db.insertInto('items').values({ id: 1, label: 'there before' }).execute();
    const attempt = db.transaction().execute(async (tx) => {
      await sendAhead(tx, tx.insertInto('items').values({ id: 6, label: 'new' }));
      await sendAhead(tx, tx.insertInto('items').values({ id: 1, label: 'duplicate' }));
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(await ids()).toEqual([1]);
    // The connection is usable afterwards.
    await db.transaction().execute((tx) => tx.insertInto('items').values({ id: 7, label: 'after' }).execute());
    expect(await ids()).toEqual([1, 7]);
  });

  it('a result awaited by the caller carries the answer; a transaction without statements sends nothing', async () => {
    await db.selectFrom('items').selectAll().execute();
    let inserted = -1;
    await db.transaction().execute(async (tx) => {
      const ahead = await sendAhead(tx, tx.insertInto('items').values({ id: 8, label: 'x' }).returning('id'));
      await tx.selectFrom('items').selectAll().execute();
      inserted = (await ahead.result).rows[0]!.id;
    });
    expect(inserted).toBe(8);
    const writes = await writesDuring(port, () => db.transaction().execute(async () => undefined));
    expect(writes).toBe(0);
  });

  it('outside a transaction run at once', async () => {
    const ahead = await sendAhead(db, db.insertInto('items').values({ id: 9, label: 'alone' }).returning('id'));
    expect(await ids()).toEqual([9]);
    expect((await ahead.result).rows).toEqual([{ id: 9 }]);
  });

  it('a statement that recurs is parsed once per connection; one seen once, and its failures, stay unnamed', async () => {
    const prepared = async (tx: Kysely<Db>) =>
      (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(tx)).rows.map(
        (r) => r.statement,
      );
    const labelled = (tx: Kysely<Db>) => tx.selectFrom('items').select('label').where('id', '=', 41).execute();
    const isLabelled = (statement: string) => statement.includes('select "label" from "items"');
    await db.connection().execute(async (conn) => {
      await labelled(conn);
      expect((await prepared(conn)).filter(isLabelled)).toEqual([]);
      await labelled(conn);
      await labelled(conn);
      expect((await prepared(conn)).filter(isLabelled)).toHaveLength(1);
      // A statement that fails to parse leaves no name behind: every run fails with its own error, not a missing one.
      const broken = () => sql`select no_such_column from items where id = ${41}`.execute(conn);
      for (let i = 0; i < 3; i++) await expect(broken()).rejects.toMatchObject({ code: '42703' });
      expect((await prepared(conn)).filter((s) => s.includes('no_such_column'))).toEqual([]);
    });
  });

  it('a named statement whose table changed (another instance migrated) is prepared anew, not failed for good', async () => {
    // One connection, so that the statements prepared on it are the ones run after the change.
    const single = (await openPostgres<Db>({ url: database.url, max: 1 })).db;
    const other = (await openPostgres<Db>({ url: database.url, max: 1 })).db;
    try {
      await single.insertInto('items').values({ id: 50, label: 'kept' }).execute();
      const all = (tx: Kysely<Db>) => tx.selectFrom('items').selectAll().where('id', '=', 50).execute();
      const inTransaction = () => single.transaction().execute((tx) => all(tx));
      for (let i = 0; i < 3; i++) await all(single);
      for (let i = 0; i < 3; i++) await inTransaction();
      await sql`alter table items add column note text`.execute(other);
      // Outside a transaction: run again at once.
      expect(await all(single)).toEqual([{ id: 50, label: 'kept', note: null }]);
      await sql`alter table items drop column note`.execute(other);
      // Inside one the transaction fails once (PostgreSQL aborted it); the connection forgets its statements.
      await expect(inTransaction()).rejects.toMatchObject({ code: '0A000' });
      expect(await inTransaction()).toEqual([{ id: 50, label: 'kept' }]);
    } finally {
      await single.destroy();
      await other.destroy();
    }
  });
});
