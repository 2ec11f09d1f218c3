import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DeliveryStatus } from '../../core/channel/channel.port.ts';
import type { MessageRecord } from '../../core/ports/model.ts';
import type { Database, MessageStatus } from '../database.ts';
import { toMessage } from './records.ts';
import { onPostgres } from './dialect.ts';
import { PreparedQuery, preparedBySizeAndDialect } from './prepared-query.ts';
import { sendAhead } from './send-ahead.ts';

/** Statuses a delivery status may replace: forward only, failed terminal. */
export const REPLACES: Record<DeliveryStatus, MessageStatus[]> = {
  sent: ['queued', 'sending'],
  delivered: ['queued', 'sending', 'sent'],
  read: ['queued', 'sending', 'sent', 'delivered'],
  failed: ['queued', 'sending', 'sent', 'delivered'],
};

/**
 * The stored statuses sent, delivered and read may replace, in order: each replaces a prefix of this list
 * ({@link REPLACES}), so that "may replace" is one comparison of positions in SQL.
 */
const FORWARD: MessageStatus[] = ['queued', 'sending', 'sent', 'delivered'];
const FORWARD_POSITION = sql`case status ${sql.join(
  FORWARD.map((status, i) => sql`when ${sql.lit(status)} then ${sql.lit(i)}`),
  sql` `,
)} else ${sql.lit(FORWARD.length)} end`;

/**
 * The UPDATE of one round of a group's statuses on one channel, compiled once per number of messages and dialect.
 * Sent, delivered and read of one round in one UPDATE, each message to its own status (a round holds one status per
 * message): the stored status must come before the new one in FORWARD. Arguments: the channel, the time, per message
 * its ref, its new status, its ref again and the last position its status replaces, then the refs once more (for
 * the index).
 */
const advanceRound = preparedBySizeAndDialect(
  (n) =>
    new PreparedQuery(2 + 5 * n, (db, ...args: unknown[]) => {
      const [channelId, at] = args as [string, number];
      const byRef = (refAt: number, then: (i: number) => RawBuilder<unknown>) =>
        sql`case provider_message_id ${sql.join(
          Array.from({ length: n }, (_, i) => sql`when ${args[refAt + 4 * i]} then ${then(i)}`),
          sql` `,
        )} end`;
      return db
        .updateTable('messages')
        .set({ status: byRef(2, (i) => sql`${args[3 + 4 * i]}`) as RawBuilder<MessageStatus>, updated_at: at })
        .where('channel_id', '=', channelId)
        .where('provider_message_id', 'in', args.slice(2 + 4 * n) as string[])
        .where('direction', '=', 'out')
        .where(sql<boolean>`${FORWARD_POSITION} <= ${byRef(4, (i) => sql`cast(${args[5 + 4 * i]} as integer)`)}`)
        .returningAll();
    }),
);

/** The last position in {@link FORWARD} that `status` replaces. */
function replacesUpTo(status: DeliveryStatus): number {
  const replaced = REPLACES[status];
  if (replaced.some((s, i) => FORWARD[i] !== s)) throw new Error(`REPLACES.${status} is not a prefix of FORWARD`);
  return replaced.length - 1;
}

const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

/** Moves one outbound message (found by its stored provider ref) forward; undefined when nothing changed. */
export async function advanceByRef(
  db: Kysely<Database>,
  channelId: string,
  ref: string,
  status: DeliveryStatus,
  error: { code: string; reason: string } | undefined,
  at: number,
): Promise<MessageRecord | undefined> {
  const row = await db
    .updateTable('messages')
    .set({
      status,
      updated_at: at,
      ...(status === 'failed'
        ? { error_code: error?.code ?? 'unknown', error_reason: error?.reason ?? 'the provider reported a failure' }
        : {}),
    })
    .where('channel_id', '=', channelId)
    .where('provider_message_id', '=', ref)
    .where('direction', '=', 'out')
    .where('status', 'in', REPLACES[status])
    .returningAll()
    .executeTakeFirst();
  return row && toMessage(row);
}

/**
 * {@link advanceByRef} for several statuses in their order, in a few statements: the k-th status of each message
 * goes in round k, and a round's statuses of one channel move all their messages in one UPDATE (a failure, with its
 * own code and reason, in one of its own). Returns the changed rows (the last state of each) and, per status, whether
 * it changed its message.
 */
export async function advanceManyByRef(
  db: Kysely<Database>,
  items: readonly StatusItem[],
  at: number,
): Promise<{ rows: MessageRecord[]; applied: boolean[] }> {
  return (await sendAdvances(db, items, at))();
}

interface StatusItem {
  channelId: string;
  ref: string;
  status: DeliveryStatus;
  error: { code: string; reason: string } | undefined;
}

/** The distinct provider refs of these statuses, by channel. */
export function refsByChannel(items: readonly { channelId: string; ref: string }[]): Map<string, Set<string>> {
  const byChannel = new Map<string, Set<string>>();
  for (const it of items) byChannel.set(it.channelId, (byChannel.get(it.channelId) ?? new Set()).add(it.ref));
  return byChannel;
}

/** Rows per UPDATE (and per lock statement): the statement's parameters stay well below PostgreSQL's limit. */
const PER_STATEMENT = 500;

/**
 * On PostgreSQL, locks the messages of a group's statuses in one order (channel, then provider id) before the rounds
 * of UPDATEs, when there is more than one of them: each UPDATE locks its rows in index order, but a message's second
 * status is in a later round than another's first, so two instances' groups could each hold a row the other's next
 * round needs, a deadlock that PostgreSQL resolves only after `deadlock_timeout` (a second), stalling both. Sent
 * ahead: it costs no round trip. SQLite has one writer at a time and nothing to order.
 */
