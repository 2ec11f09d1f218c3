/** Most events in any one-second window (closed at the start, open at the end): what a provider's limit counts. */
export function maxInAnySecond(times: readonly number[]): number {
  const at = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < at.length; i += 1) {
    while (at[j]! <= at[i]! - 1000) j += 1;
    max = Math.max(max, i - j + 1);
  }
  return max;
}
