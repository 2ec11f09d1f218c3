/**
 * Case- and accent-insensitive substring matching for the message search: both sides are folded (NFD, combining
 * marks dropped, lower case, ß → ss), so "strasse" finds "Straße" and "geraeusch" does not but "gerausch" finds
 * "Geräusch". Everything happens in memory; nothing folded is ever stored.
 */

const MARKS = /\p{M}/gu;

/** The folded form of a text, for comparison only. */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(MARKS, '').toLowerCase().replace(/ß/g, 'ss');
}

/**
 * A short excerpt of `text` around the first occurrence of the folded `needle` (already folded), with an ellipsis
 * where text was cut; undefined when the text does not contain it.
 */
export function matchSnippet(text: string, needle: string, radius = 40): string | undefined {
  const folded = foldText(text);
  const at = folded.indexOf(needle);
  if (at < 0) return undefined;
  // Map the folded position back to the original text, folding character by character (only for hits).
  let folds = 0;
  let start = -1;
  let end = text.length;
  for (let i = 0; i < text.length;) {
    const char = String.fromCodePoint(text.codePointAt(i)!);
    folds += foldText(char).length;
    i += char.length;
    if (start < 0 && folds > at) start = i - char.length;
    if (folds >= at + needle.length) {
      end = i;
      break;
    }
  }
  if (start < 0) start = 0;
  const from = Math.max(0, start - radius);
  const to = Math.min(text.length, end + radius);
  const body = text.slice(from, to).replace(/\s+/g, ' ').trim();
  return `${from > 0 ? '…' : ''}${body}${to < text.length ? '…' : ''}`;
}
