import type { ReactNode } from 'react';
import { LanguageSwitch } from '../shared/LanguageSwitch.tsx';

/** The frame of the pages before login (login, second factor, enrolment, invitation): brand, title, language. */
export function AuthCard(props: { title: string; children: ReactNode }) {
  return (
    <div className="auth-page">
      <main className="auth-card" id="main">
        <div className="auth-brand">
          <span className="brand-mark" aria-hidden="true" /> sparsam
        </div>
        <h1>{props.title}</h1>
        {props.children}
        <div className="auth-footer">
          <LanguageSwitch />
        </div>
      </main>
    </div>
  );
}

export function ErrorText({ error }: { error: string | null }) {
  return error ? (
    <p className="error" role="alert">
      {error}
    </p>
  ) : null;
}
