import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { AHEAD, type AheadSlot } from '../postgres/pipelined-driver.ts';

/**
 * Sends a statement of a transaction without waiting for its answer: on PostgreSQL it leaves together with the next
 * statement (or the COMMIT) in one round trip, and `result` settles when its answer comes; a failure fails the
 * transaction (see PipelinedPostgresDialect). On SQLite, and outside a transaction, it runs at once and `result` is
 * already settled. Meant for writes whose outcome the transaction does not branch on before its next statement.
 */
export async function sendAhead<R>(
  db: { executeQuery<O>(query: CompiledQuery<O>): Promise<QueryResult<O>> },
  query: Compilable<R> | CompiledQuery<R>,
): Promise<{ result: Promise<QueryResult<R>> }> {
  const compiled = 'compile' in query ? query.compile() : query;
  const slot: AheadSlot = {};
  const marked = { ...compiled, [AHEAD]: slot } as CompiledQuery<R>;
  const done = await db.executeQuery(marked);
  return { result: (slot.result as Promise<QueryResult<R>> | undefined) ?? Promise.resolve(done) };
}
