/**
 * Times and days as a person reads them, in their own locale: "14:05",
 * "Today", "Yesterday", "Monday", "3 Mar 2025". `locale` is only for tests.
 */
import type { Message } from '@parley/protocol/model';

const DAY_MS = 86_400_000;
/** Messages from one sender closer than this share one header (name and time). */
export const GROUP_GAP_MS = 5 * 60_000;

const startOfDay = (ts: number): number => {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
};

export const sameDay = (a: number, b: number): boolean => startOfDay(a) === startOfDay(b);

/** Whole calendar days from `ts` to `now` (0 = today). */
const daysAgo = (ts: number, now: number): number =>
  Math.round((startOfDay(now) - startOfDay(ts)) / DAY_MS);

export function formatTime(ts: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(ts);
}

/** The day separator in a conversation. */
export function formatDay(ts: number, now = Date.now(), locale?: string): string {
  const ago = daysAgo(ts, now);
  if (ago === 0) return 'Today';
  if (ago === 1) return 'Yesterday';
  if (ago > 1 && ago < 7) return new Intl.DateTimeFormat(locale, { weekday: 'long' }).format(ts);
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(ts);
}

/** The room list's short time: today a time, this week a weekday, else a date. */
export function formatListTime(ts: number, now = Date.now(), locale?: string): string {
  const ago = daysAgo(ts, now);
  if (ago === 0) return formatTime(ts, locale);
  if (ago === 1) return 'Yesterday';
  if (ago > 1 && ago < 7) return new Intl.DateTimeFormat(locale, { weekday: 'short' }).format(ts);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(ts);
}

/** The full date and time, for a tooltip. */
export function formatFull(ts: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(ts);
}

type Sent = Pick<Message, 'senderId' | 'ts'>;

/** A message opens a new group (its sender's name and the time shown) after a pause or another sender. */
export function startsGroup(prev: Sent | undefined, cur: Sent): boolean {
  return (
    !prev ||
    prev.senderId !== cur.senderId ||
    !sameDay(prev.ts, cur.ts) ||
    cur.ts - prev.ts > GROUP_GAP_MS
  );
}

/** A one-line preview of a message body. */
export function preview(body: string, max = 80): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Up to two initials for an avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : [words[0]?.slice(0, 2)];
  return letters
    .map((w) => [...(w ?? '')].slice(0, words.length > 1 ? 1 : 2).join(''))
    .join('')
    .toUpperCase();
}

/** A stable hue per id, so a person keeps their avatar colour everywhere. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}
