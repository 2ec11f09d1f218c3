import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.ts';
import type { SendPacingPort, SlotClaim } from '../ports/send-pacing.port.ts';

/** The database clock in epoch milliseconds (with fractions), read when the expression is evaluated. */
const DB_NOW = sql<number>`(extract(epoch from clock_timestamp())::float8 * 1000)`;

/**
 * {@link SendPacingPort} on PostgreSQL (table `send_pacing`, migration 010). Each call is one upsert on the channel's
 * row: the row lock orders concurrent claims of all instances, and `clock_timestamp()` is read under that lock.
 */
export class PgSendPacingStore implements SendPacingPort {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(sender: string, slots: number, intervalMs: number, leadMs: number): Promise<SlotClaim> {
    const span = sql<number>`(${slots}::float8 * ${intervalMs}::float8)`;
    const { rows } = await sql<SlotClaim>`
      insert into send_pacing as p (sender, next_at, held_until)
      values (${sender}, ${DB_NOW} + ${leadMs}::float8 + ${span}, 0)
      on conflict (sender) do update
        set next_at = greatest(p.next_at, ${DB_NOW} + ${leadMs}::float8) + ${span}
      returning p.next_at - ${span} as "start", ${DB_NOW} as "now", p.held_until as "heldUntil"`.execute(this.db);
    return rows[0]!;
  }

  async clock(): Promise<number> {
    const { rows } = await sql<{ now: number }>`select ${DB_NOW} as "now"`.execute(this.db);
    return rows[0]!.now;
  }

  async holdOff(sender: string, ms: number): Promise<{ heldUntil: number; now: number }> {
    const { rows } = await sql<{ heldUntil: number; now: number }>`
      insert into send_pacing as p (sender, next_at, held_until)
      values (${sender}, ${DB_NOW} + ${ms}::float8, ${DB_NOW} + ${ms}::float8)
      on conflict (sender) do update
        set next_at = greatest(p.next_at, excluded.next_at),
            held_until = greatest(p.held_until, excluded.held_until)
      returning p.held_until as "heldUntil", ${DB_NOW} as "now"`.execute(this.db);
    return rows[0]!;
  }
}
