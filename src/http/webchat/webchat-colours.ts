/** Relative luminance of a `#rrggbb` colour (WCAG 2.1, https://www.w3.org/TR/WCAG21/#dfn-relative-luminance). */
export function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

/** Contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The text colour for the admin's chosen colour: white or near-black, whichever contrasts more. One of the two always
 * reaches 4.5:1 (WCAG 2.1 AA for normal text), whatever colour the admin picks.
 */
export function onPrimary(primary: string): string {
  return contrast(primary, '#ffffff') >= contrast(primary, '#111111') ? '#ffffff' : '#111111';
}
