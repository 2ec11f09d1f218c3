import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { get, post, type ApiToken, type InboxSettingsView, type Role } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { ROLE_KEYS, RoleInboxFields } from './RoleInboxFields.tsx';
import { CopyButton } from '../shared/CopyButton.tsx';
import { useAction } from '../shared/use-action.tsx';

/** API tokens for integrations: created here (agent tokens optionally limited to inboxes), shown once, revoked. */
export function Tokens() {
  const { t, formatDate } = useI18n();
  const [items, setItems] = useState<ApiToken[]>([]);
  const [inboxes, setInboxes] = useState<string[]>([]);
  const [form, setForm] = useState({ name: '', role: 'agent' as Role, inboxIds: [] as string[] });
  const [shown, setShown] = useState<string | null>(null);
  const { run, view } = useAction();
  const load = useCallback(async () => {
    setItems((await get<{ items: ApiToken[] }>('/admin/tokens')).items);
    setInboxes((await get<{ items: InboxSettingsView[] }>('/admin/inboxes')).items.map((i) => i.id));
  }, []);
  useEffect(() => void load(), [load]);
  const create = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body = { ...form, inboxIds: form.role === 'agent' ? form.inboxIds : [] };
      const res = await post<{ token: string }>('/admin/tokens', body);
      setShown(res.token);
      setForm({ name: '', role: 'agent', inboxIds: [] });
      await load();
    });
  };
  return (
    <div className="stack">
      <h1>{t('teams.tokens')}</h1>
      {view}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('teams.tokenName')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('teams.inboxes')}</th>
              <th scope="col">{t('teams.tokenLastUsed')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((tok) => (
              <tr key={tok.id} className={tok.revoked ? 'muted' : ''}>
                <td className="name">{tok.name}</td>
                <td>{t(ROLE_KEYS[tok.role])}</td>
                <td>{tok.inboxIds.length > 0 ? tok.inboxIds.join(', ') : t('teams.allInboxes')}</td>
                <td>{tok.lastUsedAt ? formatDate(tok.lastUsedAt) : '–'}</td>
                <td className="actions">
                  {tok.revoked ? (
                    t('teams.tokenRevoked')
                  ) : (
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() =>
                        window.confirm(t('teams.tokenRevokeConfirm', { name: tok.name })) &&
                        void run(async () => (await post(`/admin/tokens/${tok.id}/revoke`), await load()), t('saved'))
                      }
                    >
                      {t('teams.tokenRevoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="card form-grid" onSubmit={create}>
        <h2>{t('teams.tokenCreate')}</h2>
        <div className="form-row">
          <label htmlFor="tok-name">{t('teams.tokenName')}</label>
          <input
            id="tok-name"
            required
            maxLength={80}
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
          />
        </div>
        <RoleInboxFields
          idPrefix="tok"
          role={form.role}
          onRole={(role) => setForm({ ...form, role })}
          inboxes={inboxes}
          chosen={form.inboxIds}
          onChosen={(inboxIds) => setForm({ ...form, inboxIds })}
          legend={t('teams.tokenInboxes')}
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('teams.tokenCreate')}
          </button>
        </div>
        {shown && (
          <div className="invite-link" role="status">
            <p>{t('teams.tokenShownOnce')}</p>
            <code className="break">{shown}</code> <CopyButton value={shown} />
          </div>
        )}
      </form>
    </div>
  );
}
