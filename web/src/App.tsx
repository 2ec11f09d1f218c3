import { HealthBanner } from './shared/HealthBanner.tsx';
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import {
  get,
  post,
  setCsrfToken,
  setUnauthenticatedHandler,
  type Lang,
  type SessionInfo,
  type SessionUser,
} from './api.ts';
import { Account } from './account/Account.tsx';
import { Invite } from './account/Invite.tsx';
import { Login } from './account/Login.tsx';
import { I18nProvider, useI18n } from './i18n/i18n.tsx';
import { Inbox } from './inbox/Inbox.tsx';
import { linkHandler, navigate, usePath } from './router.ts';
import { AttentionSignals } from './shared/attention.tsx';
import { LiveEventsProvider } from './shared/live.tsx';

// The areas only some roles open load on demand, so the inbox's bundle does not carry them.
const Admin = lazy(() => import('./admin/Admin.tsx').then((m) => ({ default: m.Admin })));
const Compliance = lazy(() => import('./compliance/Compliance.tsx').then((m) => ({ default: m.Compliance })));
const Marketing = lazy(() => import('./marketing/Marketing.tsx').then((m) => ({ default: m.Marketing })));

type AuthState =
  | { kind: 'loading' }
  | { kind: 'anonymous' }
  | { kind: 'step'; step: 'totp' | 'enrol' }
  | { kind: 'in'; user: SessionUser };

function initialLang(): Lang {
  const stored = window.localStorage.getItem('sparsam.lang');
  return stored === 'en' ? 'en' : 'de';
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [auth, setAuth] = useState<AuthState>({ kind: 'loading' });
  const path = usePath();

  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    window.localStorage.setItem('sparsam.lang', l);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const applySession = useCallback(
    (info: SessionInfo) => {
      setCsrfToken(info.csrfToken);
      if (info.user.language === 'de' || info.user.language === 'en') setLang(info.user.language);
      if (info.step === 'done') setAuth({ kind: 'in', user: info.user as SessionUser });
      else setAuth({ kind: 'step', step: info.step });
    },
    [setLang],
  );

  useEffect(() => {
    setUnauthenticatedHandler(() => setAuth({ kind: 'anonymous' }));
    get<SessionInfo>('/auth/session', { quiet401: true })
      .then(applySession)
      .catch(() => setAuth({ kind: 'anonymous' }));
  }, [applySession]);

  const logout = useCallback(async () => {
    await post('/auth/logout').catch(() => undefined);
    setCsrfToken(undefined);
    setAuth({ kind: 'anonymous' });
    navigate('/', true);
  }, []);

  let content: React.ReactNode;
  if (path.startsWith('/invite')) {
    content = <Invite />;
  } else if (auth.kind === 'loading') {
    content = <Loading className="centered muted" />;
  } else if (auth.kind !== 'in') {
    content = <Login step={auth.kind === 'step' ? auth.step : 'password'} onSession={applySession} />;
  } else {
    content = (
      // The live stream serves the inbox's roles only (the DPO has no inbox and would get 403 on every load).
      <LiveEventsProvider enabled={auth.user.role !== 'dpo'}>
        <Shell user={auth.user} path={path} onLogout={logout} onUser={(user) => setAuth({ kind: 'in', user })} />
      </LiveEventsProvider>
    );
  }
  return (
    <I18nProvider lang={lang} setLang={setLang}>
      {content}
    </I18nProvider>
  );
}

function Loading({ className }: { className: string }) {
  const { t } = useI18n();
  return <p className={className}>{t('loading')}</p>;
}

/** Tells the user, once after signing in, that an admin reset their password; shown until they dismiss it. */
function ResetNotice(props: { at: string; onUser(user: SessionUser): void }) {
  const { t, formatDateTime } = useI18n();
  return (
    <div className="reset-notice" role="alert">
      <span>{t('resetNotice.text', { at: formatDateTime(props.at) })}</span>
      <button
        type="button"
        className="btn btn-small"
        onClick={() =>
          void post<{ user: SessionUser }>('/me/reset-notice/seen').then(
            (r) => props.onUser(r.user),
            () => undefined,
          )
        }
      >
        {t('resetNotice.ok')}
      </button>
    </div>
  );
}

function Shell(props: { user: SessionUser; path: string; onLogout(): void; onUser(user: SessionUser): void }) {
  const { t } = useI18n();
  const { user, path } = props;
  const canInbox = user.role !== 'dpo';
  const canCompliance = user.role === 'dpo' || user.role === 'admin';
  const section = path.startsWith('/admin')
    ? 'admin'
    : path.startsWith('/account')
      ? 'account'
      : path.startsWith('/compliance')
        ? 'compliance'
        : path.startsWith('/marketing')
          ? 'marketing'
          : 'inbox';
  // Phone and tablet: the areas sit behind a menu button (the bar would be wider than the screen).
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (section === 'inbox' && !canInbox) navigate(canCompliance ? '/compliance/audit' : '/account', true);
  }, [section, canInbox, canCompliance]);
  const nav = [
    ...(canInbox ? [{ key: 'inbox', href: '/inbox', label: t('navInbox') }] : []),
    ...(user.role === 'admin' ? [{ key: 'admin', href: '/admin/users', label: t('navAdmin') }] : []),
    ...(canCompliance ? [{ key: 'compliance', href: '/compliance/audit', label: t('compliance.nav') }] : []),
    ...(user.role === 'admin' ? [{ key: 'marketing', href: '/marketing', label: t('marketing.nav') }] : []),
    { key: 'account', href: '/account', label: t('navAccount') },
  ];
  return (
    <div className="shell">
      {canInbox && <AttentionSignals />}
      <a className="skip-link" href="#main">
        {t('skipToContent')}
      </a>
      <header
        className={`topbar ${menuOpen ? 'menu-open' : ''}`}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && menuOpen) {
            setMenuOpen(false);
            menuButton.current?.focus();
          }
        }}
      >
        <span className="brand" aria-label="sparsam">
          <span className="brand-mark" aria-hidden="true" />
          sparsam
        </span>
        <button
          ref={menuButton}
          type="button"
          className="btn btn-ghost menu-btn"
          aria-expanded={menuOpen}
          aria-controls="topnav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <span aria-hidden="true">☰</span> {t('menu')}
        </button>
        <nav id="topnav" aria-label={t('mainNav')} className="topnav">
          {nav.map((n) => (
            <a
              key={n.key}
              href={n.href}
              onClick={linkHandler(n.href)}
              aria-current={section === n.key ? 'page' : undefined}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <span className="topbar-user">
          <span className="muted">{user.displayName}</span>
          <button type="button" className="btn btn-ghost" onClick={props.onLogout}>
            {t('logout')}
          </button>
        </span>
      </header>
      {user.passwordResetAt && <ResetNotice at={user.passwordResetAt} onUser={props.onUser} />}
      <main id="main" className="main" tabIndex={-1}>
        {user.role === 'admin' && <HealthBanner />}
        <Suspense fallback={<Loading className="muted pad" />}>
          {section === 'admin' && user.role === 'admin' ? (
            <Admin path={path} self={user} />
          ) : section === 'compliance' && canCompliance ? (
            <Compliance path={path} role={user.role} />
          ) : section === 'marketing' && user.role === 'admin' ? (
            <Marketing />
          ) : section === 'account' ? (
            <Account user={user} onUser={props.onUser} onLoggedOut={props.onLogout} />
          ) : canInbox ? (
            <Inbox user={user} path={path} />
          ) : null}
        </Suspense>
      </main>
    </div>
  );
}
