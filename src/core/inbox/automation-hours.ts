/**
 * Business hours of an inbox: weekly opening hours in the inbox's time zone (IANA name, resolved with Intl, so
 * daylight saving time follows the zone's rules), and holiday dates on which the inbox is closed all day.
 * Pure functions: the away message asks {@link isBusinessHours} with the clock's time.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface BusinessHours {
  /** IANA time zone, e.g. "Europe/Berlin". */
  timeZone: string;
  /** Opening intervals per weekday as "HH:MM-HH:MM" (end exclusive; "24:00" allowed as end); absent day = closed. */
  weekly: Partial<Record<Weekday, readonly string[]>>;
  /** Local dates "YYYY-MM-DD" on which the inbox is closed all day. */
  holidays?: readonly string[];
}

export interface LocalTime {
  /** "YYYY-MM-DD" in the zone. */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

const INTERVAL = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone Intl knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Parses "HH:MM-HH:MM" into minutes [start, end); undefined when malformed or empty. */
export function parseInterval(text: string): [number, number] | undefined {
  const m = INTERVAL.exec(text.trim());
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (end > 24 * 60 || end <= start) return undefined;
  return [start, end];
}

/** The local date, weekday and time of day of an instant in a time zone. */
export function localTime(at: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) parts[p.type] = p.value;
  const weekday = (parts.weekday ?? 'Mon').toLowerCase().slice(0, 3) as Weekday;
  const hour = Number(parts.hour) % 24;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday,
    minutes: hour * 60 + Number(parts.minute),
  };
}

/** Whether the inbox is staffed at `at` (epoch ms) by its opening hours; holidays are closed all day. */
export function isBusinessHours(at: number, hours: BusinessHours): boolean {
  const local = localTime(at, hours.timeZone);
  if (hours.holidays?.includes(local.date)) return false;
  for (const text of hours.weekly[local.weekday] ?? []) {
    const interval = parseInterval(text);
    if (interval && local.minutes >= interval[0] && local.minutes < interval[1]) return true;
  }
  return false;
}
