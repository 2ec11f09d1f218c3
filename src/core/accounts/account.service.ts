import { createHash } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId, newToken } from '../../shared/ids.ts';
import type { ApiTokenRecord, Role, UserRecord } from '../ports/model.ts';
import type { UserPort } from '../ports/user.port.ts';

export const ROLES: readonly Role[] = ['admin', 'agent', 'dpo'];

/** The argon2 native module is loaded with the first password hashed or checked, not at every start. */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const argonHash = async (...args: Parameters<typeof import('@node-rs/argon2').hash>) =>
  (await (argon2 ??= import('@node-rs/argon2'))).hash(...args);
/**
 * True when the password matches the hash; false for a wrong password or a hash that is not argon2. A missing native
 * module is an error of the installation, not a wrong password: it is thrown, never answered as false.
 */
const argonVerify = async (hash: string, password: string): Promise<boolean> => {
  const mod = await (argon2 ??= import('@node-rs/argon2'));
  return mod.verify(hash, password).catch(() => false);
};

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

export function hashSecret(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface CreatedToken {
  id: string;
  /** Shown once; only its SHA-256 is stored. */
  token: string;
}

/**
 * Puts a new account into inboxes: the ones chosen, or (for an agent, when none were chosen) every inbox; limits a
 * new API token to inboxes. Teams implements it (core/teams).
 */
export interface InboxJoiner {
  /** VALIDATION naming unknown inbox ids; called before anything is written. */
  checkInboxes(inboxIds: readonly string[]): Promise<void>;
  joinInboxes(user: UserRecord, inboxIds: readonly string[] | undefined): Promise<void>;
  limitToken(tokenId: string, inboxIds: readonly string[]): Promise<void>;
}

/** Staff accounts and API tokens: creation, password checks, roles. No HTTP here. */
export class AccountService {
  constructor(
    private readonly users: UserPort,
    private readonly clock: Clock,
    private readonly inboxes?: InboxJoiner,
  ) {}

  /**
   * Creates an account. `inboxIds`: the inboxes the new staff member works in; without it an agent joins every
   * inbox that exists (admins see every inbox anyway).
   */
  async createUser(input: {
    email: string;
    password: string;
    role: Role;
    displayName?: string;
    language?: string;
    inboxIds?: readonly string[];
  }): Promise<UserRecord> {
    const email = input.email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      throw new AppError('VALIDATION', 'the e-mail address is not valid (example: anna@example.org)', {
        field: 'email',
      });
    }
    if (!ROLES.includes(input.role)) {
      throw new AppError('VALIDATION', `role must be one of ${ROLES.join(', ')}`, { field: 'role' });
    }
    assertPasswordStrength(input.password);
    if (input.inboxIds) await this.inboxes?.checkInboxes(input.inboxIds);
    if (await this.users.findUserByEmail(email)) {
      throw new AppError('CONFLICT', 'a user with this e-mail address exists already', { field: 'email' });
    }
    const now = this.clock.now().getTime();
    const row: UserRecord = {
      id: newId(),
      email,
      password_hash: await argonHash(input.password, ARGON2_OPTIONS),
      role: input.role,
      display_name: input.displayName?.trim() || email.split('@')[0]!,
      language: input.language ?? 'de',
      totp_secret_enc: null,
      totp_enabled: false,
      recovery_codes: null,
      failed_logins: 0,
      locked_until: null,
      disabled: false,
      created_at: now,
      updated_at: now,
    };
    await this.users.insertUser(row);
    await this.inboxes?.joinInboxes(row, input.inboxIds);
    return row;
  }

  /** Checks a password in constant time with respect to whether the user exists. */
  async verifyPassword(email: string, password: string): Promise<UserRecord | undefined> {
    const user = await this.users.findUserByEmail(email.trim().toLowerCase());
    const ok = await argonVerify(user?.password_hash ?? DUMMY_HASH, password);
    return ok && user && !user.disabled ? user : undefined;
  }

  /** Checks the password of a known user (password change, re-authentication). */
  async checkPassword(user: UserRecord, password: string): Promise<boolean> {
    return argonVerify(user.password_hash, password);
  }

  /** Replaces a user's password (strength-checked, argon2id) and clears the lock-out. */
  async setPassword(userId: string, password: string): Promise<void> {
    assertPasswordStrength(password);
    await this.users.updateUser(userId, {
      password_hash: await argonHash(password, ARGON2_OPTIONS),
      failed_logins: 0,
      locked_until: null,
      updated_at: this.clock.now().getTime(),
    });
  }

  /**
   * Lifts the lock-out after repeated failed logins or second-factor codes, and resets the failure count. Answers
   * whether the account was locked. The caller records who did it in the audit log (admin screen, `admin unlock`).
   */
  async unlock(userId: string): Promise<{ wasLocked: boolean }> {
    const user = await this.users.findUserById(userId);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    const now = this.clock.now().getTime();
    await this.users.updateUser(userId, { failed_logins: 0, locked_until: null, updated_at: now });
    return { wasLocked: (user.locked_until ?? 0) > now };
  }

  /**
   * Creates an API token. `inboxIds` limits an agent token to those inboxes (without: every inbox); other roles
   * reach beyond conversations (admin settings, compliance), so only agent tokens can be limited. `expiresAt` lets
   * the token stop working then (without: never). An array instead of options gives the inboxes alone.
   */
  async createApiToken(
    name: string,
    role: Role,
    given: { expiresAt?: number | undefined; inboxIds?: readonly string[] } | readonly string[] = {},
  ): Promise<CreatedToken> {
    const options = Array.isArray(given)
      ? { inboxIds: given as readonly string[] }
      : (given as { expiresAt?: number; inboxIds?: readonly string[] });
    const inboxIds = options.inboxIds ?? [];
    if (!name.trim()) throw new AppError('VALIDATION', 'the token needs a name (example: crm-import)');
    if (!ROLES.includes(role)) throw new AppError('VALIDATION', `role must be one of ${ROLES.join(', ')}`);
    const now = this.clock.now().getTime();
    if (options.expiresAt !== undefined && !(options.expiresAt > now)) {
      throw new AppError('VALIDATION', 'the expiry must lie in the future (example: --expires-in 30d)');
    }
    if (inboxIds.length > 0 && role !== 'agent') {
      throw new AppError('VALIDATION', 'only agent tokens can be limited to inboxes (use --role agent)', {
        field: 'inbox',
      });
    }
    if (inboxIds.length > 0 && !this.inboxes) throw new AppError('CONFIG', 'inbox limits are not available here');
    if (inboxIds.length > 0) await this.inboxes!.checkInboxes(inboxIds);
    const token = `spt_${newToken(32)}`;
    const id = newId();
    await this.users.insertApiToken({
      id,
      name: name.trim(),
      role,
      token_hash: hashSecret(token),
      created_at: now,
      last_used_at: null,
      revoked_at: null,
      expires_at: options.expiresAt ?? null,
    });
    if (inboxIds.length > 0) await this.inboxes!.limitToken(id, inboxIds);
    return { id, token };
  }

  /** Every API token (never the token itself: only its hash is stored), oldest first. */
  listApiTokens(): Promise<ApiTokenRecord[]> {
    return this.users.listApiTokens();
  }

  /** Revokes a token at once; false when there is no such token or it was revoked already. */
  async revokeApiToken(id: string): Promise<boolean> {
    const token = (await this.users.listApiTokens()).find((t) => t.id === id);
    if (!token) throw new AppError('NOT_FOUND', `no API token with the id ${id} (see sparsam token list)`);
    if (token.revoked_at !== null) return false;
    await this.users.revokeApiToken(id, this.clock.now().getTime());
    return true;
  }
}

export function assertPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('VALIDATION', `the password must have at least ${MIN_PASSWORD_LENGTH} characters`, {
      field: 'password',
    });
  }
}

// A valid argon2id hash of a random string, verified against when the user does not exist so timing tells nothing.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c3BhcnNhbS1kdW1teQ$3k0bDkT5P3F3XH4m0t8cq5n8h0o8b5m1Vn7m0v2o8sQ';
