import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { patch, get, post, type Lang, type SessionUser } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n/i18n.tsx';
import { ErrorText } from './AuthCard.tsx';
import { Enrolment } from './Enrolment.tsx';
import { Notifications } from './Notifications.tsx';
import { Notice } from '../shared/Notice.tsx';
import { errorText } from '../shared/error-text.ts';

interface MeInfo {
  user: SessionUser;
  secondFactorRequired: boolean;
  recoveryCodesLeft: number;
}

/** The staff member's own account: name, language, password, second factor, logout everywhere. */
export function Account(props: { user: SessionUser; onUser(user: SessionUser): void; onLoggedOut(): void }) {
  const { t, setLang } = useI18n();
  const [me, setMe] = useState<MeInfo | null>(null);
  const [name, setName] = useState(props.user.displayName);
  const [lang, setLangField] = useState<Lang>(props.user.language);
  const [profileMsg, setProfileMsg] = useState<{ kind: 'ok' | 'error'; text?: string; key?: MessageKey } | null>(null);
  const [pw, setPw] = useState({ current: '', next: '', repeat: '' });
  const [pwMsg, setPwMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [enrolling, setEnrolling] = useState(false);
  const [enrolError, setEnrolError] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [disablePw, setDisablePw] = useState('');
  const [renewPw, setRenewPw] = useState('');
  const [tfaMsg, setTfaMsg] = useState<string | null>(null);

  const load = useCallback(async () => setMe(await get<MeInfo>('/me')), []);
  useEffect(() => void load(), [load]);

  const saveProfile = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const res = await patch<{ user: SessionUser }>('/me', { displayName: name, language: lang });
      props.onUser(res.user);
      setLang(res.user.language);
      setProfileMsg({ kind: 'ok', key: 'saved' });
    } catch (err) {
      setProfileMsg({ kind: 'error', text: errorText(err, t) });
    }
  };
  const changePassword = async (e: FormEvent) => {
    e.preventDefault();
    if (pw.next !== pw.repeat) return setPwMsg({ kind: 'error', text: t('passwordsDiffer') });
    try {
      await post('/me/password', { currentPassword: pw.current, newPassword: pw.next });
      setPw({ current: '', next: '', repeat: '' });
      setPwMsg({ kind: 'ok', text: t('passwordChanged') });
    } catch (err) {
      setPwMsg({ kind: 'error', text: errorText(err, t) });
    }
  };
  const run = async (fn: () => Promise<void>) => {
    setEnrolError(null);
    try {
      await fn();
    } catch (e) {
      setEnrolError(errorText(e, t));
    }
  };

  return (
    <div className="account stack">
      <h1>{t('accountTitle')}</h1>
      <form className="card form-grid" onSubmit={saveProfile}>
        <h2>{t('profile')}</h2>
        <p className="muted wide">{props.user.email}</p>
        <div className="form-row">
          <label htmlFor="acc-name">{t('displayName')}</label>
          <input id="acc-name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="form-row">
          <label htmlFor="acc-lang">{t('language')}</label>
          <select id="acc-lang" value={lang} onChange={(e) => setLangField(e.target.value as Lang)}>
            <option value="de">{t('german')}</option>
            <option value="en">{t('english')}</option>
          </select>
        </div>
        {profileMsg && <Notice kind={profileMsg.kind}>{profileMsg.key ? t(profileMsg.key) : profileMsg.text}</Notice>}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('save')}
          </button>
        </div>
      </form>

      {props.user.role !== 'dpo' && <Notifications />}

      <form className="card form-grid" onSubmit={changePassword}>
        <h2>{t('changePassword')}</h2>
        <div className="form-row">
          <label htmlFor="pw-current">{t('currentPassword')}</label>
          <input
            id="pw-current"
            type="password"
            autoComplete="current-password"
            required
            value={pw.current}
            onChange={(e) => setPw({ ...pw, current: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="pw-next">{t('newPassword')}</label>
          <input
            id="pw-next"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={pw.next}
            onChange={(e) => setPw({ ...pw, next: e.target.value })}
          />
        </div>
        <div className="form-row">
          <label htmlFor="pw-repeat">{t('repeatPassword')}</label>
          <input
            id="pw-repeat"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={pw.repeat}
            onChange={(e) => setPw({ ...pw, repeat: e.target.value })}
          />
        </div>
        {pwMsg && <Notice kind={pwMsg.kind}>{pwMsg.text}</Notice>}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">
            {t('changePassword')}
          </button>
        </div>
      </form>

      <section className="card" aria-labelledby="tfa-title">
        <h2 id="tfa-title">{t('twoFactorTitle')}</h2>
        {me && (
          <p>
            {me.user.totpEnabled ? t('twoFactorOn', { n: me.recoveryCodesLeft }) : t('twoFactorOff')}{' '}
            {me.secondFactorRequired && <strong>{t('twoFactorRequired')}</strong>}
          </p>
        )}
        {codes ? (
          <>
            <p>{t('recoveryIntro')}</p>
            <ul className="codes">
              {codes.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => (setCodes(null), setEnrolling(false), void load())}
            >
              {t('recoveryDone')}
            </button>
          </>
        ) : enrolling ? (
          <Enrolment
            embedded
            busy={false}
            error={enrolError}
            run={run}
            password={me?.user.totpEnabled ? renewPw : undefined}
            onDone={(_info, c) => (setRenewPw(''), setCodes(c))}
          />
        ) : (
          <div className="row">
            {me?.user.totpEnabled && (
              <input
                type="password"
                aria-label={t('renew2faPassword')}
                placeholder={t('renew2faPassword')}
                autoComplete="current-password"
                value={renewPw}
                onChange={(e) => setRenewPw(e.target.value)}
              />
            )}
            <button
              type="button"
              className="btn"
              disabled={me?.user.totpEnabled && !renewPw}
              onClick={() => setEnrolling(true)}
            >
              {me?.user.totpEnabled ? t('renew2fa') : t('setUp2fa')}
            </button>
            {me?.user.totpEnabled && !me.secondFactorRequired && (
              <form
                className="row"
                onSubmit={(e) => {
                  e.preventDefault();
                  void post('/me/totp/disable', { password: disablePw })
                    .then(() => (setDisablePw(''), setTfaMsg(null), load()))
                    .catch((err: unknown) => setTfaMsg(errorText(err, t)));
                }}
              >
                <label htmlFor="tfa-pw" className="sr-only">
                  {t('password')}
                </label>
                <input
                  id="tfa-pw"
                  type="password"
                  placeholder={t('password')}
                  required
                  value={disablePw}
                  onChange={(e) => setDisablePw(e.target.value)}
                />
                <button type="submit" className="btn btn-danger-outline">
                  {t('turnOff2fa')}
                </button>
              </form>
            )}
          </div>
        )}
        <ErrorText error={tfaMsg} />
      </section>

      <section className="card" aria-labelledby="sess-title">
        <h2 id="sess-title">{t('sessions')}</h2>
        <p className="muted">{t('logoutEverywhereHint')}</p>
        <button
          type="button"
          className="btn btn-danger-outline"
          onClick={() => void post('/auth/logout-everywhere').finally(props.onLoggedOut)}
        >
          {t('logoutEverywhere')}
        </button>
      </section>
    </div>
  );
}
