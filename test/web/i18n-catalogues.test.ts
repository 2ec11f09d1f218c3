import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { de } from '../../web/src/i18n/messages.de.ts';
import { en } from '../../web/src/i18n/messages.en.ts';

/**
 * The web inbox's German and English catalogues: every text exists in both languages with the same placeholders,
 * every message is valid ICU, and counts follow each language's plural rules and number format.
 */
const catalogues: Record<string, Record<string, string>> = { de, en };

/** The names of the values a message reads, nested plural branches included. */
function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
    if ('value' in el && typeof el.value === 'string') into.add(el.value);
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      for (const option of Object.values(el.options)) argumentsOf(option.value, into);
    }
    if (el.type === TYPE.tag) argumentsOf(el.children, into);
  }
  return into;
}

type Format = (key: keyof typeof de, values: Record<string, number>) => string;
/** Formats as the web inbox does (react-intl formats with intl-messageformat in the locales of i18n.tsx). */
const formatter =
  (locale: string, messages: Record<string, string>): Format =>
  (key, values) =>
    String(new IntlMessageFormat(messages[key]!, locale).format(values));
const german = formatter('de-DE', de);
const english = formatter('en-GB', en);

describe('web inbox catalogues', () => {
  it('have the same keys in German and English', () => {
    const missingInEnglish = Object.keys(de).filter((key) => !(key in en));
    const missingInGerman = Object.keys(en).filter((key) => !(key in de));
    expect({ missingInEnglish, missingInGerman }).toEqual({ missingInEnglish: [], missingInGerman: [] });
  });

  it('hold valid ICU messages with the same placeholders in both languages', () => {
    for (const key of Object.keys(de)) {
      const names = Object.fromEntries(
        Object.entries(catalogues).map(([lang, messages]) => {
          const text = messages[key];
          expect(text, `${lang}: ${key}`).toBeTypeOf('string');
          return [lang, [...argumentsOf(parse(text!))].sort()];
        }),
      );
      expect(names.en, `placeholders of ${key}`).toEqual(names.de);
    }
  });

  it('say "1 Eintrag" and "2 Einträge", "1 entry" and "2 entries"', () => {
    const verified = (format: Format, n: number) => format('compliance.verifyOk', { n });
    expect(verified(german, 1)).toBe('Prüfprotokoll unversehrt: 1 Eintrag geprüft.');
    expect(verified(german, 2)).toBe('Prüfprotokoll unversehrt: 2 Einträge geprüft.');
    expect(verified(german, 1234)).toBe('Prüfprotokoll unversehrt: 1.234 Einträge geprüft.');
    expect(verified(english, 1)).toBe('Audit log intact: 1 entry checked.');
    expect(verified(english, 1234)).toBe('Audit log intact: 1,234 entries checked.');
    expect(german('eraseInDays', { n: 1 })).toBe('Wird in 1 Tag gelöscht.');
    expect(german('eraseInDays', { n: 30 })).toBe('Wird in 30 Tagen gelöscht.');
    expect(english('eraseInDays', { n: 1 })).toBe('Will be erased in 1 day.');
  });

  it('format numbers for the language: "6,5 Min." and "6.5 min"', () => {
    expect(german('compliance.statsMinutes', { m: 6.5 })).toBe('6,5 Min.');
    expect(english('compliance.statsMinutes', { m: 6.5 })).toBe('6.5 min');
  });
});
