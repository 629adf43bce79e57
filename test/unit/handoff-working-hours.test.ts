import { describe, expect, it } from 'vitest';
import { toWaitNotice } from '../../src/core/handoff/handoff-messages.js';
import { estimateWait, parseWorkingHours, toMinuteOfWeek, toRating } from '../../src/core/index.js';

const DAY = 24 * 60;

describe('parseWorkingHours', () => {
  it('reads day ranges and single days into minutes of the week, sorted', () => {
    const hours = parseWorkingHours('Sat 10:00-14:00; Mon-Fri 09:00-18:00', 'UTC');
    expect(hours.intervals).toEqual([
      { start: 1 * DAY + 540, end: 1 * DAY + 1080 },
      { start: 2 * DAY + 540, end: 2 * DAY + 1080 },
      { start: 3 * DAY + 540, end: 3 * DAY + 1080 },
      { start: 4 * DAY + 540, end: 4 * DAY + 1080 },
      { start: 5 * DAY + 540, end: 5 * DAY + 1080 },
      { start: 6 * DAY + 600, end: 6 * DAY + 840 },
    ]);
    expect(hours.label).toBe('Sat 10:00-14:00; Mon-Fri 09:00-18:00');
  });

  it('wraps a day range over the week end (Fri-Mon)', () => {
    expect(parseWorkingHours('Fri-Mon 08:00-12:00', 'UTC').intervals.map((i) => (i.start / DAY) | 0)).toEqual([0, 1, 5, 6]);
  });

  it('treats empty and 24/7 as always open', () => {
    expect(parseWorkingHours('', 'UTC').intervals).toEqual([]);
    expect(parseWorkingHours('24/7', 'Asia/Shanghai')).toMatchObject({ intervals: [], label: '24/7' });
  });

  it('names the bad part of a wrong specification', () => {
    expect(() => parseWorkingHours('Mon-Fri 9-18', 'UTC')).toThrow(/Mon-Fri 9-18/);
    expect(() => parseWorkingHours('Mon-Fry 09:00-18:00', 'UTC')).toThrow(/unknown day/);
    expect(() => parseWorkingHours('Mon 18:00-09:00', 'UTC')).toThrow(/bad time range/);
    expect(() => parseWorkingHours('Mon 09:00-18:00', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('estimateWait', () => {
  const weekdays = parseWorkingHours('Mon-Fri 09:00-18:00', 'Asia/Shanghai');

  it('inside working hours, counts the queue ahead plus this conversation', () => {
    // Wednesday 2026-11-18 10:00 in Shanghai = 02:00 UTC.
    const now = new Date('2026-11-18T02:00:00Z');
    expect(toMinuteOfWeek(now, 'Asia/Shanghai')).toBe(3 * DAY + 600);
    expect(estimateWait({ now, hours: weekdays, queueAhead: 0, minutesPerConversation: 10 })).toEqual({ open: true, minutes: 10 });
    expect(estimateWait({ now, hours: weekdays, queueAhead: 3, minutesPerConversation: 7.5 })).toEqual({ open: true, minutes: 30 });
    expect(estimateWait({ now, hours: weekdays, queueAhead: 0, minutesPerConversation: 0.2 })).toEqual({ open: true, minutes: 1 });
  });

  it('after closing on Friday, gives Monday opening in the configured time zone', () => {
    // Friday 2026-11-20 19:30 in Shanghai = 11:30 UTC; opens Monday 09:00 Shanghai = 01:00 UTC.
    const wait = estimateWait({ now: new Date('2026-11-20T11:30:00Z'), hours: weekdays, queueAhead: 5, minutesPerConversation: 10 });
    expect(wait).toEqual({ open: false, nextOpening: new Date('2026-11-23T01:00:00Z'), minutesUntilOpening: 2 * DAY + 13 * 60 + 30 });
  });

  it('before opening on the same day, gives that morning', () => {
    const wait = estimateWait({ now: new Date('2026-11-18T00:15:00Z'), hours: weekdays, queueAhead: 0, minutesPerConversation: 10 });
    expect(wait).toMatchObject({ open: false, nextOpening: new Date('2026-11-18T01:00:00Z'), minutesUntilOpening: 45 });
  });

  it('is always open with 24/7 hours', () => {
    expect(estimateWait({ now: new Date('2026-11-22T03:00:00Z'), hours: parseWorkingHours('24/7', 'UTC'), queueAhead: 1, minutesPerConversation: 4 })).toEqual({
      open: true,
      minutes: 8,
    });
  });

  it('tells a customer outside hours the hours and the next opening, in their language', () => {
    const wait = estimateWait({ now: new Date('2026-11-20T11:30:00Z'), hours: weekdays, queueAhead: 0, minutesPerConversation: 10 });
    expect(toWaitNotice('en', wait, weekdays)).toMatch(/offline.*Mon-Fri 09:00-18:00, Asia\/Shanghai.*Mon 23 Nov, 09:00/);
    expect(toWaitNotice('zh', wait, weekdays)).toMatch(/非工作时间.*09:00/);
    expect(toWaitNotice('en', { open: true, minutes: 1 }, weekdays)).toBe('A human agent should reply in about 1 minute.');
  });
});

describe('toRating', () => {
  it.each([
    ['5', 5],
    [' 4 ', 4],
    ['3/5', 3],
    ['2 / 5', 2],
    ['５', 5],
    ['4分', 4],
    ['5星', 5],
    ['1 star', 1],
    ['5 stars!', 5],
    ['4。', 4],
  ])('reads %j as %i', (text, rating) => {
    expect(toRating(text)).toBe(rating);
  });

  it.each(['0', '6', '10', '5/10', 'five', '5 but slow', 'I give 5', '', '4.5'])('does not take %j as a rating', (text) => {
    expect(toRating(text)).toBeUndefined();
  });
});
