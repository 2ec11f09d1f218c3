import type { Kysely } from 'kysely';
import type { ApiTokenRow, Database, SessionRow, UserRow } from '../database.ts';
import type { UserPort } from '../ports/user.port.ts';

/** Kysely implementation of {@link UserPort}, shared by SQLite and PostgreSQL. */
export class UserStore implements UserPort {
  constructor(private readonly db: Kysely<Database>) {}

  async insertUser(row: UserRow): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }
  findUserByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }
  findUserById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }
  listUsers(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('created_at').execute();
  }
  async updateUser(id: string, patch: Partial<Omit<UserRow, 'id'>>): Promise<void> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
  }
  async registerLoginFailure(
    id: string,
    maxFailures: number,
    lockUntil: number,
    at: number,
  ): Promise<{ failures: number; locked: boolean }> {
    const row = await this.db
      .updateTable('users')
      .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1), updated_at: at }))
      .where('id', '=', id)
      .returning('failed_logins')
      .executeTakeFirst();
    const failures = Number(row?.failed_logins ?? 0);
    if (!row || failures < maxFailures) return { failures, locked: false };
    // Only the attempt that still sees the count at the limit locks (and is audited); the count starts again.
    const locked = await this.db
      .updateTable('users')
      .set({ failed_logins: 0, locked_until: lockUntil, updated_at: at })
      .where('id', '=', id)
      .where('failed_logins', '>=', maxFailures)
      .executeTakeFirst();
    return { failures, locked: Number(locked.numUpdatedRows) > 0 };
  }
  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const result = await this.db
      .insertInto('totp_used_steps')
      .values({ user_id: userId, step })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ step }).where('totp_used_steps.step', '<', step))
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  async replaceRecoveryCodes(id: string, expected: string | null, next: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ recovery_codes: next, updated_at: at })
      .where('id', '=', id)
      .where((eb) => (expected === null ? eb('recovery_codes', 'is', null) : eb('recovery_codes', '=', expected)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertSession(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }
  findSession(idHash: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }
  async updateSession(idHash: string, patch: Partial<Omit<SessionRow, 'id_hash'>>): Promise<void> {
    await this.db.updateTable('sessions').set(patch).where('id_hash', '=', idHash).execute();
  }
  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }
  async deleteSessionsOfUser(userId: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async insertApiToken(row: ApiTokenRow): Promise<void> {
    await this.db.insertInto('api_tokens').values(row).execute();
  }
  findApiTokenByHash(hash: string): Promise<ApiTokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }
  async touchApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
  }
  async revokeApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
  }
}
