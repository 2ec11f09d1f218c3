import {
  CompiledQuery,
  PostgresDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';

/** Marks a compiled query sent ahead (see {@link sendAhead}); the driver puts the pending result in `result`. */
export const AHEAD = Symbol('sparsam.sendAhead');

export interface AheadSlot {
  result?: Promise<QueryResult<unknown>>;
}

/**
 * PostgreSQL through a pool of pipelined connections (`pg` pipeline mode): inside a transaction, statements whose
 * answers the caller does not need at once leave together with the next one, in one write to the socket, and
 * PostgreSQL answers them in one go. On a loaded server every statement sent alone costs a write, a wake-up of the
 * backend and a round trip; a webhook group's transaction took a dozen of them one after the other.
 *
 * - BEGIN is sent with the transaction's first statement (a transaction without statements sends nothing).
 * - A statement sent ahead ({@link sendAhead}) goes out at once; the caller gets its result as a promise and carries
 *   on. If it fails, PostgreSQL fails everything after it in the transaction: the next awaited statement, or the
 *   COMMIT (which PostgreSQL then answers with ROLLBACK), throws the ahead statement's own error, so the transaction
 *   fails as a whole with the cause (a unique violation or a deadlock stays recognisable for a retry).
 * - COMMIT leaves together with the statements sent ahead before it.
 *
 * Outside a transaction every statement is sent and awaited on its own, as with Kysely's PostgresDriver.
 *
 * Statements that recur are named ({@link StatementNames}): each connection parses and plans them once, instead of at
 * every execution. For the short statements of a webhook group, parsing and planning were a large part of the work
 * of PostgreSQL's backend, which shares the machine's cores with sparsam.
 */
export class PipelinedPostgresDialect extends PostgresDialect {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    super({ pool });
    this.#pool = pool;
  }

  override createDriver(): Driver {
    return new PipelinedDriver(this.#pool);
  }
}

class PipelinedDriver implements Driver {
  readonly #connections = new WeakMap<pg.PoolClient, PipelinedConnection>();

  constructor(private readonly pool: pg.Pool) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const client = await this.pool.connect();
    let connection = this.#connections.get(client);
    if (!connection) {
      connection = new PipelinedConnection(client);
      this.#connections.set(client, connection);
    }
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let begin = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      begin = 'start transaction';
      if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) begin += ` ${settings.accessMode}`;
    }
    (connection as PipelinedConnection).begin(begin);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PipelinedConnection).end('commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PipelinedConnection).end('rollback');
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PipelinedConnection).release();
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

class PipelinedConnection implements DatabaseConnection {
  /** BEGIN, waiting for the transaction's first statement. */
  #begin: string | undefined;
  #inTransaction = false;
  /** Statements sent ahead (and BEGIN) whose answers have not been awaited yet. */
  #pending: Promise<unknown>[] = [];
  /** The first error among them: the transaction is aborted from there on. */
  #failure: { error: unknown } | undefined;
  #corked = false;
  /** A named statement failed because its table changed: the connection's statements are dropped at the next chance. */
  #stale = false;

  constructor(private readonly client: pg.PoolClient) {}

  begin(statement: string): void {
    this.#begin = statement;
    this.#inTransaction = true;
    this.#pending = [];
    this.#failure = undefined;
  }

