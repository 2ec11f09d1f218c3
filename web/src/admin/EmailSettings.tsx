import { useEffect, useState, type FormEvent } from 'react';
import { call, type Endpoints } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { Notice } from '../shared/Notice.tsx';
import { errorText } from '../shared/error-text.ts';

type Smtp = Endpoints['GET /admin/notifications/email']['response'];

/** E-mail notifications: the SMTP server sparsam sends through (password stored sealed) and a test e-mail. */
export function EmailSettings() {
  const { t } = useI18n();
  const [smtp, setSmtp] = useState<Smtp | null>(null);
  const [password, setPassword] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => void call('GET /admin/notifications/email').then(setSmtp), []);
  if (!smtp) return null;

  const { passwordSet: _set, ...fields } = smtp;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const saved = await call('PUT /admin/notifications/email', {
        body: { ...fields, ...(password ? { password } : {}) },
      });
      setSmtp(saved);
      setPassword('');
      setMsg({ kind: 'ok', text: t('saved') });
    } catch (err) {
      setMsg({ kind: 'error', text: errorText(err, t) });
    }
  };
  const test = async () => {
    setBusy(true);
    setMsg(null);
    try {
      await call('POST /admin/notifications/email/test', { body: {} });
      setMsg({ kind: 'ok', text: t('notify.smtp.testSent') });
    } catch (err) {
      setMsg({ kind: 'error', text: errorText(err, t) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form-grid" onSubmit={save} aria-labelledby="smtp-title">
      <h2 id="smtp-title">{t('notify.smtp.title')}</h2>
      <p className="muted wide">{t('notify.smtp.intro')}</p>
      <label className="check wide">
        <input
          type="checkbox"
          checked={smtp.enabled}
          onChange={(e) => setSmtp({ ...smtp, enabled: e.target.checked })}
        />
        {t('notify.smtp.enabled')}
      </label>
      <div className="form-row">
        <label htmlFor="smtp-host">{t('notify.smtp.host')}</label>
        <input
          id="smtp-host"
          required={smtp.enabled}
          maxLength={253}
          value={smtp.host}
          placeholder="smtp.example.com"
          onChange={(e) => setSmtp({ ...smtp, host: e.target.value })}
        />
      </div>
      <div className="form-row">
        <label htmlFor="smtp-port">{t('notify.smtp.port')}</label>
        <input
          id="smtp-port"
          type="number"
          min={1}
          max={65535}
          required
          value={smtp.port}
          onChange={(e) => setSmtp({ ...smtp, port: Number(e.target.value) })}
        />
      </div>
      <label className="check wide">
        <input type="checkbox" checked={smtp.secure} onChange={(e) => setSmtp({ ...smtp, secure: e.target.checked })} />
        {t('notify.smtp.secure')}
      </label>
      <div className="form-row">
        <label htmlFor="smtp-user">{t('notify.smtp.user')}</label>
        <input
          id="smtp-user"
          autoComplete="off"
          maxLength={254}
          value={smtp.user}
          onChange={(e) => setSmtp({ ...smtp, user: e.target.value })}
        />
      </div>
      <div className="form-row">
        <label htmlFor="smtp-password">{t('notify.smtp.password')}</label>
        <input
          id="smtp-password"
          type="password"
          autoComplete="new-password"
          value={password}
          placeholder={smtp.passwordSet ? t('notify.smtp.passwordKept') : ''}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="form-row">
        <label htmlFor="smtp-from">{t('notify.smtp.from')}</label>
        <input
          id="smtp-from"
          type="email"
          required={smtp.enabled}
          maxLength={254}
          value={smtp.from}
          placeholder="sparsam@example.com"
          onChange={(e) => setSmtp({ ...smtp, from: e.target.value })}
        />
      </div>
      {msg && <Notice kind={msg.kind}>{msg.text}</Notice>}
      <div className="form-actions">
        <button type="button" className="btn" disabled={busy || !smtp.enabled} onClick={() => void test()}>
          {t('notify.smtp.test')}
        </button>
        <button type="submit" className="btn btn-primary">
          {t('save')}
        </button>
      </div>
    </form>
  );
}
