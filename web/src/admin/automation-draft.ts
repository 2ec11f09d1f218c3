import type { AutomationForm, Weekday } from '../api.ts';
import type { MessageKey } from '../i18n/i18n.tsx';

export const WEEKDAYS: [Weekday, MessageKey][] = [
  ['mon', 'dayMon'],
  ['tue', 'dayTue'],
  ['wed', 'dayWed'],
  ['thu', 'dayThu'],
  ['fri', 'dayFri'],
  ['sat', 'daySat'],
  ['sun', 'daySun'],
];

/** The automation form as typed: hours as "08:00-12:00, 13:00-18:00" per day, holidays one per line. */
export interface AutomationDraft {
  greeting: AutomationForm['greeting'];
  away: Omit<AutomationForm['away'], 'hours' | 'holidays'> & { hours: Record<Weekday, string>; holidays: string };
}

export function automationDraft(form: AutomationForm): AutomationDraft {
  const hours = Object.fromEntries(WEEKDAYS.map(([d]) => [d, (form.away.hours[d] ?? []).join(', ')]));
  return {
    greeting: form.greeting,
    away: { ...form.away, hours: hours as Record<Weekday, string>, holidays: form.away.holidays.join('\n') },
  };
}

/** What the server checks: it answers a malformed interval, date or zone with an error naming the field. */
export function automationFromDraft(draft: AutomationDraft): AutomationForm {
  const split = (text: string, by: RegExp) =>
    text
      .split(by)
      .map((v) => v.trim())
      .filter((v) => v !== '');
  const hours = Object.fromEntries(WEEKDAYS.map(([d]) => [d, split(draft.away.hours[d], /[,;]/)]));
  return {
    greeting: draft.greeting,
    away: {
      ...draft.away,
      hours: hours as Record<Weekday, string[]>,
      holidays: split(draft.away.holidays, /[\s,;]+/),
    },
  };
}