  async end(statement: 'commit' | 'rollback'): Promise<void> {
    this.#inTransaction = false;
    if (this.#begin !== undefined) {
      // Nothing was sent: there is no transaction to end.
      this.#begin = undefined;
      return;
    }
    const answer = this.#send(statement);
    this.#uncork();
    const pending = this.#pending;
    this.#pending = [];
    await Promise.allSettled(pending);
    const failure = this.#failure;
    this.#failure = undefined;
    let result: pg.QueryResult;
    try {
      result = await answer;
    } catch (error) {
      throw failure ? failure.error : error;
    } finally {
      if (this.#stale) await this.#forgetStatements();
    }
    if (statement === 'commit') {
      if (failure) throw failure.error;
      // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not with an error.
      if (result.command === 'ROLLBACK') throw new Error('the transaction was rolled back instead of committed');
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const slot = (compiledQuery as CompiledQuery & { [AHEAD]?: AheadSlot })[AHEAD];
    if (slot && this.#inTransaction) {
      const result = this.#send(compiledQuery.sql, compiledQuery.parameters, true).then(toResult);
      this.#track(result);
      // Handled here so that a caller that never awaits it leaves no unhandled rejection; awaiting still throws.
      result.catch(() => undefined);
      slot.result = result;
      return { rows: [] };
    }
    const answer = this.#send(compiledQuery.sql, compiledQuery.parameters);
    this.#uncork();
    try {
      return toResult(await answer) as QueryResult<R>;
    } catch (error) {
      if (this.#pending.length > 0) await Promise.allSettled(this.#pending);
      if (this.#failure) throw this.#failure.error;
      if (isStalePlan(error)) {
        this.#stale = true;
        if (!this.#inTransaction) {
          // Outside a transaction nothing else was affected: prepare it anew and run it once more.
          await this.#forgetStatements();
          return toResult(await this.#send(compiledQuery.sql, compiledQuery.parameters)) as QueryResult<R>;
        }
      }
      throw error;
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming is not supported on pipelined connections');
  }

  release(): void {
    this.#uncork();
    this.client.release();
  }

  /**
   * Sends a statement (BEGIN first if it is still waiting). A statement sent ahead holds the socket's writes, so that
   * it leaves together with the next one; the caller of an awaited statement releases them.
   */
  #send(sql: string, parameters: readonly unknown[] = [], ahead = false): Promise<pg.QueryResult> {
    if (ahead || this.#begin !== undefined) this.#cork();
    if (this.#begin !== undefined) {
      const begin = this.client.query(this.#begin);
      this.#begin = undefined;
      this.#track(begin);
    }
    const name = statementNames.nameOf(sql);
    return this.client.query({ text: sql, values: [...parameters], ...(name ? { name } : {}) });
  }

  #track(answer: Promise<unknown>): void {
    this.#pending.push(
      answer.catch((error: unknown) => {
        this.#failure ??= { error };
        if (isStalePlan(error)) this.#stale = true;
      }),
    );
  }

  /**
   * Drops this connection's named statements, here and in PostgreSQL, after one of them no longer fit its table (see
   * {@link isStalePlan}); they are prepared again at their next use.
   */
  async #forgetStatements(): Promise<void> {
    this.#stale = false;
    const connection = (this.client as unknown as { connection: { parsedStatements: Record<string, string> } })
      .connection;
    connection.parsedStatements = {};
    await this.client.query('deallocate all');
  }

  /**
   * Holds the socket's writes until the statement that is awaited (or the end of this turn of the event loop), so that
   * BEGIN and the statements sent ahead leave with it.
   */
  #cork(): void {
    if (this.#corked) return;
    const stream = (this.client as unknown as { connection: { stream: NodeJS.WritableStream & { cork(): void } } })
      .connection.stream;
    stream.cork();
    this.#corked = true;
    setImmediate(() => this.#uncork());
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    const stream = (this.client as unknown as { connection: { stream: NodeJS.WritableStream & { uncork(): void } } })
      .connection.stream;
    stream.uncork();
  }
}

/**
 * Names for the statements that recur, so that each connection parses and plans them once (PostgreSQL keeps a named
 * statement per connection; `pg` sends its Parse only the first time on each). A statement text gets a name the
 * second time it is seen: one-off statements (migrations, set-up) stay unnamed. The names are bounded, and so is the
 * memory each PostgreSQL backend spends on them: texts beyond {@link MAX_NAMED} distinct ones (batch sizes make
 * variants of the same statement) are sent unnamed, parsed each time as before.
 */
class StatementNames {
  readonly #named = new Map<string, string>();
  readonly #seenOnce = new Set<string>();

  nameOf(sql: string): string | undefined {
    const name = this.#named.get(sql);
    if (name !== undefined || this.#named.size >= MAX_NAMED) return name;
    if (!this.#seenOnce.has(sql)) {
      if (this.#seenOnce.size < MAX_SEEN_ONCE) this.#seenOnce.add(sql);
      return undefined;
    }
    this.#seenOnce.delete(sql);
    const named = `sparsam_${this.#named.size + 1}`;
    this.#named.set(sql, named);
    return named;
  }
}

const MAX_NAMED = 300;
const MAX_SEEN_ONCE = 2000;
const statementNames = new StatementNames();

/**
 * A named statement whose result columns changed since it was prepared (another instance migrated the schema, say a
 * column added to a table read with `select *`): PostgreSQL refuses to run it until it is prepared anew.
 */
export function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

function toResult(result: pg.QueryResult): QueryResult<unknown> {
  const { command, rowCount, rows } = result;
  return {
    ...(command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
      ? { numAffectedRows: BigInt(rowCount ?? 0) }
      : {}),
    rows: rows ?? [],
  };
}
