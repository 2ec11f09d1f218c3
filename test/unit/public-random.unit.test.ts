import { describe, expect, it } from 'vitest';
import { publicRandomBytes } from '../../src/shared/public-random.ts';

describe('publicRandomBytes', () => {
  it('hands out each byte once: values across pool refills are distinct and independent of each other', () => {
    const values = Array.from({ length: 2_000 }, () => publicRandomBytes(12)); // about six refills of the pool
    expect(new Set(values.map((v) => v.toString('hex'))).size).toBe(values.length);
    expect(values.every((v) => v.length === 12)).toBe(true);
    const before = values[1]!.toString('hex');
    values[0]!.fill(0);
    expect(values[1]!.toString('hex')).toBe(before);
  });
});
