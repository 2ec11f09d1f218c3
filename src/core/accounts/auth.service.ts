import { createHash, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { AppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { newToken } from '../../shared/ids.ts';
import type { SessionRecord, UserRecord } from '../ports/model.ts';
import type { UserPort } from '../ports/user.port.ts';
import type { WebPort } from '../ports/web.port.ts';
import { hashSecret, type AccountService } from './account.service.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { SecretBox } from './secret-box.ts';

/** Content-free audit sink (the privacy core's AuditLog satisfies it). */
export interface AccountAudit {
  append(entry: {
    actor: string;
    action: string;
    targetType?: string;
    targetId?: string;
    result?: 'ok' | 'denied' | 'failed';
    details?: Record<string, string | number | boolean | null>;
  }): Promise<unknown>;
}

export interface AuthPolicy {
  /** A session lives this long after the last request. */
  idleMs: number;
  /** …and never longer than this after login. */
  absoluteMs: number;
  /** A login waiting for its second factor expires after this. */
  pendingMs: number;
  /** Wrong passwords from one client for one e-mail address before that client is refused for it… */
  maxFailures: number;
  /** …for this long. */
  lockMs: number;
  /** Failed attempts (password or second factor) at one account, from any client, before it is slowed down… */
  accountMaxFailures: number;
  /** …for this long: only browsers that signed in to the account before (device cookie) still get in. */
  accountSlowdownMs: number;
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  idleMs: 8 * 3_600_000,
  absoluteMs: 7 * 24 * 3_600_000,
  pendingMs: 10 * 60_000,
  maxFailures: 5,
  lockMs: 15 * 60_000,
  accountMaxFailures: 10,
  accountSlowdownMs: 60_000,
};

/** Where a login attempt comes from: the client address, and the device cookie of an earlier sign-in if any. */
export interface LoginClient {
  address: string;
  device?: string;
}

const DEVICE_AAD = 'sparsam/login-device/v1';
/** A device cookie vouches for a browser this long after its last sign-in. */
export const DEVICE_TTL_MS = 90 * 24 * 3_600_000;

/** What the browser must do next after a password was accepted. */
export type LoginStep = 'done' | 'totp' | 'enrol';

export interface AuthenticatedSession {
  session: SessionRecord;
  user: UserRecord;
  /** 'done' when fully logged in; otherwise the second-factor step still missing. */
  step: LoginStep;
}

export const REQUIRE_2FA_SETTING = 'security.require2fa';
const RECOVERY_CODE_COUNT = 10;

/** The SHA-256 of a session token: the only form stored. */
export function sessionIdHash(token: string): string {
  return hashSecret(token);
}

/** The CSRF token of a session: derived from the secret session token, so it needs no storage and dies with it. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`sparsam-csrf:${sessionToken}`).digest('base64url');
}

export function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

function newRecoveryCode(): string {
  // 10 characters of base32 (50 bits), shown as xxxxx-xxxxx.
  const raw = new Secret({ size: 10 }).base32.slice(0, 10).toLowerCase();
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

/**
 * Staff login: password (argon2id via AccountService), TOTP second factor with recovery codes, sessions stored as
 * SHA-256 of the token, lock-out after repeated failures, logout and logout everywhere, password change. No HTTP.
 *
 * Everything that must hold across instances sharing one database lives there and changes in single statements:
 * the failure count and lock, the last used TOTP step (a code is accepted once, at whichever instance), and the
 * recovery codes (each used once).
 */
export class AuthService {
  private readonly pairs: LoginThrottle;
  /** The account-wide slow-down for addresses without an account, so that it answers like a real one. */
  private readonly unknownAccounts: LoginThrottle;

  constructor(
    private readonly users: UserPort,
    private readonly web: WebPort,
    private readonly accounts: AccountService,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly audit?: AccountAudit,
    private readonly policy: AuthPolicy = DEFAULT_AUTH_POLICY,
  ) {
    this.pairs = new LoginThrottle(policy.maxFailures, policy.lockMs);
    this.unknownAccounts = new LoginThrottle(policy.accountMaxFailures, policy.accountSlowdownMs);
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private async record(
    actor: string,
    action: string,
    targetId: string | undefined,
    result: 'ok' | 'denied' | 'failed' = 'ok',
    details?: Record<string, string | number | boolean | null>,
  ): Promise<void> {
    await this.audit?.append({ actor, action, targetType: 'user', targetId, result, details });
  }

  /** Whether every user must use a second factor (admins and data protection officers always must). */
  async require2fa(): Promise<boolean> {
    return (await this.web.getStructuredSetting(REQUIRE_2FA_SETTING)) === true;
  }

  async setRequire2fa(value: boolean, actor: string): Promise<void> {
    await this.web.putStructuredSetting(REQUIRE_2FA_SETTING, value, this.now());
    await this.record(actor, 'settings.require2fa', undefined, 'ok', { value });
  }

  /** Admins and data protection officers (who can export anyone's data) always need a second factor. */
  async secondFactorRequired(user: UserRecord): Promise<boolean> {
    return user.role === 'admin' || user.role === 'dpo' || (await this.require2fa());
  }

  /** One answer for every refusal of this kind, real account or not. */
  private lockedMessage(waitMs: number): AppError {
    const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
    return new AppError(
      'RATE_LIMITED',
      `too many failed attempts; signing in is locked for ${minutes} more minute${minutes === 1 ? '' : 's'}`,
      { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
    );
  }

  private async registerFailure(user: UserRecord): Promise<void> {
    const now = this.now();
    const { failures, locked } = await this.users.registerLoginFailure(
      user.id,
      this.policy.accountMaxFailures,
      now + this.policy.accountSlowdownMs,
      now,
    );
    if (locked) await this.record('system', 'auth.locked', user.id, 'denied', { failures });
  }

  /** Lifts this instance's per-client lock-outs for an address (with an admin's unlock of the account). */
  forgetFailedLogins(email: string): void {
    this.pairs.forget(email);
  }

  /** A device cookie for a browser that just signed in to this account: sealed, so it cannot be forged. */
  deviceTokenFor(user: UserRecord): string {
    return Buffer.from(this.box.seal(`${user.id}:${this.now()}`, DEVICE_AAD)).toString('base64url');
  }

  /** Whether the device cookie shows that this browser signed in to this account in the last 90 days. */
  private deviceTrusted(user: UserRecord, device: string | undefined): boolean {
    if (!device) return false;
    try {
      const [id, at] = this.box.open(Buffer.from(device, 'base64url'), DEVICE_AAD).split(':');
      return id === user.id && this.now() - Number(at) < DEVICE_TTL_MS;
    } catch {
      return false;
    }
  }

  /**
   * Checks email and password and opens a session. When a second factor is needed the session is pending: it opens
   * only the second-factor step until {@link completeTotp} or {@link completeRecovery} (or enrolment) finishes it.
   *
   * Guessing is bounded twice, and neither bound lets a stranger lock staff out: five wrong passwords from one client
   * for one address refuse that client (only) for 15 minutes; ten failures at one account from anywhere slow the
   * account down for a minute, except for browsers that signed in to it before (their device cookie). Unknown
   * addresses get the same answers as real accounts.
   */
  async login(
    email: string,
    password: string,
    client: LoginClient = { address: 'unknown' },
  ): Promise<{ token: string; step: LoginStep; user: UserRecord; device?: string }> {
    const now = this.now();
    const known = await this.users.findUserByEmail(email.trim().toLowerCase());
    const pairWait = this.pairs.waitMs(email, client.address, now);
    const accountWait = known
      ? Math.max(0, (known.locked_until ?? 0) - now)
      : this.unknownAccounts.waitMs(email, '*', now);
    const wait = Math.max(pairWait, known && this.deviceTrusted(known, client.device) ? 0 : accountWait);
    if (wait > 0) {
      await this.record('system', 'auth.login', known?.id, 'denied', { reason: 'locked' });
      throw this.lockedMessage(wait);
    }
    const user = await this.accounts.verifyPassword(email, password);
    if (!user) {
      this.pairs.fail(email, client.address, now);
      if (known && !known.disabled) await this.registerFailure(known);
      else if (!known) this.unknownAccounts.fail(email, '*', now);
      await this.record('system', 'auth.login', known?.id, 'denied', { reason: 'password' });
      throw new AppError('UNAUTHENTICATED', 'e-mail address or password is wrong');
    }
    this.pairs.succeed(email, client.address);
    const needs2fa = await this.secondFactorRequired(user);
    const step: LoginStep = user.totp_enabled ? 'totp' : needs2fa ? 'enrol' : 'done';
    if (step === 'done') await this.users.updateUser(user.id, { failed_logins: 0, updated_at: this.now() });
    const token = await this.openSession(user.id, step === 'done');
    await this.record(`user:${user.id}`, 'auth.login', user.id, 'ok', { step });
    // The device cookie only for a complete sign-in: knowing the password alone must not lift the slow-down.
    return { token, step, user, ...(step === 'done' ? { device: this.deviceTokenFor(user) } : {}) };
  }

  private async openSession(userId: string, complete: boolean): Promise<string> {
    const token = newToken(32);
    const now = this.now();
    await this.users.insertSession({
      id_hash: sessionIdHash(token),
      user_id: userId,
      second_factor_done: complete,
      created_at: now,
      expires_at: now + (complete ? this.policy.idleMs : this.policy.pendingMs),
      last_seen_at: now,
    });
    return token;
  }

  /**
   * Resolves a session token, pending or complete; undefined when unknown, expired, or the user is disabled. Slides
   * the idle expiry at most once a minute.
   */
  async resolve(token: string): Promise<AuthenticatedSession | undefined> {
    const idHash = sessionIdHash(token);
    const session = await this.users.findSession(idHash);
    const now = this.now();
    if (!session) return undefined;
    if (session.expires_at <= now) {
      await this.users.deleteSession(idHash);
      return undefined;
    }
    const user = await this.users.findUserById(session.user_id);
    if (!user || user.disabled) return undefined;
    let step: LoginStep = 'done';
    if (!session.second_factor_done) step = user.totp_enabled ? 'totp' : 'enrol';
    if (step === 'done' && now - session.last_seen_at > 60_000) {
      const expires = Math.min(now + this.policy.idleMs, session.created_at + this.policy.absoluteMs);
      await this.users.updateSession(idHash, { last_seen_at: now, expires_at: expires });
    }
    return { session, user, step };
  }

  private totpFor(user: UserRecord, secret: string): TOTP {
    return new TOTP({
      issuer: 'sparsam',
      label: user.email,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      secret: Secret.fromBase32(secret),
    });
  }

  /**
   * Checks a TOTP code (±1 step), refusing a code already used for this user (replay): the step is claimed in the
   * database in one statement, so a code used at one instance is refused at every other one, even at the same time.
   */
  private async checkTotp(user: UserRecord, secret: string, code: string): Promise<boolean> {
    const totp = this.totpFor(user, secret);
    const timestamp = this.now();
    const delta = totp.validate({ token: code.replace(/\s/g, ''), timestamp, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(timestamp / 30_000) + delta;
    return this.users.claimTotpStep(user.id, step);
  }

  private async pending(token: string, expected: LoginStep, device?: string): Promise<AuthenticatedSession> {
    const found = await this.resolve(token);
    if (!found || found.step !== expected) {
      throw new AppError('UNAUTHENTICATED', 'the login has expired; log in again with your password');
    }
    const wait = (found.user.locked_until ?? 0) - this.now();
    if (wait > 0 && !this.deviceTrusted(found.user, device)) throw this.lockedMessage(wait);
    return found;
  }

  private async finish(found: AuthenticatedSession, method: string): Promise<void> {
    const now = this.now();
    await this.users.updateSession(found.session.id_hash, {
      second_factor_done: true,
      last_seen_at: now,
      expires_at: now + this.policy.idleMs,
    });
    await this.users.updateUser(found.user.id, { failed_logins: 0, updated_at: now });
    await this.record(`user:${found.user.id}`, 'auth.second-factor', found.user.id, 'ok', { method });
  }

  async completeTotp(token: string, code: string, device?: string): Promise<UserRecord> {
    const found = await this.pending(token, 'totp', device);
    const secret = this.box.open(found.user.totp_secret_enc!, `users:${found.user.id}:totp`);
    if (!(await this.checkTotp(found.user, secret, code))) {
      await this.registerFailure(found.user);
      await this.record(`user:${found.user.id}`, 'auth.second-factor', found.user.id, 'denied', { method: 'totp' });
      throw new AppError('UNAUTHENTICATED', 'the code is wrong or expired');
    }
    await this.finish(found, 'totp');
    return found.user;
  }

  /** Finishes a pending login with a one-time recovery code; the code is used up. */
  async completeRecovery(
    token: string,
    code: string,
    device?: string,
  ): Promise<{ user: UserRecord; remaining: number }> {
    const found = await this.pending(token, 'totp', device);
    const hashes = found.user.recovery_codes ?? [];
    const hash = hashSecret(normaliseRecoveryCode(code));
    if (!hashes.includes(hash)) {
      await this.registerFailure(found.user);
      await this.record(`user:${found.user.id}`, 'auth.second-factor', found.user.id, 'denied', {
        method: 'recovery',
      });
      throw new AppError('UNAUTHENTICATED', 'the recovery code is wrong or was used already');
    }
    const remaining = hashes.filter((h) => h !== hash);
    // Compare-and-set: of two uses of one code at once (on one instance or two), only one gets through.
    const used = await this.users.replaceRecoveryCodes(found.user.id, found.user.recovery_codes, remaining, this.now());
    if (!used) throw new AppError('UNAUTHENTICATED', 'the recovery code is wrong or was used already');
    await this.finish(found, 'recovery');
    return { user: found.user, remaining: remaining.length };
  }

  /**
   * Starts TOTP enrolment: a new secret, kept sealed and inactive until confirmed with a code. Returns the otpauth
   * URI and a QR code as a data URL for authenticator apps. Replacing a working factor needs the password too, so
   * that a borrowed session alone cannot move the second factor to another phone.
   */
  async startEnrolment(
    user: UserRecord,
    password?: string,
  ): Promise<{ secret: string; uri: string; qrDataUrl: string }> {
    if (user.totp_enabled) {
      if (!password) {
        throw new AppError('VALIDATION', 'enter your password to replace the second factor', { field: 'password' });
      }
      await this.confirmPassword(user, password);
    }
    const secret = new Secret({ size: 20 }).base32;
    const now = this.now();
    if (user.totp_enabled) {
      // Re-enrolment keeps the working factor until the new one is confirmed: the new secret waits apart, sealed.
      const sealed = Buffer.from(this.box.seal(secret, `pending:${user.id}`)).toString('base64');
      await this.web.putSetting(`pending-totp:${user.id}`, sealed, now);
    } else {
      await this.users.updateUser(user.id, {
        totp_secret_enc: this.box.seal(secret, `users:${user.id}:totp`),
        updated_at: now,
      });
    }
    const uri = this.totpFor(user, secret).toString();
    // qrcode is loaded when the first authenticator app is set up, not at every start.
    const QRCode = (await import('qrcode')).default;
    const qrDataUrl = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
    return { secret, uri, qrDataUrl };
  }

  private async enrolmentSecret(user: UserRecord): Promise<string | undefined> {
    if (user.totp_enabled) {
      const pending = await this.web.getSetting(`pending-totp:${user.id}`);
      return pending ? this.box.open(Buffer.from(pending, 'base64'), `pending:${user.id}`) : undefined;
    }
    return user.totp_secret_enc ? this.box.open(user.totp_secret_enc, `users:${user.id}:totp`) : undefined;
  }

  /**
   * Confirms enrolment with a code from the app: turns TOTP on, replaces the recovery codes (returned once, stored
   * hashed). A pending login session (step 'enrol') becomes complete.
   */
  async confirmEnrolment(user: UserRecord, code: string, sessionIdHashValue?: string): Promise<string[]> {
    const secret = await this.enrolmentSecret(user);
    if (!secret) throw new AppError('CONFLICT', 'start the enrolment first');
    if (!(await this.checkTotp(user, secret, code))) {
      throw new AppError('VALIDATION', 'the code is wrong or expired; check the time on your phone', { field: 'code' });
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = this.now();
    await this.users.updateUser(user.id, {
      totp_secret_enc: this.box.seal(secret, `users:${user.id}:totp`),
      totp_enabled: true,
      recovery_codes: codes.map((c) => hashSecret(normaliseRecoveryCode(c))),
      updated_at: now,
    });
    await this.web.putSetting(`pending-totp:${user.id}`, '', now);
    if (sessionIdHashValue) {
      await this.users.updateSession(sessionIdHashValue, {
        second_factor_done: true,
        last_seen_at: now,
        expires_at: now + this.policy.idleMs,
      });
    }
    await this.record(`user:${user.id}`, 'auth.totp-enrolled', user.id);
    return codes;
  }

  /** Turns TOTP off for a user (own account with password, or an admin's reset). Refused where 2FA is required. */
  async disableTotp(user: UserRecord, actor: string, force = false): Promise<void> {
    if (!force && (await this.secondFactorRequired(user))) {
      throw new AppError('FORBIDDEN', 'two-factor authentication is required for this account');
    }
    await this.users.updateUser(user.id, {
      totp_secret_enc: null,
      totp_enabled: false,
      recovery_codes: null,
      updated_at: this.now(),
    });
    await this.record(actor, 'auth.totp-disabled', user.id);
  }

  async logout(token: string): Promise<void> {
    const found = await this.users.findSession(sessionIdHash(token));
    await this.users.deleteSession(sessionIdHash(token));
    if (found) await this.record(`user:${found.user_id}`, 'auth.logout', found.user_id);
  }

  /** Ends every session of the user, this one included. Returns how many ended. */
  async logoutEverywhere(userId: string, actor = `user:${userId}`): Promise<number> {
    const n = await this.users.deleteSessionsOfUser(userId);
    await this.record(actor, 'auth.logout-everywhere', userId, 'ok', { sessions: n });
    return n;
  }

  /** Re-checks the password of a signed-in user before a sensitive change; a wrong one counts as a failure. */
  async confirmPassword(user: UserRecord, password: string): Promise<void> {
    if (!(await this.accounts.checkPassword(user, password))) {
      await this.registerFailure(user);
      throw new AppError('VALIDATION', 'the password is wrong', { field: 'password' });
    }
  }

  /** Changes the password after checking the current one; ends all other sessions. */
  async changePassword(user: UserRecord, current: string, next: string, keepSessionHash?: string): Promise<void> {
    if (!(await this.accounts.checkPassword(user, current))) {
      await this.registerFailure(user);
      throw new AppError('VALIDATION', 'the current password is wrong', { field: 'currentPassword' });
    }
    await this.accounts.setPassword(user.id, next);
    const sessions = await this.users.deleteSessionsOfUser(user.id);
    if (keepSessionHash) {
      const now = this.now();
      await this.users.insertSession({
        id_hash: keepSessionHash,
        user_id: user.id,
        second_factor_done: true,
        created_at: now,
        expires_at: now + this.policy.idleMs,
        last_seen_at: now,
      });
    }
    await this.record(`user:${user.id}`, 'auth.password-changed', user.id, 'ok', { sessionsEnded: sessions });
  }
}
