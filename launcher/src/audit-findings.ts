/**
 * What the audit reports: findings (a failure fails the audit, a warning
 * does not), each naming its check, its room and the ids / seqs at fault.
 * Shared by every check module of the audit (audit.ts composes them).
 */

/** The checks, in the order the report lists them. `audit` is the audit itself (a service it could not read). */
export const CHECKS = [
  'exactly-once',
  'seq',
  'sender-order',
  'recent-cache',
  'search-index',
  'dead-letters',
  'consumer-lag',
  'audit',
] as const;
export type CheckName = (typeof CHECKS)[number];

/** The checks that read a service besides MySQL, and can be skipped (`--skip`). */
export const SKIPPABLE = ['recent-cache', 'search-index', 'dead-letters', 'consumer-lag'] as const;
export type SkippableCheck = (typeof SKIPPABLE)[number];

export interface Finding {
  check: CheckName;
  /** Short and stable, for machines: `duplicate`, `hole`, `stale`, `missing`, … */
  problem: string;
  roomId?: string;
  /** One line for a person; never a message body. */
  message: string;
  /** Message ids (or event ids, for dead letters) at fault. */
  ids?: string[];
  seqs?: number[];
  detail?: Record<string, unknown>;
}

/** Most ids / seqs a finding lists; `detail.count` says how many there were. */
export const LIST_MAX = 200;

export class Findings {
  readonly failures: Finding[] = [];
  readonly warnings: Finding[] = [];

  fail(f: Finding): void {
    this.failures.push(cap(f));
  }

  warn(f: Finding): void {
    this.warnings.push(cap(f));
  }
}

function cap(f: Finding): Finding {
  const over = (f.ids?.length ?? 0) > LIST_MAX || (f.seqs?.length ?? 0) > LIST_MAX;
  if (!over) return f;
  return {
    ...f,
    ...(f.ids ? { ids: f.ids.slice(0, LIST_MAX) } : {}),
    ...(f.seqs ? { seqs: f.seqs.slice(0, LIST_MAX) } : {}),
    detail: { count: Math.max(f.ids?.length ?? 0, f.seqs?.length ?? 0), ...f.detail },
  };
}

export interface SeqRange {
  from: number;
  to: number;
}

/** Ascending distinct seqs as ranges: [1,2,3,7] → 1-3, 7. */
export function toRanges(seqs: readonly number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last.to + 1) last.to = s;
    else if (!last || s > last.to) out.push({ from: s, to: s });
  }
  return out;
}

/** `1-3, 7` (at most 20 ranges, then `… (+n more)`). */
export function describeRanges(ranges: readonly SeqRange[]): string {
  const shown = ranges
    .slice(0, 20)
    .map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`));
  const more = ranges.length - shown.length;
  return more > 0 ? `${shown.join(', ')} … (+${more} more)` : shown.join(', ');
}

/** The seqs of ranges, at most `max` of them (ranges can be huge: a corrupt counter). */
export function seqsOf(ranges: readonly SeqRange[], max = LIST_MAX + 1): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let s = r.from; s <= r.to && out.length < max; s++) out.push(s);
    if (out.length >= max) break;
  }
  return out;
}

export const rangeCount = (ranges: readonly SeqRange[]): number =>
  ranges.reduce((n, r) => n + (r.to - r.from + 1), 0);

/** A URL or shard spec with its passwords masked, for the report. */
export const withoutPasswords = (s: string): string => s.replace(/\/\/[^@/\s]*@/g, '//***@');
