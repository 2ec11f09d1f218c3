import { afterEach, beforeEach, expect, it } from 'vitest';
import type { InboxRow } from '../../src/store/database.ts';
import { PreparedInsert, PreparedQuery } from '../../src/store/sql/prepared-query.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';

describeEachStore('prepared queries', (dialect) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    const now = Date.now();
    await t.store.db
      .insertInto('inboxes')
      .values(
        ['a', 'b', 'c'].map((id, i) => ({
          id,
          label_prefix: `P${i}`,
          language: 'de',
          next_seq: i + 1,
          settings: '{}',
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  });
  afterEach(async () => t.cleanup());

  it('runs the query compiled once with each call its own values, also inside a transaction', async () => {
    const bySeq = new PreparedQuery(2, (db, prefix: string, minSeq: number) =>
      db
        .selectFrom('inboxes')
        .select('id')
        .where('language', '=', 'de')
        .where('label_prefix', '<>', prefix)
        .where('next_seq', '>=', minSeq)
        .orderBy('id'),
    );
    const ids = async (prefix: string, minSeq: number) =>
      (await bySeq.execute(t.store.db, prefix, minSeq)).rows.map((r) => r.id);
    expect(await ids('P0', 1)).toEqual(['b', 'c']);
    expect(await ids('P2', 2)).toEqual(['b']);
    expect(await ids('none', 3)).toEqual(['c']);
    const inTx = await t.store.db.transaction().execute(async (tx) => (await bySeq.execute(tx, 'P1', 1)).rows);
    expect(inTx.map((r) => r.id)).toEqual(['a', 'c']);

    const bump = new PreparedQuery(2, (db, id: string, seq: number) =>
      db.updateTable('inboxes').set({ next_seq: seq }).where('id', '=', id),
    );
    expect(Number((await bump.execute(t.store.db, 'b', 40)).numAffectedRows)).toBe(1);
    expect(Number((await bump.execute(t.store.db, 'gone', 41)).numAffectedRows)).toBe(0);
    const row = await t.store.db.selectFrom('inboxes').select('next_seq').where('id', '=', 'b').executeTakeFirst();
    expect(Number(row?.next_seq)).toBe(40);
  });

  it('refuses a query that uses an argument twice or not at all', async () => {
    const twice = new PreparedQuery(1, (db, id: string) =>
      db.selectFrom('inboxes').select('id').where('id', '=', id).where('label_prefix', '<>', id),
    );
    await expect(twice.execute(t.store.db, 'a')).rejects.toThrow(/exactly once/);
    const unused = new PreparedQuery(1, (db, _id: string) => db.selectFrom('inboxes').select('id'));
    await expect(unused.execute(t.store.db, 'a')).rejects.toThrow(/exactly once/);
  });

  it('inserts rows with a statement built once per number of rows, each call with its own values', async () => {
    const builds: number[] = [];
    const insert = new PreparedInsert<InboxRow, { id: string }>(
      ['id', 'label_prefix', 'language', 'next_seq', 'settings', 'created_at', 'updated_at'],
      (db, rows) => {
        builds.push(rows.length);
        return db
          .insertInto('inboxes')
          .values(rows)
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id');
      },
    );
    const row = (id: string, seq: number): InboxRow => ({
      id,
      label_prefix: `X${seq}`,
      language: 'en',
      next_seq: seq,
      settings: '{}',
      created_at: seq,
      updated_at: seq,
    });
    const run = async (rows: InboxRow[]) =>
      (await t.store.db.executeQuery(insert.compiled(t.store.db, rows))).rows.map((r) => r.id).sort();
    expect(await run([row('d', 4), row('e', 5)])).toEqual(['d', 'e']);
    // The same size again: the statement is not built anew; a row that exists already is left out (on conflict).
    expect(await run([row('a', 9), row('f', 6)])).toEqual(['f']);
    expect(
      await t.store.db.transaction().execute(async (tx) => {
        const { rows } = await tx.executeQuery(insert.compiled(tx, [row('g', 7)]));
        return rows.map((r) => r.id);
      }),
    ).toEqual(['g']);
    expect(builds).toEqual([2, 1]);
    const stored = await t.store.db
      .selectFrom('inboxes')
      .select(['id', 'label_prefix', 'next_seq'])
      .orderBy('id')
      .execute();
    expect(stored.map((r) => [r.id, r.label_prefix, Number(r.next_seq)])).toEqual([
      ['a', 'P0', 1],
      ['b', 'P1', 2],
      ['c', 'P2', 3],
      ['d', 'X4', 4],
      ['e', 'X5', 5],
      ['f', 'X6', 6],
      ['g', 'X7', 7],
    ]);
  });
});
