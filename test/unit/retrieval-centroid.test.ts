import { describe, expect, it } from 'vitest';
import { toCentroid } from '../../src/core/index.js';

describe('entry centroid', () => {
  it('is the unit-length mean direction of the vectors', () => {
    const centroid = toCentroid([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(centroid?.[0]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(centroid?.[1]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(centroid?.[2]).toBe(0);
  });

  it('is null when there is nothing to learn from', () => {
    expect(toCentroid([])).toBeNull();
    expect(toCentroid([[0, 0]])).toBeNull();
  });
});
