import type { Lang } from '../api.ts';
import { useI18n } from '../i18n/i18n.tsx';

/** The language picker of the login pages (signed-in staff choose theirs in their account). */
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
