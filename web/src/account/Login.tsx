import { useEffect, useRef, useState, type FormEvent } from 'react';
import { post, type SessionInfo } from '../api.ts';
import { errorText, type ErrorContext } from '../shared/error-text.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { AuthCard, ErrorText } from './AuthCard.tsx';
import { Enrolment, type Runner } from './Enrolment.tsx';

/** Login: password, then the TOTP code (or a recovery code), or the enrolment a required second factor needs. */
export function Login(props: { step: 'password' | 'totp' | 'enrol'; onSession(info: SessionInfo): void }) {
  const { t } = useI18n();
  const [step, setStep] = useState(props.step);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [pendingSession, setPendingSession] = useState<SessionInfo | null>(null);

  useEffect(() => setStep(props.step), [props.step]);

  async function run(fn: () => Promise<void>, context?: ErrorContext) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e, t, context));
    } finally {
      setBusy(false);
    }
  }

  if (recoveryCodes && pendingSession) {
    return (
      <AuthCard title={t('recoveryTitle')}>
        <p>{t('recoveryIntro')}</p>
        <ul className="codes" aria-label={t('recoveryTitle')}>
          {recoveryCodes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="btn btn-primary btn-block"
          onClick={() => props.onSession(pendingSession)}
          autoFocus
        >
          {t('recoveryDone')}
        </button>
      </AuthCard>
    );
  }

  if (step === 'enrol') {
    return (
      <Enrolment
        busy={busy}
        error={error}
        run={run}
        onDone={(info, codes) => {
          setPendingSession(info);
          setRecoveryCodes(codes);
        }}
      />
    );
  }
  if (step === 'totp') return <SecondFactor busy={busy} error={error} run={run} onSession={props.onSession} />;
  return (
    <PasswordStep
      busy={busy}
      error={error}
      run={run}
      onSession={(info) => (info.step === 'done' ? props.onSession(info) : setStep(info.step))}
    />
  );
}

function PasswordStep(props: { busy: boolean; error: string | null; run: Runner; onSession(info: SessionInfo): void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void props.run(async () => props.onSession(await post<SessionInfo>('/auth/login', { email, password })), 'login');
  };
  return (
    <AuthCard title={t('loginTitle')}>
      <p className="muted">{t('loginIntro')}</p>
      <form onSubmit={submit} className="form">
        <label htmlFor="login-email">{t('email')}</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoFocus
        />
        <label htmlFor="login-password">{t('password')}</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorText error={props.error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={props.busy}>
          {t('login')}
        </button>
      </form>
    </AuthCard>
  );
}

function SecondFactor(props: { busy: boolean; error: string | null; run: Runner; onSession(info: SessionInfo): void }) {
  const { t } = useI18n();
  const [recovery, setRecovery] = useState(false);
  const [code, setCode] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), [recovery]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void props.run(
      async () => props.onSession(await post<SessionInfo>(recovery ? '/auth/recovery' : '/auth/totp', { code })),
      recovery ? 'recovery' : 'totp',
    );
  };
  return (
    <AuthCard title={t('totpTitle')}>
      <p className="muted">{recovery ? t('recoveryCode') : t('totpIntro')}</p>
      <form onSubmit={submit} className="form">
        <label htmlFor="totp-code">{recovery ? t('recoveryCode') : t('totpCode')}</label>
        <input
          ref={input}
          id="totp-code"
          className="code-input"
          inputMode={recovery ? 'text' : 'numeric'}
          autoComplete="one-time-code"
          pattern={recovery ? undefined : '[0-9 ]{6,7}'}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
        <ErrorText error={props.error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={props.busy}>
          {t('confirm')}
        </button>
        <button type="button" className="btn btn-link" onClick={() => (setRecovery(!recovery), setCode(''))}>
          {recovery ? t('useTotp') : t('useRecovery')}
        </button>
      </form>
    </AuthCard>
  );
}
