import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { IntlProvider, useIntl, type IntlShape } from 'react-intl';
import type { Lang } from '../api.ts';
import { de, type MessageKey } from './messages.de.ts';
import { en } from './messages.en.ts';

export type { MessageKey } from './messages.de.ts';

/**
 * The web inbox's one i18n mechanism: FormatJS (react-intl) with the ICU catalogues of messages.de.ts and
 * messages.en.ts. The ICU plural rules and the `Intl` number and date formats come from the browser; the locales are
 * German (Germany) and British English, as the inbox has always formatted dates ("06.12." / "06/12").
 */
const LOCALES: Record<Lang, string> = { de: 'de-DE', en: 'en-GB' };
const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { de, en };

/** Values for a message's placeholders: text is inserted as it is, numbers are formatted by `{n, number}`/plural. */
export type MessageValues = Record<string, string | number>;
export type Translate = (key: MessageKey, values?: MessageValues) => string;

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  /** The message in the current language; stable while the language stays (safe in effect dependencies). */
  t: Translate;
  /** A number in the language's format: 1.234,5 / 1,234.5. */
  formatNumber(n: number): string;
  /** Today's time as "14:05", an earlier day as "05.12. 14:05" (en: "05/12 14:05"). */
  formatTime(iso: string, now?: number): string;
  /** "6. Dezember 2026" / "6 December 2026". */
  formatDate(iso: string): string;
  /** Date and time with seconds: "6.12.2026, 14:05:09" / "06/12/2026, 14:05:09". */
  formatDateTime(iso: string): string;
  /** The reply window's remaining time: "5 Min." / "5 min" under an hour, else whole hours "5 Std." / "5 h". */
  formatDuration(ms: number): string;
}

interface LanguageState {
  lang: Lang;
  setLang(lang: Lang): void;
}

const LanguageContext = createContext<LanguageState>({ lang: 'de', setLang: () => undefined });

/** Provides the language and the catalogue of `lang` to everything below it. */
export function I18nProvider({ lang, setLang, children }: LanguageState & { children: ReactNode }) {
  const state = useMemo(() => ({ lang, setLang }), [lang, setLang]);
  return (
    <LanguageContext.Provider value={state}>
      <IntlProvider locale={LOCALES[lang]} defaultLocale={LOCALES.de} messages={CATALOGUES[lang]}>
        {children}
      </IntlProvider>
    </LanguageContext.Provider>
  );
}

export function useI18n(): I18n {
  const intl = useIntl();
  const { lang, setLang } = useContext(LanguageContext);
  return useMemo(() => i18nOf(intl, lang, setLang), [intl, lang, setLang]);
}

function i18nOf(intl: IntlShape, lang: Lang, setLang: (lang: Lang) => void): I18n {
  const t: Translate = (key, values) => intl.formatMessage({ id: key }, values);
  const hm = { hour: '2-digit', minute: '2-digit' } as const;
  return {
    lang,
    setLang,
    t,
    formatNumber: (n) => intl.formatNumber(n),
    formatTime(iso, now = Date.now()) {
      const d = new Date(iso);
      const sameDay = new Date(now).toDateString() === d.toDateString();
      return sameDay
        ? intl.formatTime(d, hm)
        : `${intl.formatDate(d, { day: '2-digit', month: '2-digit' })} ${intl.formatTime(d, hm)}`;
    },
    formatDate: (iso) => intl.formatDate(new Date(iso), { day: 'numeric', month: 'long', year: 'numeric' }),
    formatDateTime: (iso) =>
      intl.formatDate(new Date(iso), {
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      }),
    formatDuration(ms) {
      const minutes = Math.max(0, Math.round(ms / 60_000));
      return minutes < 60 ? t('durationMinutes', { n: minutes }) : t('durationHours', { n: Math.floor(minutes / 60) });
    },
  };
}
