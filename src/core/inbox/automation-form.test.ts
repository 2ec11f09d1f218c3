import { describe, expect, it } from 'vitest';
import { automationFormOf, automationFromForm, changedAutomationForm } from './automation-form.ts';
import { automationTextFor } from './automation.ts';

describe('automated message texts and the settings form', () => {
  it("sends the inbox's language, else the other, and nothing for empty texts", () => {
    expect(automationTextFor({ de: 'Willkommen!', en: 'Welcome!' }, 'en')).toBe('Welcome!');
    expect(automationTextFor({ de: 'Willkommen!' }, 'en')).toBe('Willkommen!');
    expect(automationTextFor({ de: ' ', en: '' }, 'de')).toBeUndefined();
    expect(automationTextFor('Hallo', 'en')).toBe('Hallo');
  });

  it("shows a single configured text as the inbox language's text, and a switched-off message drops out", () => {
    const form = automationFormOf({ greeting: 'Welcome!' }, 'en');
    expect(form.greeting).toEqual({ enabled: true, text: { de: '', en: 'Welcome!' } });
    expect(form.away.enabled).toBe(false);
    const off = changedAutomationForm(form, { greeting: { enabled: false } });
    expect(automationFromForm(off)).toEqual({});
    expect(off.greeting.text.en).toBe('Welcome!');
  });

  it('keeps only the given hours, sorted unique holidays and the canonical zone', () => {
    const form = changedAutomationForm(automationFormOf(undefined, 'de'), {
      away: {
        enabled: true,
        text: { de: 'Gleich zurück.' },
        timeZone: 'europe/berlin',
        hours: { sat: [' 10:00-12:00 ', ''], mon: [] },
        holidays: ['2026-12-31', '2026-12-24', '2026-12-24'],
      },
    });
    const away = automationFromForm(form).away!;
    expect(away.timeZone).toBe('Europe/Berlin');
    expect(away.hours).toEqual({
      tue: ['09:00-17:00'],
      wed: ['09:00-17:00'],
      thu: ['09:00-17:00'],
      fri: ['09:00-17:00'],
      sat: ['10:00-12:00'],
    });
    expect(away.holidays).toEqual(['2026-12-24', '2026-12-31']);
  });
});
