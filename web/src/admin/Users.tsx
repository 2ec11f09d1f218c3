import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  get,
  patch,
  post,
  put,
  type InboxSettingsView,
  type Role,
  type SessionUser,
  type StaffMember,
} from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { ROLE_KEYS, RoleInboxFields, toggleInbox } from './RoleInboxFields.tsx';
import { CopyButton } from '../shared/CopyButton.tsx';
import { useAction } from '../shared/use-action.tsx';


/** The team: roles, 2FA requirement, disabling, invitation links, 2FA reset. */
export function Users({ self }: { self: SessionUser }) {
  const { t } = useI18n();
  const [users, setUsers] = useState<StaffMember[]>([]);
  const [require2fa, setRequire2fa] = useState(false);
  const [link, setLink] = useState<string | null>(null);
  const [form, setForm] = useState({ email: '', displayName: '', role: 'agent' as Role, language: 'de' });
  const [inboxes, setInboxes] = useState<string[]>([]);
  /** The inboxes ticked in the invitation form (all of them until the admin changes it). */
  const [inviteInboxes, setInviteInboxes] = useState<string[] | null>(null);
  const [awayAfter, setAwayAfter] = useState(10);
  const { run, view } = useAction();
  const load = useCallback(async () => {
    setUsers((await get<{ items: StaffMember[] }>('/users')).items);
    setRequire2fa((await get<{ require2fa: boolean }>('/admin/security')).require2fa);
    setInboxes((await get<{ items: InboxSettingsView[] }>('/admin/inboxes')).items.map((i) => i.id));
    setAwayAfter((await get<{ awayAfterMinutes: number }>('/admin/presence')).awayAfterMinutes);
  }, []);
  useEffect(() => void load(), [load]);
  const chosen = inviteInboxes ?? inboxes;
  const setUserInboxes = (u: StaffMember, inboxIds: string[]) =>
    run(async () => (await put(`/users/${u.id}/inboxes`, { inboxIds }), await load()), t('saved'));

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      const res = await post<{ invitation: { url: string } }>('/users', {
        ...form,
        displayName: form.displayName || undefined,
        ...(form.role === 'agent' ? { inboxIds: chosen } : {}),
      });
      setLink(res.invitation.url);
      setForm({ ...form, email: '', displayName: '' });
      await load();
    });
  };
  /** For an active user the link resets the password and signs them out: the admin confirms that first. */
  const reinvite = (u: StaffMember) => {
    const reset = !u.invitationPending;
    if (reset && !window.confirm(t('confirmPasswordReset'))) return;
    return run(async () => {
      const res = await post<{ invitation: { url: string } }>(
        `/users/${u.id}/invitation`,
        reset ? { confirm: true } : {},
      );
      setLink(res.invitation.url);
    });
  };

  return (
    <div className="stack">
      <h1>{t('adminUsers')}</h1>
      {view}
      <label className="check">
        <input
          type="checkbox"
          checked={require2fa}
          onChange={(e) =>
            void run(
              async () => (await put('/admin/security', { require2fa: e.target.checked }), await load()),
              t('saved'),
            )
          }
        />
        {t('require2fa')}
      </label>
      <form
        className="inline-field"
        onSubmit={(e) => {
          e.preventDefault();
          void run(
            async () => (await put('/admin/presence', { awayAfterMinutes: awayAfter }), await load()),
            t('saved'),
          );
        }}
      >
        <label htmlFor="away-after">{t('teams.awayAfter')}</label>
        <input
          id="away-after"
          type="number"
          min={1}
          max={1440}
          className="narrow"
          value={awayAfter}
          onChange={(e) => setAwayAfter(Number(e.target.value))}
        />
        <button type="submit" className="btn btn-small">
          {t('teams.save')}
        </button>
      </form>
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t('adminUsers')}>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('displayName')}</th>
              <th scope="col">{t('email')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('teams.inboxes')}</th>
              <th scope="col">{t('twoFactor')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td className="name">{u.displayName}</td>
                <td className="email">{u.email}</td>
                <td>
                  <select
                    className="role-select"
                    aria-label={`${t('role')}: ${u.displayName}`}
                    value={u.role}
                    disabled={u.id === self.id}
                    onChange={(e) =>
                      void run(
                        async () => (await patch(`/users/${u.id}`, { role: e.target.value }), await load()),
                        t('saved'),
                      )
                    }
                  >
                    {(['admin', 'agent', 'dpo'] as Role[]).map((r) => (
                      <option key={r} value={r}>
                        {t(ROLE_KEYS[r])}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="inbox-cell">
                  {u.role === 'admin' ? (
                    <span className="muted">{t('teams.allInboxes')}</span>
                  ) : u.role === 'dpo' ? (
                    '–'
                  ) : (
                    <fieldset className="inbox-choice" aria-label={t('teams.inboxesOf', { name: u.displayName })}>
                      {inboxes.map((id) => (
                        <label key={id} className="check small">
                          <input
                            type="checkbox"
                            checked={u.inboxIds.includes(id)}
                            onChange={(e) => void setUserInboxes(u, toggleInbox(u.inboxIds, id, e.target.checked))}
                          />
                          {id}
                        </label>
                      ))}
                      {inboxes.length === 0 && <span className="muted">{t('teams.noInbox')}</span>}
                    </fieldset>
                  )}
                </td>
                <td>{u.totpEnabled ? '✓' : '–'}</td>
                <td>
                  {u.disabled
                    ? t('disabledState')
                    : u.locked
                      ? t('lockedState')
                      : u.invitationPending
                        ? t('invitedState')
                        : t('active')}
                </td>
                <td className="actions">
                  {u.id !== self.id && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        void run(async () => (await patch(`/users/${u.id}`, { disabled: !u.disabled }), await load()))
                      }
                    >
                      {u.disabled ? t('enable') : t('disable')}
                    </button>
                  )}
                  {u.id !== self.id && !(u.role === 'dpo' && !u.invitationPending) && (
                    <button type="button" className="btn btn-small" onClick={() => void reinvite(u)}>
                      {t('newInvitation')}
                    </button>
                  )}
                  {u.locked && !u.disabled && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        void run(async () => (await post(`/users/${u.id}/unlock`), await load()), t('unlocked'))
                      }
                    >
                      {t('unlock')}
                    </button>
                  )}
                  {u.totpEnabled && u.id !== self.id && (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        void run(async () => (await post(`/users/${u.id}/reset-2fa`), await load()), t('saved'))
                      }
                    >
                      {t('reset2fa')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card form-grid" onSubmit={invite}>
        <h2>{t('inviteUser')}</h2>
        <div className="form-row">
          <label htmlFor="inv-email">{t('email')}</label>
          <input
            id="inv-email"
            type="email"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="inv-name">{t('displayName')}</label>
          <input
            id="inv-name"
            value={form.displayName}
            onChange={(e) => setForm({ ...form, displayName: e.target.value })}
          />
        </div>
        <RoleInboxFields
          idPrefix="inv"
          role={form.role}
          onRole={(role) => setForm({ ...form, role })}
          inboxes={inboxes}
          chosen={chosen}
          onChosen={setInviteInboxes}
          legend={t('teams.inviteInboxes')}
        />
        <div className="form-row">
          <label htmlFor="inv-lang">{t('language')}</label>
          <select id="inv-lang" value={form.language} onChange={(e) => setForm({ ...form, language: e.target.value })}>
            <option value="de">{t('german')}</option>
            <option value="en">{t('english')}</option>
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('invite')}
          </button>
        </div>
        {link && (
          <div className="invite-link" role="status">
            <p>{t('invitationLink')}</p>
            <code className="break">{link}</code> <CopyButton value={link} />
          </div>
        )}
      </form>
    </div>
  );
}
