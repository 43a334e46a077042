import { describe, expect, it } from 'vitest';
import { formatDay, formatListTime, initials, preview, startsGroup } from './format';

const at = (iso: string) => new Date(iso).getTime();
const NOW = at('2025-03-12T15:00:00');

describe('format', () => {
  // Exact Intl output differs between ICU versions (Node 20 vs 24), so these pin the branch taken.
  it('names recent days in words and older ones by date', () => {
    expect(formatDay(at('2025-03-12T08:00:00'), NOW, 'en-GB')).toBe('Today');
    expect(formatDay(at('2025-03-11T23:59:00'), NOW, 'en-GB')).toBe('Yesterday');
    expect(formatDay(at('2025-03-08T10:00:00'), NOW, 'en-GB')).toBe('Saturday');
    const thisYear = formatDay(at('2025-02-01T10:00:00'), NOW, 'en-GB');
    expect(thisYear).toMatch(/Sat.*1.*Feb/);
    expect(thisYear).not.toContain('2025');
    expect(formatDay(at('2024-12-01T10:00:00'), NOW, 'en-GB')).toMatch(/Sun.*1.*Dec.*2024/);
  });

  it('shows a time for today in the room list and a day or date before', () => {
    expect(formatListTime(at('2025-03-12T09:05:00'), NOW, 'en-GB')).toMatch(/^0?9:05$/);
    expect(formatListTime(at('2025-03-11T09:05:00'), NOW, 'en-GB')).toBe('Yesterday');
    expect(formatListTime(at('2025-03-10T09:05:00'), NOW, 'en-GB')).toBe('Mon');
    expect(formatListTime(at('2025-01-10T09:05:00'), NOW, 'en-GB')).toMatch(/^10 Jan/);
  });

  it('groups messages by sender until a pause or a new day', () => {
    const m = (senderId: string, iso: string) => ({ senderId, ts: at(iso) });
    expect(startsGroup(undefined, m('a', '2025-03-12T10:00:00'))).toBe(true);
    expect(startsGroup(m('a', '2025-03-12T10:00:00'), m('a', '2025-03-12T10:04:00'))).toBe(false);
    expect(startsGroup(m('a', '2025-03-12T10:00:00'), m('b', '2025-03-12T10:01:00'))).toBe(true);
    expect(startsGroup(m('a', '2025-03-12T10:00:00'), m('a', '2025-03-12T10:06:00'))).toBe(true);
    expect(startsGroup(m('a', '2025-03-11T23:59:00'), m('a', '2025-03-12T00:01:00'))).toBe(true);
  });

  it('previews a body on one line, cut with an ellipsis', () => {
    expect(preview('hello\n\n  world')).toBe('hello world');
    expect(preview('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('takes initials from the first and last word', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('Ada Byron Lovelace')).toBe('AL');
    expect(initials('bob')).toBe('BO');
    expect(initials('')).toBe('');
  });
});
