import type { Kysely } from 'kysely';
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../../core/ports/model.ts';
import type { UserPort } from '../../core/ports/user.port.ts';
import type { Database } from '../database.ts';
import { recoveryText, sessionPatch, sessionRow, toSession, toUser, userPatch, userRow } from './records.ts';

/** Kysely implementation of {@link UserPort}, shared by SQLite and PostgreSQL. */
export class UserStore implements UserPort {
  constructor(private readonly db: Kysely<Database>) {}

  async insertUser(row: UserRecord): Promise<void> {
    await this.db.insertInto('users').values(userRow(row)).execute();
  }
  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst();
    return row && toUser(row);
  }
  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }
  async listUsers(): Promise<UserRecord[]> {
    return (await this.db.selectFrom('users').selectAll().orderBy('created_at').execute()).map(toUser);
  }
  async updateUser(id: string, patch: Partial<Omit<UserRecord, 'id'>>): Promise<void> {
    await this.db.updateTable('users').set(userPatch(patch)).where('id', '=', id).execute();
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
  async replaceRecoveryCodes(
    id: string,
    expected: readonly string[] | null,
    next: readonly string[],
    at: number,
  ): Promise<boolean> {
    // Compare-and-set on the stored text: the codes were written by the same encoding, so equal lists compare equal.
    const before = recoveryText(expected);
    const result = await this.db
      .updateTable('users')
      .set({ recovery_codes: recoveryText(next), updated_at: at })
      .where('id', '=', id)
      .where((eb) => (before === null ? eb('recovery_codes', 'is', null) : eb('recovery_codes', '=', before)))
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

  async insertSession(row: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values(sessionRow(row)).execute();
  }
  async findSession(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row && toSession(row);
  }
  async updateSession(idHash: string, patch: Partial<Omit<SessionRecord, 'id_hash'>>): Promise<void> {
    await this.db.updateTable('sessions').set(sessionPatch(patch)).where('id_hash', '=', idHash).execute();
  }
  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }
  async deleteSessionsOfUser(userId: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async insertApiToken(row: ApiTokenRecord): Promise<void> {
    await this.db.insertInto('api_tokens').values(row).execute();
  }
  findApiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }
  async touchApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
  listApiTokens(): Promise<ApiTokenRecord[]> {
    return this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
  }
  async revokeApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
  }
}
