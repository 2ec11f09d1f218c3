import { AppError } from '../../shared/app-error.ts';
import { isValidTimeZone, parseInterval, WEEKDAYS, type Weekday } from './automation-hours.ts';
import type { AutomationSettings, AutomationText } from './automation.ts';

/**
 * The automated messages of an inbox as the admin screen edits them: each message can be switched off without
 * losing its texts and hours. {@link automationFromForm} turns it into the {@link AutomationSettings} the inbox
 * runs on (a switched-off message is absent there).
 */
export interface AutomationForm {
  greeting: { enabled: boolean; text: { de: string; en: string } };
  away: {
    enabled: boolean;
    text: { de: string; en: string };
    /** IANA time zone, e.g. "Europe/Berlin". */
    timeZone: string;
    /** Opening intervals per weekday ("HH:MM-HH:MM"); an empty list = closed that day. */
    hours: Record<Weekday, string[]>;
    /** Local dates "YYYY-MM-DD", closed all day. */
    holidays: string[];
    cooldownHours: number;
  };
}

/** A change of the form: every part optional; given weekdays replace that day's hours. */
export interface AutomationFormInput {
  greeting?: { enabled?: boolean; text?: { de?: string; en?: string } };
  away?: {
    enabled?: boolean;
    text?: { de?: string; en?: string };
    timeZone?: string;
    hours?: Partial<Record<Weekday, string[]>>;
    holidays?: string[];
    cooldownHours?: number;
  };
}

export const MAX_AUTOMATION_TEXT = 2000;
const MAX_INTERVALS_PER_DAY = 6;
const MAX_HOLIDAYS = 400;
const MAX_COOLDOWN_HOURS = 24 * 30;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An IANA zone name ("Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"); offsets like "+01:00" are not. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

function textsOf(text: AutomationText | undefined, language: 'de' | 'en'): { de: string; en: string } {
  if (text === undefined) return { de: '', en: '' };
  if (typeof text === 'string') return language === 'en' ? { de: '', en: text } : { de: text, en: '' };
  return { de: text.de ?? '', en: text.en ?? '' };
}

/** The form for settings as configured (a single text belongs to the inbox's language); off parts get examples. */
export function automationFormOf(settings: AutomationSettings | undefined, language: 'de' | 'en'): AutomationForm {
  const away = settings?.away;
  const hours = Object.fromEntries(WEEKDAYS.map((d) => [d, [...(away?.hours[d] ?? [])]])) as Record<Weekday, string[]>;
  if (!away) for (const d of ['mon', 'tue', 'wed', 'thu', 'fri'] as const) hours[d] = ['09:00-17:00'];
  return {
    greeting: { enabled: settings?.greeting !== undefined, text: textsOf(settings?.greeting, language) },
    away: {
      enabled: away !== undefined,
      text: textsOf(away?.text, language),
      timeZone: away?.timeZone ?? 'Europe/Berlin',
      hours,
      holidays: [...(away?.holidays ?? [])],
      cooldownHours: away?.cooldownHours ?? 12,
    },
  };
}

/** What the inbox runs on: the texts given (empty ones left out) of the messages switched on. */
export function automationFromForm(form: AutomationForm): AutomationSettings {
  const texts = (t: { de: string; en: string }) => ({
    ...(t.de.trim() ? { de: t.de } : {}),
    ...(t.en.trim() ? { en: t.en } : {}),
  });
  const out: AutomationSettings = {};
  if (form.greeting.enabled) out.greeting = texts(form.greeting.text);
  if (form.away.enabled) {
    out.away = {
      text: texts(form.away.text),
      cooldownHours: form.away.cooldownHours,
      timeZone: form.away.timeZone,
      hours: Object.fromEntries(
        WEEKDAYS.filter((d) => form.away.hours[d].length > 0).map((d) => [d, form.away.hours[d]]),
      ),
      holidays: form.away.holidays,
    };
  }
  return out;
}

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION', message, { field: `automation.${field}` });
}

