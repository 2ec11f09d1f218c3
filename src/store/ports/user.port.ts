import type { ApiTokenRow, Role, SessionRow, UserRow } from '../database.ts';

/** Staff accounts, sessions and API tokens. */
export interface UserPort {
  insertUser(row: UserRow): Promise<void>;
  findUserByEmail(email: string): Promise<UserRow | undefined>;
  findUserById(id: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  updateUser(id: string, patch: Partial<Omit<UserRow, 'id'>>): Promise<void>;
  countAdmins(): Promise<number>;
  /**
   * Records one failed login attempt in a single statement (safe with concurrent attempts on several instances);
   * when the count reaches `maxFailures` the account is locked until `lockUntil` and the count starts again. `locked`
   * is true for exactly one of the attempts that reached the limit.
   */
  registerLoginFailure(
    id: string,
    maxFailures: number,
    lockUntil: number,
    at: number,
  ): Promise<{ failures: number; locked: boolean }>;
  /**
   * Marks a TOTP time step as used, atomically: true when `step` is later than every step used before by this user,
   * false when it (or a later one) was already used, here or at another instance (a replayed code).
   */
  claimTotpStep(userId: string, step: number): Promise<boolean>;
  /** Replaces the stored recovery code hashes only if they are still `expected` (one use of a code wins). */
  replaceRecoveryCodes(id: string, expected: string | null, next: string, at: number): Promise<boolean>;

  insertSession(row: SessionRow): Promise<void>;
  findSession(idHash: string): Promise<SessionRow | undefined>;
  updateSession(idHash: string, patch: Partial<Omit<SessionRow, 'id_hash'>>): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteSessionsOfUser(userId: string): Promise<number>;

  insertApiToken(row: ApiTokenRow): Promise<void>;
  findApiTokenByHash(hash: string): Promise<ApiTokenRow | undefined>;
  touchApiToken(id: string, at: number): Promise<void>;
  listApiTokens(): Promise<ApiTokenRow[]>;
  revokeApiToken(id: string, at: number): Promise<void>;
}

export type { Role };
