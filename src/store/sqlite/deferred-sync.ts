import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';

/**
 * Makes the WAL file durable with `fdatasync` in libuv's thread pool, so that the event loop does not stop for the
 * disk. Syncs asked for while one runs share the next one (a sync that started before a commit never counts for
 * it). The WAL's descriptor is kept between syncs (one thread-pool request per sync); before each, the file's inode
 * is compared with the descriptor's, so that a WAL that SQLite removed and created anew (when the last connection
 * closed it) is the one synced.
 */
export class WalSync {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #open: { fd: number; ino: number } | undefined;

  constructor(
    private readonly walFile: string,
    private readonly syncFile?: (file: string) => Promise<void>,
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.#running === undefined) {
      const running = (this.syncFile ? this.syncFile(this.walFile) : this.#datasync()).finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    }
    const startNext = () => {
      this.#next = undefined;
      return this.sync();
    };
    this.#next ??= this.#running.then(startNext, startNext);
    return this.#next;
  }

  /** Closes the kept descriptor (the database is closing). */
  close(): void {
    if (this.#open) closeSync(this.#open.fd);
    this.#open = undefined;
  }

  #datasync(): Promise<void> {
    let fd: number;
    try {
      const file = statSync(this.walFile, { throwIfNoEntry: false });
      if (!file) {
        // No WAL file: nothing was written through one (the last connection closed and removed it).
        this.close();
        return Promise.resolve();
      }
      if (this.#open?.ino !== file.ino) {
        this.close();
        const opened = openSync(this.walFile, 'r');
        this.#open = { fd: opened, ino: fstatSync(opened).ino };
      }
      fd = this.#open!.fd;
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  }
}

/**
 * Commits whose wait for the disk is left to the caller. The database runs with `synchronous=FULL`: every commit
 * waits for the WAL to reach the disk, on the event loop (better-sqlite3 is synchronous). A transaction run through
 * {@link commit} (the inbound group commit) runs with `synchronous=NORMAL` instead — SQLite writes its WAL frames
 * without waiting for the disk — and its caller gets a promise that settles once a `fdatasync` of the WAL in libuv's
 * thread pool ({@link WalSync}) made it durable: the webhooks of the group are acknowledged only then, while the
 * event loop runs the group's follow-ups and reads and verifies the next webhooks. Every other commit keeps waiting on the event loop; any later sync
 * covers the earlier frames too (the WAL is one file, synced whole).
 *
 * SQLite applies `PRAGMA synchronous` when the statement is prepared, and refuses it inside a transaction: it is
 * prepared anew each time (never from the statement cache), on the connection held for the whole step, before BEGIN
 * and after COMMIT or ROLLBACK, so no other statement of this single connection can run under NORMAL.
 */
export class DeferredSync {
  readonly #wal: WalSync;

  constructor(
    private readonly raw: BetterSqlite3.Database,
    walFile: string,
    syncFile?: (file: string) => Promise<void>,
  ) {
    this.#wal = new WalSync(walFile, syncFile);
  }

  /** Closes the WAL's kept descriptor; call when the database closes. */
  close(): void {
    this.#wal.close();
  }

  /**
   * Runs `work` (which opens its transaction on the connection it is given) with the commit's wait for the disk
   * moved beside the event loop; returns at COMMIT with the promise of durability.
   */
  async commit<DB, T>(
    db: Kysely<DB>,
    work: (connection: Kysely<DB>) => Promise<T>,
  ): Promise<{ value: T; durable: Promise<void> }> {
    return db.connection().execute(async (connection) => {
      // exec, not pragma(): prepared and run without a statement object and without reading a result back.
      this.raw.exec('pragma synchronous = NORMAL');
      let value: T;
      try {
        value = await work(connection);
      } finally {
        // A transaction left open by a failed ROLLBACK would keep the pragma from being set back.
        if (this.raw.inTransaction) this.raw.exec('rollback');
        this.raw.exec('pragma synchronous = FULL');
      }
      return { value, durable: this.#wal.sync() };
    });
  }
}

const deferredSyncs = new WeakMap<object, DeferredSync>();

/** Registers the deferred sync of a database opened by `openSqlite`. */
export function registerDeferredSync<DB>(db: Kysely<DB>, sync: DeferredSync): void {
  deferredSyncs.set(db, sync);
}

/** The deferred sync of a database opened by `openSqlite`; undefined for PostgreSQL (its COMMIT waits off-thread). */
export function deferredSyncFor<DB>(db: Kysely<DB>): DeferredSync | undefined {
  return deferredSyncs.get(db);
}