function checkTexts(field: string, enabled: boolean, text: { de: string; en: string }): void {
  for (const lang of ['de', 'en'] as const) {
    if (text[lang].length > MAX_AUTOMATION_TEXT) {
      throw invalid(`${field}.text.${lang}`, `the ${field} text has at most ${MAX_AUTOMATION_TEXT} characters`);
    }
  }
  if (enabled && !text.de.trim() && !text.en.trim()) {
    throw invalid(`${field}.text`, `the ${field} message is switched on: give its text in German or English`);
  }
}

/**
 * Applies a change to the current form and checks the result; throws a VALIDATION AppError naming the field, so
 * that nothing is stored. The time zone is stored by its canonical name ("europe/berlin" → "Europe/Berlin").
 */
export function changedAutomationForm(current: AutomationForm, input: AutomationFormInput): AutomationForm {
  const g = input.greeting ?? {};
  const a = input.away ?? {};
  const next: AutomationForm = {
    greeting: {
      enabled: g.enabled ?? current.greeting.enabled,
      text: { ...current.greeting.text, ...g.text },
    },
    away: {
      enabled: a.enabled ?? current.away.enabled,
      text: { ...current.away.text, ...a.text },
      timeZone: (a.timeZone ?? current.away.timeZone).trim(),
      hours: { ...current.away.hours, ...a.hours },
      holidays: a.holidays ?? current.away.holidays,
      cooldownHours: a.cooldownHours ?? current.away.cooldownHours,
    },
  };
  checkTexts('greeting', next.greeting.enabled, next.greeting.text);
  checkTexts('away', next.away.enabled, next.away.text);

  const zone = next.away.timeZone;
  if (!ZONE_NAME.test(zone) || !isValidTimeZone(zone)) {
    throw invalid(
      'away.timeZone',
      `"${zone.slice(0, 60)}" is not an IANA time zone: use a name such as Europe/Berlin or Europe/Vienna`,
    );
  }
  next.away.timeZone = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;

  for (const day of Object.keys(next.away.hours)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      throw invalid(`away.hours.${day}`, `unknown weekday "${day}": use ${WEEKDAYS.join(', ')}`);
    }
  }
  for (const day of WEEKDAYS) {
    const intervals = next.away.hours[day].map((v) => v.trim()).filter((v) => v !== '');
    if (intervals.length > MAX_INTERVALS_PER_DAY) {
      throw invalid(`away.hours.${day}`, `at most ${MAX_INTERVALS_PER_DAY} opening intervals a day`);
    }
    for (const v of intervals) {
      if (!parseInterval(v)) {
        throw invalid(
          `away.hours.${day}`,
          `"${v.slice(0, 20)}" is not an opening interval: use HH:MM-HH:MM with the end after the start, e.g. 08:00-17:30`,
        );
      }
    }
    next.away.hours[day] = intervals;
  }

  const holidays = [...new Set(next.away.holidays.map((d) => d.trim()))].sort();
  if (holidays.length > MAX_HOLIDAYS) throw invalid('away.holidays', `at most ${MAX_HOLIDAYS} holidays`);
  for (const d of holidays) {
    const m = DATE.exec(d);
    const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    if (!m || !date || date.toISOString().slice(0, 10) !== d) {
      throw invalid('away.holidays', `"${d.slice(0, 20)}" is not a date: use YYYY-MM-DD, e.g. 2026-12-24`);
    }
  }
  next.away.holidays = holidays;

  const cooldown = next.away.cooldownHours;
  if (typeof cooldown !== 'number' || !Number.isFinite(cooldown) || cooldown <= 0 || cooldown > MAX_COOLDOWN_HOURS) {
    throw invalid('away.cooldownHours', `the cooldown must be more than 0 and at most ${MAX_COOLDOWN_HOURS} hours`);
  }
  return next;
}
