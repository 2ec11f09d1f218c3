import { describe, expect, it } from 'vitest';
import {
  isBusinessHours,
  isValidTimeZone,
  localTime,
  parseInterval,
  type BusinessHours,
} from '../../src/core/inbox/automation-hours.ts';

const berlin: BusinessHours = {
  timeZone: 'Europe/Berlin',
  weekly: { mon: ['08:00-12:00', '13:00-18:00'], tue: ['08:00-18:00'], sat: ['09:00-13:00'] },
  holidays: ['2026-12-24'],
};

describe('business hours', () => {
  it('opens and closes on the local clock of the inbox, not UTC', () => {
    // Monday 23 Nov 2026 (CET, UTC+1): 07:30 UTC is 08:30 in Berlin.
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 7, 30), berlin)).toBe(true);
    // 06:59 UTC is 07:59 local: closed.
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 6, 59), berlin)).toBe(false);
    // Lunch break 12:00-13:00 local.
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 11, 15), berlin)).toBe(false);
    // 18:00 local is the exclusive end.
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 16, 59), berlin)).toBe(true);
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 17, 0), berlin)).toBe(false);
    // Sunday: no hours.
    expect(isBusinessHours(Date.UTC(2026, 10, 22, 10, 0), berlin)).toBe(false);
  });

  it('follows daylight saving time (CEST is UTC+2)', () => {
    // Monday 6 July 2026: 06:30 UTC is 08:30 CEST (open); in winter the same UTC time would be 07:30 (closed).
    expect(isBusinessHours(Date.UTC(2026, 6, 6, 6, 30), berlin)).toBe(true);
    expect(isBusinessHours(Date.UTC(2026, 10, 23, 6, 30), berlin)).toBe(false);
    // Switch day Sunday 29 March 2026 02:00 -> 03:00: 01:30 UTC is 03:30 local.
    expect(localTime(Date.UTC(2026, 2, 29, 1, 30), 'Europe/Berlin')).toEqual({
      date: '2026-03-29',
      weekday: 'sun',
      minutes: 3 * 60 + 30,
    });
  });

  it('uses the local date for weekday and holidays near midnight', () => {
    // Thursday 24 Dec 2026 is a holiday; Wednesday 23:30 UTC is already Thursday 00:30 in Berlin.
    expect(localTime(Date.UTC(2026, 11, 23, 23, 30), 'Europe/Berlin').date).toBe('2026-12-24');
    const thursday: BusinessHours = { ...berlin, weekly: { thu: ['00:00-24:00'] } };
    expect(isBusinessHours(Date.UTC(2026, 11, 23, 23, 30), thursday)).toBe(false);
    expect(isBusinessHours(Date.UTC(2026, 11, 30, 23, 30), thursday)).toBe(true);
    // Another zone: 23:30 UTC Monday is Tuesday morning in Tokyo.
    expect(localTime(Date.UTC(2026, 10, 23, 23, 30), 'Asia/Tokyo').weekday).toBe('tue');
  });

  it('refuses malformed intervals and unknown zones', () => {
    expect(parseInterval('08:00-18:00')).toEqual([480, 1080]);
    expect(parseInterval('18:00-08:00')).toBeUndefined();
    expect(parseInterval('8-18')).toBeUndefined();
    expect(parseInterval('00:00-24:00')).toEqual([0, 1440]);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
