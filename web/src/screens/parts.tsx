import { useState } from 'react';
import type { Lang } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { linkHandler } from '../router.ts';

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang-switch">
      <span className="sr-only">{t('language')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} aria-label={t('language')}>
        <option value="de">Deutsch</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

export function CopyButton({ value }: { value: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? t('copied') : t('copy')}
    </button>
  );
}

export function Notice({ kind, children }: { kind: 'ok' | 'error' | 'info'; children: React.ReactNode }) {
  return (
    <p className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/** The second row of tabs of a screen with sections (admin, data protection): links to `${base}/${key}`. */
export function SubNav({
  base,
  current,
  label,
  items,
}: {
  base: string;
  current: string;
  label: string;
  items: readonly { key: string; label: string }[];
}) {
  return (
    <nav className="subnav" aria-label={label}>
      {items.map(({ key, label: text }) => (
        <a
          key={key}
          href={`${base}/${key}`}
          onClick={linkHandler(`${base}/${key}`)}
          aria-current={current === key ? 'page' : undefined}
        >
          {text}
        </a>
      ))}
    </nav>
  );
}
