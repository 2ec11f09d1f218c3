import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../../src/store/sql/turn-batch.ts';

describe('turn batch', () => {
  it('answers the calls of one turn with one statement, each with its own answer', async () => {
    const statements: string[][] = [];
    const batch = new TurnBatch(async (keys: readonly string[]) => {
      statements.push([...keys]);
      return keys.map((k) => k.toUpperCase());
    });
    const answers = await Promise.all(['a', 'b', 'c'].map((k) => batch.run(k)));
    expect(answers).toEqual(['A', 'B', 'C']);
    expect(statements).toEqual([['a', 'b', 'c']]);
    // A call alone is answered by itself.
    expect(await batch.run('d')).toBe('D');
    expect(statements).toHaveLength(2);
  });

  it('a failing call fails alone: the others of its batch are answered', async () => {
    const batch = new TurnBatch(async (keys: readonly number[]) => {
      if (keys.includes(3)) throw new Error('no 3');
      return keys.map((k) => k * 10);
    });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((k) => batch.run(k)));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected'))).toEqual([10, 20, 'rejected', 40]);
  });

  it('splits a turn larger than the batch size into several statements', async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch(async (keys: readonly number[]) => {
      sizes.push(keys.length);
      return keys;
    }, 4);
    expect(await Promise.all(Array.from({ length: 10 }, (_, i) => batch.run(i)))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(sizes).toEqual([4, 4, 2]);
  });
});
