import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from '../database.ts';
import { onPostgres } from './dialect.ts';

/** Stands for the i-th argument while the query is built; never reaches the database. */
const placeholder = (i: number): string => `\u0000sparsam-argument-${i}\u0000`;

/**
 * A hot query built and compiled to SQL once, then run with each call's values. Kysely builds an operation tree and
 * compiles it at every execution; for the small indexed queries of a send that cost about as much as running them.
 *
 * `build` gets placeholders for the arguments and must use each of them once as a plain value (compared or set),
 * so that it becomes one parameter of the compiled statement; a placeholder inlined into the SQL text or used twice
 * is refused at the first call. Compiled for the dialect of the first handle it runs on: one instance per store, whose
 * handle and transactions share one dialect.
 */
export class PreparedQuery<Args extends readonly unknown[], Row> {
  #compiled: { sql: string; slots: ({ argument: number } | { value: unknown })[] } | undefined;

  constructor(
    private readonly arity: Args['length'],
    private readonly build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
  ) {}

  /** Runs the query with these values on `db` (the store's handle or a transaction on it). */
  async execute(db: Kysely<Database>, ...args: Args): Promise<QueryResult<Row>> {
    return await db.executeQuery<Row>(this.compiled(db, ...args));
  }

  /** The statement with these values, for running it some other way (sent ahead, say). */
  compiled(db: Kysely<Database>, ...args: Args): CompiledQuery<Row> {
    const compiled = (this.#compiled ??= this.#compile(db));
    const parameters = compiled.slots.map((slot) => ('argument' in slot ? args[slot.argument] : slot.value));
    return CompiledQuery.raw(compiled.sql, parameters) as CompiledQuery<Row>;
  }

  #compile(db: Kysely<Database>) {
    const names = Array.from({ length: this.arity }, (_, i) => placeholder(i));
    const { sql, parameters } = this.build(db, ...(names as unknown as Args)).compile();
    const slots = parameters.map((value) => {
      const argument = typeof value === 'string' ? names.indexOf(value) : -1;
      return argument >= 0 ? { argument } : { value };
    });
    const used = slots.flatMap((slot) => ('argument' in slot ? [slot.argument] : []));
    if (sql.includes('\u0000') || used.length !== this.arity || new Set(used).size !== this.arity) {
      throw new Error('PreparedQuery: every argument must be used exactly once, as a value (not inlined)');
    }
    return { sql, slots };
  }
}

/**
 * A {@link PreparedQuery} for each batch size (the statements of {@link TurnBatch} name n keys): made by `make(n)`
 * and compiled at its first use, then reused for every batch of that size.
 */
export function preparedBySize<Q>(make: (size: number) => Q): (size: number) => Q {
  const bySize = new Map<number, Q>();
  return (size) => {
    let query = bySize.get(size);
    if (query === undefined) {
      query = make(size);
      bySize.set(size, query);
    }
    return query;
  };
}

/**
 * {@link preparedBySize} kept module-wide, for stores that transactions make anew: one compiled query per size and
 * dialect (the handle's or transaction's).
 */
export function preparedBySizeAndDialect<Q>(make: (size: number) => Q): (db: Kysely<Database>, size: number) => Q {
  const sqlite = preparedBySize(make);
  const postgres = preparedBySize(make);
  return (db, size) => (onPostgres(db) ? postgres : sqlite)(size);
}

/**
 * A multi-row INSERT of `columns`, built by `build` from rows of placeholders and compiled once per number of rows
 * and dialect (module-wide: transactions make a store each). Kysely builds an insert value by value; for the rows of
 * a webhook group that cost about as much as running the statement.
 */
export class PreparedInsert<Row extends object, Result = unknown> {
  readonly #queries: (db: Kysely<Database>, size: number) => PreparedQuery<unknown[], Result>;

  constructor(
    private readonly columns: readonly (keyof Row & string)[],
    build: (db: Kysely<Database>, rows: Row[]) => Compilable<Result>,
  ) {
    const make = (n: number) =>
      new PreparedQuery<unknown[], Result>(n * columns.length, (db, ...values) =>
        build(
          db,
          Array.from(
            { length: n },
            (_, r) => Object.fromEntries(columns.map((c, i) => [c, values[r * columns.length + i]])) as Row,
          ),
        ),
      );
    this.#queries = preparedBySizeAndDialect(make);
  }

  /** The statement inserting `rows` (at least one), for `db`'s dialect. */
  compiled(db: Kysely<Database>, rows: readonly Row[]): CompiledQuery<Result> {
    const query = this.#queries(db, rows.length);
    return query.compiled(db, ...rows.flatMap((row) => this.columns.map((c) => row[c])));
  }
}
