import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId, newToken } from '../../shared/ids.ts';
import type { Role, UserRecord } from '../ports/model.ts';
import type { UserPort } from '../ports/user.port.ts';
import type { WebPort } from '../ports/web.port.ts';
import { assertPasswordStrength, hashSecret, ROLES, type AccountService } from './account.service.ts';
import type { AccountAudit } from './auth.service.ts';

export const INVITATION_TTL_MS = 7 * 24 * 3_600_000;

/** A staff member as admins and the inbox see them: no hashes, no secrets. */
export interface StaffMember {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  language: string;
  totpEnabled: boolean;
  disabled: boolean;
  locked: boolean;
  invitationPending: boolean;
  createdAt: number;
}

/**
 * Admin management of staff accounts: invitations (a one-time token to set the password, stored as SHA-256),
 * role changes, disabling, second-factor reset. Keeps at least one active admin. No HTTP.
 */
export class StaffService {
  constructor(
    private readonly users: UserPort,
    private readonly web: WebPort,
    private readonly accounts: AccountService,
    private readonly clock: Clock,
    private readonly audit?: AccountAudit,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async list(): Promise<StaffMember[]> {
    const [users, open] = await Promise.all([this.users.listUsers(), this.web.listOpenInvitations(this.now())]);
    const invited = new Set(open.map((i) => i.user_id));
    return users.map((u) => this.toMember(u, invited.has(u.id)));
  }

  toMember(u: UserRecord, invitationPending = false): StaffMember {
    return {
      id: u.id,
      email: u.email,
      displayName: u.display_name,
      role: u.role,
      language: u.language,
      totpEnabled: u.totp_enabled,
      disabled: u.disabled,
      locked: (u.locked_until ?? 0) > this.now(),
      invitationPending,
      createdAt: u.created_at,
    };
  }

  /** Creates the account with an unknowable password and returns a one-time invitation token (shown once). */
  async invite(
    input: { email: string; role: Role; displayName?: string; language?: string; inboxIds?: readonly string[] },
    actor: string,
  ): Promise<{ user: StaffMember; token: string; expiresAt: number }> {
    const user = await this.accounts.createUser({ ...input, password: newToken(32) });
    const { token, expiresAt } = await this.newInvitation(user.id, actor);
    await this.audit?.append({
      actor,
      action: 'user.invited',
      targetType: 'user',
      targetId: user.id,
      details: { role: user.role },
    });
    return { user: this.toMember(user, true), token, expiresAt };
  }

  /**
   * A fresh invitation for an existing account (the old ones stop working). For an account whose password was set
   * (an active user) the link is a password reset, so it is never silent: the admin must confirm it, the user's
   * sessions end, and the audit log records it (the user is told at the next sign-in: `password_reset_at`, shown until they dismiss it). Nobody resets their
   * own account this way (the account page changes the password), and an admin cannot reset an active data
   * protection officer, whose account guards the audit of the admins.
   */
  async reinvite(
    userId: string,
    actor: { userId?: string; name: string },
    confirmed = false,
  ): Promise<{ token: string; expiresAt: number; reset: boolean; sessionsEnded: number }> {
    const user = await this.users.findUserById(userId);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    if (actor.userId === userId) {
      throw new AppError(
        'CONFLICT',
        'you cannot reset your own account with an invitation link; change your password on the account page',
      );
    }
    // Unused invitations, expired or not: an account that still waits for its first one has no password of its own.
    const waiting = (await this.web.listOpenInvitations(0)).some((i) => i.user_id === userId);
    const reset = !waiting;
    if (reset && user.role === 'dpo') {
      throw new AppError(
        'FORBIDDEN',
        "an admin cannot reset the data protection officer's account; the officer uses a recovery code, or the operator creates a new officer account with `sparsam admin create --role dpo`",
      );
    }
    if (reset && !confirmed) {
      throw new AppError(
        'CONFLICT',
        'this user has set a password: a new invitation link resets it and signs the user out everywhere; confirm the reset (confirm: true)',
        { field: 'confirm' },
      );
    }
    const result = await this.newInvitation(user.id, actor.name);
    const sessionsEnded = reset ? await this.users.deleteSessionsOfUser(user.id) : 0;
    if (reset) await this.users.updateUser(user.id, { password_reset_at: this.now() });
    await this.audit?.append({
      actor: actor.name,
      action: reset ? 'user.password-reset' : 'user.reinvited',
      targetType: 'user',
      targetId: user.id,
      details: reset ? { sessionsEnded } : undefined,
    });
    return { ...result, reset, sessionsEnded };
  }

  private async newInvitation(userId: string, actor: string): Promise<{ token: string; expiresAt: number }> {
    await this.web.deleteInvitationsOfUser(userId);
    const token = `inv_${newToken(32)}`;
    const now = this.now();
    const expiresAt = now + INVITATION_TTL_MS;
    await this.web.insertInvitation({
      id: newId(),
      user_id: userId,
      token_hash: hashSecret(token),
      created_by: actor,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
    });
    return { token, expiresAt };
  }

  /** Who an invitation is for (to greet them on the page); refuses used or expired tokens. */
  /** Who an invitation is for, and the language the admin chose, so that the invitation page speaks it. */
  async describeInvitation(token: string): Promise<{ email: string; displayName: string; language: string }> {
    const inv = await this.web.findInvitationByHash(hashSecret(token));
    if (!inv || inv.used_at !== null || inv.expires_at <= this.now()) {
      throw new AppError('NOT_FOUND', 'this invitation link is unknown, used or expired; ask an admin for a new one');
    }
    const user = await this.users.findUserById(inv.user_id);
    if (!user || user.disabled) throw new AppError('NOT_FOUND', 'this invitation link is no longer valid');
    return { email: user.email, displayName: user.display_name, language: user.language };
  }

  /** Sets the password with a one-time invitation token; a second use is refused. */
  async acceptInvitation(token: string, password: string): Promise<UserRecord> {
    const inv = await this.web.findInvitationByHash(hashSecret(token));
    if (!inv || inv.used_at !== null || inv.expires_at <= this.now()) {
      throw new AppError('NOT_FOUND', 'this invitation link is unknown, used or expired; ask an admin for a new one');
    }
    const user = await this.users.findUserById(inv.user_id);
    if (!user || user.disabled) throw new AppError('NOT_FOUND', 'this invitation link is no longer valid');
    // Check the strength before using the token up, so a too-short password does not burn the link.
    assertPasswordStrength(password);
    if (!(await this.web.useInvitation(inv.id, this.now()))) {
      throw new AppError('NOT_FOUND', 'this invitation link was used already');
    }
    await this.accounts.setPassword(user.id, password);
    await this.audit?.append({
      actor: `user:${user.id}`,
      action: 'user.invitation-accepted',
      targetType: 'user',
      targetId: user.id,
    });
    return user;
  }

  /** Lifts a lock-out after failed logins (an admin's button), audited as `user.unlocked`. */
  async unlock(userId: string, actor: string): Promise<StaffMember> {
    const { wasLocked } = await this.accounts.unlock(userId);
    await this.audit?.append({
      actor,
      action: 'user.unlocked',
      targetType: 'user',
      targetId: userId,
      details: { wasLocked },
    });
    return this.toMember((await this.users.findUserById(userId))!);
  }

  /** Changes role, display name, language or the disabled flag; keeps at least one active admin. */
  async update(
    userId: string,
    patch: { role?: Role; displayName?: string; language?: string; disabled?: boolean },
    actor: { userId?: string; name: string },
  ): Promise<StaffMember> {
    const user = await this.users.findUserById(userId);
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    if (patch.role && !ROLES.includes(patch.role)) {
      throw new AppError('VALIDATION', `role must be one of ${ROLES.join(', ')}`, { field: 'role' });
    }
    const losesAdmin =
      user.role === 'admin' && !user.disabled && ((patch.role && patch.role !== 'admin') || patch.disabled);
    if (losesAdmin && (await this.users.countAdmins()) <= 1) {
      throw new AppError('CONFLICT', 'sparsam needs at least one active admin; make someone else admin first');
    }
    if (patch.disabled && actor.userId === userId) {
      throw new AppError('CONFLICT', 'you cannot disable your own account');
    }
    const row: Partial<UserRecord> = { updated_at: this.now() };
    if (patch.role) row.role = patch.role;
    if (patch.displayName !== undefined) {
      if (!patch.displayName.trim())
        throw new AppError('VALIDATION', 'the name must not be empty', { field: 'displayName' });
      row.display_name = patch.displayName.trim().slice(0, 80);
    }
    if (patch.language !== undefined) {
      if (!['de', 'en'].includes(patch.language))
        throw new AppError('VALIDATION', 'language must be de or en', { field: 'language' });
      row.language = patch.language;
    }
    if (patch.disabled !== undefined) row.disabled = patch.disabled;
    await this.users.updateUser(userId, row);
    if (patch.disabled) await this.users.deleteSessionsOfUser(userId);
    if (patch.role && patch.role !== user.role) await this.users.deleteSessionsOfUser(userId);
    await this.audit?.append({
      actor: actor.name,
      action: 'user.updated',
      targetType: 'user',
      targetId: userId,
      details: { role: patch.role ?? null, disabled: patch.disabled ?? null },
    });
    const updated = await this.users.findUserById(userId);
    return this.toMember(updated!);
  }
}
