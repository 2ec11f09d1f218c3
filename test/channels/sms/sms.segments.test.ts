import { describe, expect, it } from 'vitest';
import { countSmsSegments, isGsm7 } from '../../../src/channels/sms/sms.segments.ts';

describe('SMS segment counting', () => {
  it('counts an empty text as no SMS', () => {
    expect(countSmsSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0, perSegment: 160, remaining: 160 });
  });

  it('fits 160 GSM-7 characters in one SMS, 161 need two parts of 153', () => {
    expect(countSmsSegments('a'.repeat(160))).toEqual({
      encoding: 'GSM-7',
      units: 160,
      segments: 1,
      perSegment: 160,
      remaining: 0,
    });
    expect(countSmsSegments('a'.repeat(161))).toEqual({
      encoding: 'GSM-7',
      units: 161,
      segments: 2,
      perSegment: 153,
      remaining: 145,
    });
    expect(countSmsSegments('a'.repeat(306)).segments).toBe(2);
    expect(countSmsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('keeps German umlauts and ß in GSM-7 (they are in the default alphabet)', () => {
    const text = 'Grüße aus Köln: Ihr Wagen ist fertig. Abholung ab 16 Uhr möglich.';
    expect(isGsm7(text)).toBe(true);
    expect(countSmsSegments(text)).toMatchObject({ encoding: 'GSM-7', units: text.length, segments: 1 });
  });

  it('counts extension characters (€ [ ] { } ~ ^ | \\) as two septets', () => {
    expect(countSmsSegments('Preis: 50 €')).toMatchObject({ encoding: 'GSM-7', units: 12, segments: 1 });
    expect(countSmsSegments('€'.repeat(80))).toMatchObject({ units: 160, segments: 1, remaining: 0 });
    expect(countSmsSegments('€'.repeat(81))).toMatchObject({ units: 162, segments: 2 });
  });

  it('never splits an escape sequence across two parts', () => {
    // 152 plain characters then a euro sign: 154 septets in the first 153-septet part would split the escape.
    const text = `${'a'.repeat(152)}€${'a'.repeat(10)}`;
    const count = countSmsSegments(text);
    expect(count.units).toBe(164);
    expect(count.segments).toBe(2);
    // Second part holds the euro (2) and ten letters: 12 of 153 used.
    expect(count.remaining).toBe(153 - 12);
  });

  it('switches the whole message to UCS-2 for one character outside GSM-7: 70 / 67', () => {
    expect(countSmsSegments('Termin bestätigt ✅')).toMatchObject({ encoding: 'UCS-2', segments: 1, perSegment: 70 });
    expect(countSmsSegments('ç'.repeat(70))).toMatchObject({ encoding: 'UCS-2', units: 70, segments: 1, remaining: 0 });
    expect(countSmsSegments('ç'.repeat(71))).toMatchObject({
      encoding: 'UCS-2',
      units: 71,
      segments: 2,
      perSegment: 67,
    });
    expect(countSmsSegments('ç'.repeat(134)).segments).toBe(2);
    expect(countSmsSegments('ç'.repeat(135)).segments).toBe(3);
  });

  it('counts an emoji as two UTF-16 units and never splits it', () => {
    expect(countSmsSegments('🚗')).toMatchObject({ encoding: 'UCS-2', units: 2, segments: 1, remaining: 68 });
    // 66 units then an emoji: the pair does not fit the first 67-unit part whole, so it opens the second.
    const count = countSmsSegments(`${'ç'.repeat(66)}🚗${'ç'.repeat(5)}`);
    expect(count).toMatchObject({ units: 73, segments: 2, remaining: 67 - 7 });
  });
});
