/**
 * SMS segment counting for the composer ("2 SMS, 14 characters left"), as carriers split messages (3GPP TS 23.038 /
 * 23.040): a text that fits the GSM 7-bit default alphabet is sent in GSM-7, 160 septets in one SMS or 153 per part of
 * a concatenated SMS (the user data header takes 7); characters of the GSM-7 extension table (`^ { } \ [ ~ ] | €` and
 * form feed) take two septets (escape + character) and are never split across two parts. Any other character makes
 * the whole message UCS-2: 70 UTF-16 code units in one SMS, 67 per part, and a surrogate pair (emoji) is never split.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  units: number;
  /** Number of SMS the carrier bills: 0 for an empty text. */
  segments: number;
  /** Capacity of one part: 160/153 (GSM-7) or 70/67 (UCS-2), depending on whether the text is split. */
  perSegment: number;
  /** Units still free in the last part before one more SMS is needed. */
  remaining: number;
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENDED = new Set(GSM7_EXTENDED);

/** True when every character of `text` is in the GSM-7 default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return false;
  return true;
}

/** Counts the segments `text` takes as an SMS. Pure; the composer calls it on every keystroke. */
export function countSmsSegments(text: string): SmsSegmentCount {
  if (isGsm7(text)) {
    const costs = [...text].map((ch) => (EXTENDED.has(ch) ? 2 : 1));
    return split('GSM-7', costs, 160, 153);
  }
  // UCS-2 as carriers send it today is UTF-16: a character outside the BMP takes two code units, kept together.
  const costs = [...text].map((ch) => ch.length);
  return split('UCS-2', costs, 70, 67);
}

function split(encoding: SmsEncoding, costs: number[], single: number, multi: number): SmsSegmentCount {
  const units = costs.reduce((a, b) => a + b, 0);
  if (units === 0) return { encoding, units, segments: 0, perSegment: single, remaining: single };
  if (units <= single) return { encoding, units, segments: 1, perSegment: single, remaining: single - units };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments, perSegment: multi, remaining: multi - used };
}
