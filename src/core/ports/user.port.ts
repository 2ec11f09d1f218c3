import type { ApiTokenRecord, Role, SessionRecord, UserRecord } from './model.ts';

/** Staff accounts, sessions and API tokens. */
export interface UserPort {
  insertUser(row: UserRecord): Promise<void>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  updateUser(id: string, patch: Partial<Omit<UserRecord, 'id'>>): Promise<void>;
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
  replaceRecoveryCodes(
    id: string,
    expected: readonly string[] | null,
    next: readonly string[],
    at: number,
  ): Promise<boolean>;

  insertSession(row: SessionRecord): Promise<void>;
  findSession(idHash: string): Promise<SessionRecord | undefined>;
  updateSession(idHash: string, patch: Partial<Omit<SessionRecord, 'id_hash'>>): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteSessionsOfUser(userId: string): Promise<number>;

  insertApiToken(row: ApiTokenRecord): Promise<void>;
  findApiTokenByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  touchApiToken(id: string, at: number): Promise<void>;
  listApiTokens(): Promise<ApiTokenRecord[]>;
  revokeApiToken(id: string, at: number): Promise<void>;
}

export type { Role };
