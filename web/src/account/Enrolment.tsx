import type { ErrorContext } from '../shared/error-text.ts';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { post, type SessionInfo } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';
import { AuthCard, ErrorText } from './AuthCard.tsx';

/** Runs a login step's request, showing busy state and the error. */
export type Runner = (fn: () => Promise<void>, context?: ErrorContext) => Promise<void>;

interface EnrolStart {
  secret: string;
  uri: string;
  qrDataUrl: string;
}

/** TOTP enrolment with a QR code; used at login (required 2FA) and from the account page. */
export function Enrolment(props: {
  busy: boolean;
  error: string | null;
  run: Runner;
  onDone(info: SessionInfo, codes: string[]): void;
  embedded?: boolean;
  /** The account password, needed to replace a working second factor. */
  password?: string;
}) {
  const { t } = useI18n();
  const [start, setStart] = useState<EnrolStart | null>(null);
  const [code, setCode] = useState('');
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void props.run(async () =>
      setStart(await post<EnrolStart>('/auth/enrol/start', props.password ? { password: props.password } : {})),
    );
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void props.run(async () => {
      const res = await post<SessionInfo & { recoveryCodes: string[] }>('/auth/enrol/confirm', { code });
      props.onDone(res, res.recoveryCodes);
    });
  };
  const body = (
    <>
      <p>{t('enrolIntro')}</p>
      {start ? (
        <div className="enrol">
          <img src={start.qrDataUrl} width={220} height={220} alt="QR code (otpauth)" className="qr" />
          <p className="muted small">
            {t('enrolManual')} <code className="secret">{start.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
          </p>
        </div>
      ) : (
        <p className="muted">{t('loading')}</p>
      )}
      <form onSubmit={submit} className="form">
        <label htmlFor="enrol-code">{t('totpCode')}</label>
        <input
          id="enrol-code"
          className="code-input"
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
        <ErrorText error={props.error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={props.busy || !start}>
          {t('confirm')}
        </button>
      </form>
    </>
  );
  return props.embedded ? body : <AuthCard title={t('enrolTitle')}>{body}</AuthCard>;
}
