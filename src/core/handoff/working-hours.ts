/**
 * Working hours of the human support team and the wait a customer is told. Pure: the clock and the
 * queue length are passed in.
 */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** Opening intervals in minutes of the local week (Sunday 00:00 = 0); empty means always open. */
export interface WorkingHours {
  timeZone: string;
  intervals: Array<{ start: number; end: number }>;
  /** The text as configured, shown to customers outside hours. */
  label: string;
}

/**
 * Parses "Mon-Fri 09:00-18:00; Sat 10:00-14:00" (days in English, 24-hour times; "24/7" or empty
 * for always open). Throws an Error naming the bad part.
 */
export function parseWorkingHours(spec: string, timeZone: string): WorkingHours {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`unknown time zone "${timeZone}"`);
  }
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === '24/7') return { timeZone, intervals: [], label: '24/7' };
  const intervals: WorkingHours['intervals'] = [];
  for (const part of trimmed
    .split(/[;,]/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/i.exec(part);
    if (!m) throw new Error(`cannot read "${part}": expected e.g. "Mon-Fri 09:00-18:00"`);
    const first = DAYS.indexOf(m[1]!.toLowerCase() as (typeof DAYS)[number]);
    const last = m[2] ? DAYS.indexOf(m[2].toLowerCase() as (typeof DAYS)[number]) : first;
    if (first < 0 || last < 0) throw new Error(`unknown day in "${part}"`);
    const from = Number(m[3]) * 60 + Number(m[4]);
    const to = Number(m[5]) * 60 + Number(m[6]);
    if (from >= to || to > MINUTES_PER_DAY) throw new Error(`bad time range in "${part}"`);
    for (let d = first; ; d = (d + 1) % 7) {
      intervals.push({ start: d * MINUTES_PER_DAY + from, end: d * MINUTES_PER_DAY + to });
      if (d === last) break;
    }
  }
  return { timeZone, intervals: intervals.sort((a, b) => a.start - b.start), label: trimmed };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since Sunday 00:00 in the time zone. */
export function toMinuteOfWeek(now: Date, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  const day = DAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof DAYS)[number]);
  return day * MINUTES_PER_DAY + Number(parts.hour) * 60 + Number(parts.minute);
}

export type WaitEstimate = { open: true; minutes: number } | { open: false; nextOpening: Date; minutesUntilOpening: number };

/**
 * Open now: the wait is the queue ahead (plus this conversation) times the minutes an agent takes
 * per conversation. Closed: the next opening time (DST changes inside the gap are ignored).
 */
export function estimateWait(input: { now: Date; hours: WorkingHours; queueAhead: number; minutesPerConversation: number }): WaitEstimate {
  const { now, hours } = input;
  const minutes = Math.max(1, Math.ceil((input.queueAhead + 1) * input.minutesPerConversation));
  if (hours.intervals.length === 0) return { open: true, minutes };
  const m = toMinuteOfWeek(now, hours.timeZone);
  if (hours.intervals.some((i) => m >= i.start && m < i.end)) return { open: true, minutes };
  let best = Number.POSITIVE_INFINITY;
  for (const i of hours.intervals) {
    const delta = (i.start - m + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
    if (delta > 0 && delta < best) best = delta;
  }
  const wholeMinute = now.getTime() - (now.getTime() % 60_000);
  return { open: false, nextOpening: new Date(wholeMinute + best * 60_000), minutesUntilOpening: best };
}
