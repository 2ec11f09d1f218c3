import { open, type FileHandle } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/** The part of a better-sqlite3 handle the driver uses: prepared statements (cached, see statement-cache.ts). */
export interface StatementSource {
  prepare(sql: string): BetterSqlite3.Statement;
  close(): void;
}

/**
 * Makes the WAL file durable with `fdatasync` in libuv's thread pool, so that the event loop does not stop for the
 * disk. Syncs that are asked for while one runs share the next one: the commits of a busy second cost a few syncs,
 * and one that started before a commit never counts for it. The file stays open from the first sync on: SQLite
 * removes the WAL only when the last connection to the database closes, and this one stays open until
 * {@link close}.
 */
export class WalSync {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #file: Promise<FileHandle | undefined> | undefined;

  constructor(
    private readonly walFile: string,
    private readonly syncFile: (file: FileHandle) => Promise<void> = (file) => file.datasync(),
  ) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.#running === undefined) {
      const running = this.#syncOnce().finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    }
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  /** Closes the WAL file (after the database, which may still write to it until then). */
  async close(): Promise<void> {
    const file = await this.#file?.catch(() => undefined);
    this.#file = undefined;
    await file?.close();
  }

  #startNext(): Promise<void> {
    this.#next = undefined;
    return this.sync();
  }

  async #syncOnce(): Promise<void> {
    const file = await (this.#file ??= this.#open());
    // No WAL file yet: nothing was written through one (or journal mode is not WAL); look again next time.
    if (file === undefined) this.#file = undefined;
    else await this.syncFile(file);
  }

  async #open(): Promise<FileHandle | undefined> {
    try {
      return await open(this.walFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.#file = undefined;
      throw error;
    }
  }
}

/**
 * Kysely's SQLite dialect with commits made durable off the event loop. The database runs with `synchronous=NORMAL`:
 * SQLite writes a commit into the WAL without waiting for the disk; this driver then syncs the WAL ({@link WalSync})
 * before the commit's caller continues — so a webhook is still acknowledged only once its commit would survive a
 * power loss (what `synchronous=FULL` gave), but the fsync no longer blocks the one thread that also verifies, seals
 * and answers the other webhooks. The connection is handed on as soon as SQLite has committed: the next transaction
 * runs while the disk catches up, and its own sync covers both.
 *
 * The same holds for a write outside a transaction (each is its own commit). Another connection's reader may see a
 * commit a moment before it is durable; nothing is acknowledged to the provider or reported to a user on that basis
 * by the writer before the sync.
 */
export class DurableSqliteDialect implements Dialect {
  constructor(
    private readonly database: StatementSource,
    private readonly wal: WalSync,
  ) {}

  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new DurableSqliteDriver(this.database, this.wal);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * SQLite has one connection: a query or a transaction holds it until it is done, the next waits. Each holder gets a
 * lease of its own, so that a transaction that handed the connection on at COMMIT can still be told apart from the
 * next holder (its late failure — the sync — must not roll back or release anything of the next one's).
 */
class DurableSqliteDriver implements Driver {
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(
    private readonly database: StatementSource,
    private readonly wal: WalSync,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.#held) await this.#held;
    this.#held = new Promise((resolve) => (this.#release = resolve));
    return new Lease(this.database, this.wal);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#handBack(connection as Lease);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    await lease.executeQuery(CompiledQuery.raw('begin'));
    lease.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    await lease.executeQuery(CompiledQuery.raw('commit'));
    lease.inTransaction = false;
    lease.committed = true;
    // Committed in SQLite: the next transaction may run while this one's WAL frames reach the disk.
    this.#handBack(lease);
    await lease.durable();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    // Only the sync after a successful COMMIT failed: there is nothing to roll back (and the connection is another's).
    if (lease.committed) return;
    lease.inTransaction = false;
    await lease.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release "${name}"`));
  }

  async destroy(): Promise<void> {
    this.database.close();
    await this.wal.close();
  }

  #handBack(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    const release = this.#release;
    this.#held = undefined;
    this.#release = undefined;
    release?.();
  }
}

/** One holder's use of the connection (see {@link DurableSqliteDriver}). */
class Lease implements DatabaseConnection {
  inTransaction = false;
  committed = false;
  released = false;

  constructor(
    private readonly database: StatementSource,
    private readonly wal: WalSync,
  ) {}

  durable(): Promise<void> {
    return this.wal.sync();
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.released) throw new Error('the SQLite connection was used after it was handed back');
    const statement = this.database.prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    let result: QueryResult<R>;
    if (statement.reader) {
      result = { rows: statement.all(parameters) as R[] };
    } else {
      const { changes, lastInsertRowid } = statement.run(parameters);
      result = { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    }
    // A write outside a transaction is a commit of its own (INSERT … RETURNING is a reader that writes).
    if (!this.inTransaction && !statement.readonly) await this.durable();
    return result;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('sparsam does not stream SQLite queries');
  }
}
