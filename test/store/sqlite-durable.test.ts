import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableSqliteDialect, WalSync } from '../../src/store/sqlite/durable-driver.ts';
import { checkpointSqlite, openSqlite } from '../../src/store/sqlite/sqlite.dialect.ts';
import { cachingStatements } from '../../src/store/sqlite/statement-cache.ts';

interface Db {
  notes: { id: number; text: string };
}

/** A disk whose syncs finish only when the test says so. */
class HeldDisk {
  readonly started: { file: FileHandle; finish: () => void; fail: (error: Error) => void }[] = [];
  sync = (file: FileHandle) =>
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
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-durable-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.db');
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('create table notes (id integer primary key, text text not null)');
  const db = new Kysely<Db>({
    dialect: new DurableSqliteDialect(cachingStatements(raw), new WalSync(`${file}-wal`, disk.sync)),
  });
  return { db, file };
}

/** Lets pending promise callbacks and I/O run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('SQLite commits made durable beside the event loop', () => {
  it('a transaction returns only after the WAL is synced, while the next one runs meanwhile', async () => {
    const disk = new HeldDisk();
    const { db, file } = open(disk);
    let firstDone = false;
    const first = db
      .transaction()
      .execute((tx) => tx.insertInto('notes').values({ id: 1, text: 'first' }).execute())
      .then(() => (firstDone = true));
    await settle();
    expect(disk.started).toHaveLength(1);
    expect((await disk.started[0]!.file.stat()).ino).toBe(statSync(`${file}-wal`).ino);
    expect(firstDone).toBe(false);

    // The connection was handed on at COMMIT: a second transaction runs while the first waits for the disk.
    const second = db.transaction().execute((tx) => tx.insertInto('notes').values({ id: 2, text: 'second' }).execute());
    await settle();
    expect((await db.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2]);
    expect(firstDone).toBe(false);

    disk.finishAll();
    await first;
    expect(firstDone).toBe(true);
    // The second commit came after the first sync had started: it needs a sync of its own.
    await settle();
    expect(disk.started).toHaveLength(1);
    disk.finishAll();
    await second;
    await db.destroy();
  });

  it('a write outside a transaction waits for the disk; a read does not', async () => {
    const disk = new HeldDisk();
    const { db } = open(disk);
    let written = false;
    const write = db
      .insertInto('notes')
      .values({ id: 1, text: 'alone' })
      .execute()
      .then(() => (written = true));
    await settle();
    expect(written).toBe(false);
    expect(disk.started).toHaveLength(1);
    disk.finishAll();
    await write;

    expect(await db.selectFrom('notes').select('text').execute()).toEqual([{ text: 'alone' }]);
    // An insert with RETURNING reads and writes: it is synced too.
    const returning = db.insertInto('notes').values({ id: 2, text: 'back' }).returning('id').execute();
    await settle();
    expect(disk.started).toHaveLength(1);
    disk.finishAll();
    expect(await returning).toEqual([{ id: 2 }]);
    await db.destroy();
  });

  it('commits that wait while a sync runs share the next one', async () => {
    const disk = new HeldDisk();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-durable-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'x-wal'), 'frames');
    const wal = new WalSync(path.join(dir, 'x-wal'), disk.sync);
    const first = wal.sync();
    const waiting = [wal.sync(), wal.sync(), wal.sync()];
    await settle();
    expect(disk.started).toHaveLength(1);
    let shared = 0;
    for (const w of waiting) void w.then(() => shared++);
    disk.finishAll();
    await first;
    await settle();
    // The running sync may have missed their writes: they wait for one more, which all three share.
    expect(shared).toBe(0);
    expect(disk.started).toHaveLength(1);
    disk.finishAll();
    await Promise.all(waiting);
    expect(shared).toBe(3);
    await wal.close();
  });

  it('a failed sync fails the commit that waited for it, and touches nothing of the next transaction', async () => {
    const disk = new HeldDisk();
    const { db } = open(disk);
    const first = db.transaction().execute((tx) => tx.insertInto('notes').values({ id: 1, text: 'first' }).execute());
    const outcome = first.then(
      () => 'acknowledged',
      (error: Error) => error.message,
    );
    await settle();
    expect(disk.started).toHaveLength(1);
    // The next transaction holds the connection, in the middle of its work, when the first one's sync fails.
    const second = db.transaction().execute(async (tx) => {
      await tx.insertInto('notes').values({ id: 2, text: 'second' }).execute();
      disk.started.shift()!.fail(new Error('EIO: the disk failed'));
      await settle();
      await tx.insertInto('notes').values({ id: 3, text: 'third' }).execute();
    });
    await settle();
    expect(await outcome).toBe('EIO: the disk failed');
    while (disk.started.length === 0) await settle(); // the second one's COMMIT asks for its own sync
    disk.finishAll();
    await second;
    // The failure reached the caller (a webhook is answered with an error and comes again); the second transaction
    // was neither rolled back nor cut short by it.
    expect((await db.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2, 3]);
    await db.destroy();
  });

  it("opens sparsam's databases with synchronous=NORMAL and syncs the real WAL file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sparsam-durable-'));
    dirs.push(dir);
    const opened = openSqlite<Db>(path.join(dir, 'real.db'));
    await sql`create table notes (id integer primary key, text text not null)`.execute(opened.db);
    await opened.db.insertInto('notes').values({ id: 1, text: 'on disk' }).execute();
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(opened.db);
    expect(rows[0]?.synchronous).toBe(1);
    checkpointSqlite(opened.raw);
    await opened.db.destroy();
    const again = new BetterSqlite3(path.join(dir, 'real.db'));
    expect(again.prepare('select text from notes').all()).toEqual([{ text: 'on disk' }]);
    again.close();
  });
});
