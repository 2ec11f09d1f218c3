import type { z } from 'zod';
import type { StaffMember } from '../../core/accounts/staff.service.ts';
import type { UserRecord } from '../../core/ports/model.ts';
import type { Lang } from '../contract/api-route.ts';
import type { SessionUserSchema } from '../contract/auth.contract.ts';
import type { StaffMemberSchema } from '../contract/users.contract.ts';

/** A staff language as stored: every write checks it against the contract's languages (de, en). */
const storedLang = (language: string): Lang => language as Lang;

/** The signed-in user as the browser sees it. */
export function sessionUser(u: UserRecord): z.input<typeof SessionUserSchema> {
  return {
    id: u.id,
    email: u.email,
    displayName: u.display_name,
    role: u.role,
    language: storedLang(u.language),
    totpEnabled: u.totp_enabled,
    passwordResetAt: u.password_reset_at ? new Date(u.password_reset_at).toISOString() : null,
  };
}

/** A staff member as admins see them. */
export function staffView(member: StaffMember, inboxIds: readonly string[]): z.input<typeof StaffMemberSchema> {
  return { ...member, language: storedLang(member.language), inboxIds: [...inboxIds] };
}

/** The user of a login that still needs its second step: only the language, for the login page's texts. */
export function pendingUser(u: Pick<UserRecord, 'language'>): { language: Lang } {
  return { language: storedLang(u.language) };
}
