import { describe, expect, it } from 'vitest';
import { toAuroc, toFigures } from '../../src/evaluation/metrics.js';

describe('evaluation metrics', () => {
  it('computes AUROC with ties counted as half', () => {
    expect(toAuroc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(toAuroc([0.1], [0.9])).toBe(0);
    expect(toAuroc([0.5], [0.5])).toBe(0.5);
    expect(toAuroc([0.5], [])).toBeNull();
  });

  it('counts wrong answers and answered uncovered questions as harmful', () => {
    const figures = toFigures([
      { label: 'a', ranked: ['a', 'b'], confidence: 0.9, answered: true },
      { label: 'b', ranked: ['a', 'b'], confidence: 0.6, answered: true },
      { label: 'c', ranked: ['x', 'y', 'z', 'w', 'v', 'c'], confidence: 0.2, answered: false },
      { label: null, ranked: ['a'], confidence: 0.7, answered: true },
    ]);
    expect(figures).toMatchObject({ queries: 4, covered: 3, uncovered: 1, top1: 1 / 3, recall5: 2 / 3, harmful: 0.5, escalated: 0.25 });
    expect(figures.mrr).toBeCloseTo((1 + 0.5 + 1 / 6) / 3);
    expect(figures.answeredCorrectly).toBeCloseTo(1 / 3);
    expect(figures.uncoveredAnswered).toBe(1);
  });

  it('reports no uncovered-answered share when every query is covered', () => {
    expect(toFigures([{ label: 'a', ranked: ['a'], confidence: 0.9, answered: true }]).uncoveredAnswered).toBeNull();
  });
});
