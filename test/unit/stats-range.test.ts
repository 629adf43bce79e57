import { describe, expect, it } from 'vitest';
import { StatsRangeError, toDurationSummary, toStatsPeriod } from '../../src/core/index.js';

describe('the stats range', () => {
  it('covers whole UTC days, both ends included', () => {
    expect(toStatsPeriod({ from: '2026-03-02', to: '2026-03-04' })).toEqual({
      start: new Date('2026-03-02T00:00:00Z'),
      end: new Date('2026-03-05T00:00:00Z'),
      days: 3,
    });
    expect(toStatsPeriod({ from: '2024-02-29', to: '2024-02-29' }).days).toBe(1);
    expect(toStatsPeriod({ from: '2024-01-01', to: '2024-12-31' }).days).toBe(366);
  });

  it('refuses dates that do not exist, other spellings, reversed and overlong ranges', () => {
    const refused = (from: string | undefined, to: string | undefined) => () => toStatsPeriod({ from, to });
    for (const [from, to] of [
      ['2026-02-29', '2026-03-01'],
      ['2026-13-01', '2026-12-01'],
      ['2026-3-2', '2026-03-04'],
      ['2026-03-02T00:00:00Z', '2026-03-04'],
      [' 2026-03-02', '2026-03-04'],
      ['2026-03-04', '2026-03-02'],
      ['2024-01-01', '2025-01-01'],
      [undefined, '2026-03-04'],
      ['2026-03-02', ''],
    ] as const) {
      expect(refused(from, to), `${from} ${to}`).toThrow(StatsRangeError);
    }
  });
});

describe('duration figures', () => {
  it('are published in seconds to the millisecond, null when nothing was measured', () => {
    expect(toDurationSummary({ count: 4, p50Seconds: 180, p90Seconds: 492.00000000000006 })).toEqual({ count: 4, p50Seconds: 180, p90Seconds: 492 });
    expect(toDurationSummary({ count: 1, p50Seconds: 1.23456, p90Seconds: 1.23456 })).toEqual({ count: 1, p50Seconds: 1.235, p90Seconds: 1.235 });
    expect(toDurationSummary({ count: 0, p50Seconds: null, p90Seconds: null })).toEqual({ count: 0, p50Seconds: null, p90Seconds: null });
  });
});
