import type { ApiTokenRow, Role, SessionRow, UserRow } from '../database.ts';

/** Staff accounts, sessions and API tokens. */
export interface UserPort {
  insertUser(row: UserRow): Promise<void>;
  findUserByEmail(email: string): Promise<UserRow | undefined>;
  findUserById(id: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  updateUser(id: string, patch: Partial<Omit<UserRow, 'id'>>): Promise<void>;
  countAdmins(): Promise<number>;

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