async function lockInOrder(
  db: Kysely<Database>,
  items: readonly StatusItem[],
  rounds: readonly (readonly number[])[],
): Promise<void> {
  if (!onPostgres(db)) return;
  const byChannel = refsByChannel(items);
  const updates = rounds.length + items.filter((it) => it.status === 'failed').length;
  if (updates <= 1 && byChannel.size === 1 && items.length <= PER_STATEMENT) return;
  for (const channelId of [...byChannel.keys()].sort()) {
    const refs = [...byChannel.get(channelId)!].sort();
    for (let k = 0; k < refs.length; k += PER_STATEMENT) {
      await sendAhead(
        db,
        db
          .selectFrom('messages')
          .select('id')
          .where('channel_id', '=', channelId)
          .where('provider_message_id', 'in', refs.slice(k, k + PER_STATEMENT))
          .orderBy('provider_message_id')
          .forUpdate(),
      );
    }
  }
}

/**
 * {@link advanceManyByRef} in two steps: sends the UPDATEs (in a transaction on PostgreSQL they go out together, with
 * the caller's next statement), and returns the function that waits for their answers.
 */
export async function sendAdvances(
  db: Kysely<Database>,
  items: readonly StatusItem[],
  at: number,
): Promise<() => Promise<{ rows: MessageRecord[]; applied: boolean[] }>> {
  const applied = items.map(() => false);
  const rows = new Map<string, MessageRecord>();
  // The answers, taken in the order the statements were sent, so that a message's last state wins.
  const answers: (() => Promise<void>)[] = [];
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  for (const [i, it] of items.entries()) {
    const key = `${it.channelId}\0${it.ref}`;
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(i);
  }
  await lockInOrder(db, items, rounds);
  for (const round of rounds) {
    const byChannel = new Map<string, number[]>();
    for (const i of round) {
      const it = items[i]!;
      if (it.status !== 'failed') {
        byChannel.set(it.channelId, [...(byChannel.get(it.channelId) ?? []), i]);
        continue;
      }
      // A failure carries its own code and reason: alone.
      const row = await advanceByRef(db, it.channelId, it.ref, it.status, it.error, at);
      answers.push(async () => {
        if (!row) return;
        applied[i] = true;
        rows.set(row.id, row);
      });
    }
    for (const [channelId, indices] of byChannel) {
      for (let k = 0; k < indices.length; k += PER_STATEMENT) {
        const part = indices.slice(k, k + PER_STATEMENT);
        const refs = new Map(part.map((i) => [items[i]!.ref, i]));
        const perMessage = part.flatMap((i) => {
          const it = items[i]!;
          return [it.ref, it.status, it.ref, replacesUpTo(it.status)];
        });
        const update = await sendAhead(
          db,
          advanceRound(db, part.length).compiled(db, channelId, at, ...perMessage, ...refs.keys()),
        );
        answers.push(async () => {
          for (const raw of (await update.result).rows) {
            const row = toMessage(raw);
            const i = refs.get(row.provider_message_id!);
            if (i !== undefined) applied[i] = true;
            rows.set(row.id, row);
          }
        });
      }
    }
  }
  return async () => {
    for (const answer of answers) await answer();
    return { rows: [...rows.values()], applied };
  };
}

/**
 * Applies the statuses parked for `ref` to its message, in the provider's order (forward-only rules as for a live
 * status), and deletes them. Does nothing while no message carries the ref: the parked rows stay for the send job
 * that is about to store it. Returns the message when its status changed. Run it in a transaction.
 */
export async function applyParkedStatuses(
  db: Kysely<Database>,
  channelId: string,
  ref: string,
  now: number,
): Promise<MessageRecord | undefined> {
  const parked = await db
    .selectFrom('parked_statuses')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('provider_ref', '=', ref)
    .execute();
  if (parked.length === 0) return undefined;
  const message = await db
    .selectFrom('messages')
    .select('id')
    .where('channel_id', '=', channelId)
    .where('provider_message_id', '=', ref)
    .executeTakeFirst();
  if (!message) return undefined;
  parked.sort((a, b) => Number(a.status_at) - Number(b.status_at) || (RANK[a.status] ?? 0) - (RANK[b.status] ?? 0));
  let changed: MessageRecord | undefined;
  for (const p of parked) {
    if (!(p.status in REPLACES)) continue;
    const error = p.error_code !== null ? { code: p.error_code, reason: p.error_reason ?? '' } : undefined;
    const row = await advanceByRef(db, channelId, ref, p.status as DeliveryStatus, error, now);
    if (row) changed = row;
  }
  await db.deleteFrom('parked_statuses').where('channel_id', '=', channelId).where('provider_ref', '=', ref).execute();
  return changed;
}

/** Parks a status for a provider ref no message carries (yet); a redelivery of the same status is a no-op. */
export async function parkStatus(
  db: Kysely<Database>,
  row: {
    channelId: string;
    ref: string;
    status: DeliveryStatus;
    at: number;
    error: { code: string; reason: string } | undefined;
    expiresAt: number;
  },
): Promise<void> {
  await db
    .insertInto('parked_statuses')
    .values({
      channel_id: row.channelId,
      provider_ref: row.ref,
      status: row.status,
      status_at: row.at,
      error_code: row.status === 'failed' ? (row.error?.code ?? 'unknown') : null,
      error_reason: row.status === 'failed' ? (row.error?.reason ?? 'the provider reported a failure') : null,
      expires_at: row.expiresAt,
    })
    .onConflict((oc) => oc.columns(['channel_id', 'provider_ref', 'status']).doNothing())
    .execute();
}
