import { describe, expect, it } from 'vitest';
import { inQuietHours } from '../../src/core/notifications/notification.service.ts';

const quiet = (start: string, end: string, timeZone = 'Europe/Berlin') => ({ enabled: true, start, end, timeZone });

describe('quiet hours', () => {
  it('run past midnight in the member’s time zone', () => {
    // 21:30 UTC on 6 December is 22:30 in Berlin (UTC+1): inside 22:00–07:00.
    expect(inQuietHours(quiet('22:00', '07:00'), new Date(Date.UTC(2026, 11, 6, 21, 30)))).toBe(true);
    // 05:59 UTC is 06:59 in Berlin: still inside; 06:00 UTC is 07:00: over.
    expect(inQuietHours(quiet('22:00', '07:00'), new Date(Date.UTC(2026, 11, 7, 5, 59)))).toBe(true);
    expect(inQuietHours(quiet('22:00', '07:00'), new Date(Date.UTC(2026, 11, 7, 6, 0)))).toBe(false);
    // The same instant is daytime in New York.
    expect(inQuietHours(quiet('22:00', '07:00', 'America/New_York'), new Date(Date.UTC(2026, 11, 6, 21, 30)))).toBe(
      false,
    );
  });

  it('follow summer time and stay off when disabled or empty', () => {
    // 20:30 UTC on 1 July is 22:30 in Berlin (UTC+2).
    expect(inQuietHours(quiet('22:00', '07:00'), new Date(Date.UTC(2026, 6, 1, 20, 30)))).toBe(true);
    expect(inQuietHours({ ...quiet('22:00', '07:00'), enabled: false }, new Date(Date.UTC(2026, 6, 1, 20, 30)))).toBe(
      false,
    );
    expect(inQuietHours(quiet('08:00', '08:00'), new Date(Date.UTC(2026, 6, 1, 6, 30)))).toBe(false);
  });
});
