import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DeferredSync, WalSync, deferredSyncFor } from '../../src/store/sqlite/deferred-sync.ts';
import { openSqlite } from '../../src/store/sqlite/sqlite.dialect.ts';
import { cachingStatements } from '../../src/store/sqlite/statement-cache.ts';

interface Db {
  notes: { id: number; text: string };
}

/** A disk whose flushes finish only when the test says so. */
class HeldDisk {
  readonly started: { file: string; finish: () => void; fail: (error: Error) => void }[] = [];
  sync = (file: string) =>
    new Promise<void>((resolve, reject) => this.started.push({ file, finish: resolve, fail: reject }));
  finishAll(): void {
    for (const s of this.started.splice(0)) s.finish();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(disk: HeldDisk) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-deferred-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.db');
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec('create table notes (id integer primary key, text text not null)');
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) });
  return { db, raw, file, deferred: new DeferredSync(raw, `${file}-wal`, disk.sync) };
}

/** `pragma synchronous` as the connection reports it (1 NORMAL, 2 FULL), prepared anew: SQLite reads it at prepare. */
function synchronous(raw: BetterSqlite3.Database): number {
  return raw.pragma('synchronous', { simple: true }) as number;
}

/** Lets pending promise callbacks and I/O run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('SQLite commits whose flush runs beside the event loop', () => {
  it('returns at COMMIT with the row visible, and is durable only once the WAL is flushed', async () => {
    const disk = new HeldDisk();
    const { db, raw, file, deferred } = open(disk);
    const seen: number[] = [];
    const { value, durable } = await deferred.commit(db, async (connection) => {
      seen.push(synchronous(raw));
      return connection
        .transaction()
        .execute((tx) => tx.insertInto('notes').values({ id: 1, text: 'first' }).executeTakeFirst());
    });
    expect(Number(value.numInsertedOrUpdatedRows)).toBe(1);
    // NORMAL for this transaction only: the commit did not wait for the disk, every other one still does.
    expect(seen).toEqual([1]);
    expect(synchronous(raw)).toBe(2);
    expect(await db.selectFrom('notes').select('text').execute()).toEqual([{ text: 'first' }]);

    let flushed = false;
    void durable.then(() => (flushed = true));
    await settle();
    expect(disk.started.map((s) => s.file)).toEqual([`${file}-wal`]);
    expect(flushed).toBe(false);
    disk.finishAll();
    await durable;
    expect(flushed).toBe(true);
    await db.destroy();
  });

  it('a failed transaction writes nothing, leaves FULL in force and asks for no flush', async () => {
    const disk = new HeldDisk();
    const { db, raw, deferred } = open(disk);
    await expect(
      deferred.commit(db, (connection) =>
        connection.transaction().execute(async (tx) => {
          await tx.insertInto('notes').values({ id: 1, text: 'lost' }).execute();
          throw new Error('the group failed');
        }),
      ),
    ).rejects.toThrow('the group failed');
    expect(await db.selectFrom('notes').selectAll().execute()).toEqual([]);
    expect(synchronous(raw)).toBe(2);
    expect(disk.started).toHaveLength(0);
    await db.destroy();
  });

  it('other writes wait for their turn on the connection and commit with FULL', async () => {
    const disk = new HeldDisk();
    const { db, raw, deferred } = open(disk);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const group = deferred.commit(db, (connection) =>
      connection.transaction().execute(async (tx) => {
        await tx.insertInto('notes').values({ id: 1, text: 'group' }).execute();
        await gate;
      }),
    );
    await settle();
    // Another writer asks for the connection while the group's transaction holds it.
    let levelAtOtherWrite = 0;
    const other = db
      .insertInto('notes')
      .values({ id: 2, text: 'other' })
      .execute()
      .then(() => (levelAtOtherWrite = synchronous(raw)));
    await settle();
    expect(levelAtOtherWrite).toBe(0);
    release();
    await group;
    await other;
    expect(levelAtOtherWrite).toBe(2);
    expect((await db.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2]);
    disk.finishAll();
    await db.destroy();
  });

  it('flushes asked for while one runs share the next one', async () => {
    const disk = new HeldDisk();
    const wal = new WalSync('/nowhere-wal', disk.sync);
    const first = wal.sync();
    const waiting = [wal.sync(), wal.sync(), wal.sync()];
    await settle();
    expect(disk.started).toHaveLength(1);
    let shared = 0;
    for (const w of waiting) void w.then(() => shared++);
    disk.finishAll();
    await first;
    await settle();
    // The running flush may have missed their writes: they wait for one more, which all three share.
    expect(shared).toBe(0);
    expect(disk.started).toHaveLength(1);
    disk.finishAll();
    await Promise.all(waiting);
    expect(shared).toBe(3);
  });

  it('keeps one descriptor of the WAL between flushes, and follows a WAL file created anew', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-deferred-'));
    dirs.push(dir);
    const file = path.join(dir, 'x.db-wal');
    const held = () =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(file) ? [target] : [];
        } catch {
          return []; // closed meanwhile (the listing's own descriptor)
        }
      });
    const wal = new WalSync(file);
    await wal.sync(); // no WAL yet: nothing to flush, nothing opened
    expect(held()).toEqual([]);
    writeFileSync(file, 'frames');
    await wal.sync();
    await wal.sync();
    expect(held()).toEqual([file]);
    // The last connection closed (SQLite removed the WAL) and another one wrote a new one.
    rmSync(file);
    writeFileSync(file, 'new frames');
    await wal.sync();
    expect(held()).toEqual([file]);
    wal.close();
    expect(held()).toEqual([]);
  });

  it("is registered for sparsam's SQLite databases and flushes the real WAL file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-deferred-'));
    dirs.push(dir);
    const opened = openSqlite<Db>(path.join(dir, 'real.db'));
    await sql`create table notes (id integer primary key, text text not null)`.execute(opened.db);
    const deferred = deferredSyncFor(opened.db);
    expect(deferred).toBeDefined();
    const { durable } = await deferred!.commit(opened.db, (connection) =>
      connection.transaction().execute((tx) => tx.insertInto('notes').values({ id: 1, text: 'on disk' }).execute()),
    );
    await durable;
    expect(synchronous(opened.raw)).toBe(2);
    await opened.db.destroy();
    const again = new BetterSqlite3(path.join(dir, 'real.db'));
    expect(again.prepare('select text from notes').all()).toEqual([{ text: 'on disk' }]);
    again.close();
  });
});
