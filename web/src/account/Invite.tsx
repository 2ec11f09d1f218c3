import { useEffect, useState, type FormEvent } from 'react';
import { post } from '../api.ts';
import { errorText } from '../shared/error-text.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { navigate } from '../router.ts';
import { AuthCard, ErrorText } from './AuthCard.tsx';

/** /invite#<token>: a new staff member sets the password with the one-time invitation. */
export function Invite() {
  const { t, setLang } = useI18n();
  const token = window.location.hash.slice(1);
  const [who, setWho] = useState<{ email: string; displayName: string } | null>(null);
  // A refused request is kept as it came and put into words at render time, in the language the page then has.
  const [error, setError] = useState<unknown>(null);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  useEffect(() => {
    // The token is read from the URL fragment (never sent to any server in the URL) and posted in the body.
    post<{ email: string; displayName: string; language: string }>('/auth/invitations/lookup', { token })
      .then((invitation) => {
        // The page speaks the language the admin chose for the new colleague.
        if (invitation.language === 'de' || invitation.language === 'en') setLang(invitation.language);
        setWho(invitation);
      })
      .catch((e: unknown) => setError(e));
  }, [token, setLang]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== repeat) return setError(t('passwordsDiffer'));
    try {
      await post('/auth/invitations/accept', { token, password });
      setDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <AuthCard title={t('inviteTitle')}>
      {done ? (
        <>
          <p>{t('inviteDone')}</p>
          <button type="button" className="btn btn-primary btn-block" onClick={() => navigate('/', true)}>
            {t('toLogin')}
          </button>
        </>
      ) : (
        <>
          {who && <p>{t('inviteIntro', { name: who.displayName, email: who.email })}</p>}
          <form onSubmit={submit} className="form">
            <label htmlFor="inv-pw">{t('newPassword')}</label>
            <input
              id="inv-pw"
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <label htmlFor="inv-pw2">{t('repeatPassword')}</label>
            <input
              id="inv-pw2"
              type="password"
              autoComplete="new-password"
              minLength={12}
              required
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
            <ErrorText error={error === null ? null : typeof error === 'string' ? error : errorText(error, t)} />
            <button type="submit" className="btn btn-primary btn-block" disabled={!who}>
              {t('setPassword')}
            </button>
          </form>
        </>
      )}
    </AuthCard>
  );
}
