/**
 * The recent cache against MySQL.
 *
 * How the cache is written (stores/message-store/src/recent-cache.redis.ts):
 * per room a sorted set `<prefix><roomId>` scored by seq, members the
 * message JSON; every add replaces whatever held that seq and trims the set
 * to the newest RECENT_MAX, in one MULTI. message-write adds after the
 * commit, best effort (a failed add is logged, not retried); the messages
 * function re-adds the page it read from MySQL after a miss. Nothing deletes
 * single entries; the key expires after RECENT_TTL_SECONDS idle.
 *
 * So "agrees" means:
 * - every entry is readable, scored by its own seq, of this room, one per
 *   seq, at most RECENT_MAX of them — and equal, field by field, to the
 *   stored message of that seq (none for a seq MySQL lacks). Anything else is
 *   a failure: the cache is wrong.
 * - the entries need not be complete: an absent key is a cold cache, and a
 *   stored seq missing between the oldest entry and the room's newest seq is
 *   a hole (a failed add). Readers never answer across a hole (range() wants
 *   every seq of a page), so a hole costs misses, not correctness: a warning,
 *   or a failure with `strict` (when no Redis fault was injected, every add
 *   should have landed).
 */
import { type Message, MessageSchema } from '@parley/protocol';
import type { Redis } from '@parley/runtime';
import {
  describeRanges,
  type Findings,
  rangeCount,
  type SeqRange,
  seqsOf,
  toRanges,
} from './audit-findings';

/** The cache's key prefix, as `RedisRecentCache` writes it by default. */
export const RECENT_PREFIX = 'parley:recent:';

export interface CacheEntry {
  member: string;
  score: number;
}

export interface CacheSummary {
  /** cold: no entries; tail: one run of seqs up to the room's newest; holes: stored seqs missing in between. */
  state: 'cold' | 'tail' | 'holes';
  entries: number;
  fromSeq?: number;
  toSeq?: number;
  /** Stored seqs missing between the oldest entry and the room's newest seq. */
  missing: number;
}

/** The fields of a message in the order the cache encodes them; undefined fields drop out. */
const canonical = (m: Message): Record<string, unknown> => ({
  id: m.id,
  roomId: m.roomId,
  seq: m.seq,
  senderId: m.senderId,
  body: m.body,
  ts: m.ts,
  clientMsgId: m.clientMsgId,
  editedTs: m.editedTs,
  deleted: m.deleted === true ? true : undefined,
});

/** The names of the fields in which two messages differ (never their values: bodies stay out of reports). */
export function differingFields(a: Message, b: Message): string[] {
  const x = canonical(a);
  const y = canonical(b);
  return Object.keys(x).filter((k) => x[k] !== y[k]);
}

function decode(member: string): Message | undefined {
  try {
    const parsed = MessageSchema.safeParse(JSON.parse(member));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface CompareCacheInput {
  roomId: string;
  /** The snapshot's messages, ascending. */
  stored: readonly Message[];
  /** Messages stored after the snapshot (read again for entries newer than it), by seq. */
  later?: ReadonlyMap<number, Message>;
  entries: readonly CacheEntry[];
  /** Most entries per room (RECENT_MAX). */
  max: number;
  /** Holes fail instead of warn. */
  strict: boolean;
}

export function compareRecentCache(input: CompareCacheInput, out: Findings): CacheSummary {
  const { roomId, stored, entries, max } = input;
  const bySeq = new Map<number, Message>(stored.map((m) => [m.seq, m]));
  for (const [seq, m] of input.later ?? []) if (!bySeq.has(seq)) bySeq.set(seq, m);
  const newest = stored.length ? (stored[stored.length - 1] as Message).seq : 0;
  const problems = new Map<string, { seqs: number[]; ids: string[]; notes: string[] }>();
  const note = (problem: string, seq: number, id: string | undefined, text: string) => {
    const p = problems.get(problem) ?? { seqs: [], ids: [], notes: [] };
    p.seqs.push(seq);
    if (id) p.ids.push(id);
    p.notes.push(text);
    problems.set(problem, p);
  };

  const cachedSeqs = new Set<number>();
  const scores = new Map<number, number>();
  for (const e of entries) scores.set(e.score, (scores.get(e.score) ?? 0) + 1);
  for (const [score, n] of scores) {
    if (n > 1) note('duplicate-seq', score, undefined, `seq ${score} has ${n} entries`);
  }
  for (const e of entries) {
    const m = decode(e.member);
    if (!m) {
      note('unreadable', e.score, undefined, `seq ${e.score}: not a message`);
      continue;
    }
    if (m.seq !== e.score) {
      note('score-mismatch', e.score, m.id, `entry scored ${e.score} holds seq ${m.seq}`);
      continue;
    }
    if (m.roomId !== roomId) {
      note('wrong-room', m.seq, m.id, `seq ${m.seq} belongs to room ${m.roomId}`);
      continue;
    }
    const s = bySeq.get(m.seq);
    if (!s) {
      note('phantom', m.seq, m.id, `seq ${m.seq} is not stored in MySQL`);
      continue;
    }
    const fields = differingFields(m, s);
    if (fields.length) {
      note('stale', m.seq, m.id, `seq ${m.seq} differs from MySQL in ${fields.join(', ')}`);
      continue;
    }
    cachedSeqs.add(m.seq);
  }
  if (entries.length > max) {
    out.fail({
      check: 'recent-cache',
      problem: 'over-capacity',
      roomId,
      message: `${entries.length} entries, more than the ${max} every add trims to`,
      detail: { entries: entries.length, max },
    });
  }
  const what: Record<string, string> = {
    'duplicate-seq': 'more than one entry for a seq',
    unreadable: 'unreadable entries',
    'score-mismatch': 'entries scored by another seq',
    'wrong-room': "another room's messages",
    phantom: 'entries for seqs MySQL does not have',
    stale: 'entries that differ from MySQL',
  };
  for (const [problem, p] of problems) {
    out.fail({
      check: 'recent-cache',
      problem,
      roomId,
      message: `${what[problem]}: ${p.notes.slice(0, 5).join('; ')}${p.notes.length > 5 ? '; …' : ''}`,
      seqs: p.seqs,
      ...(p.ids.length ? { ids: p.ids } : {}),
    });
  }

  // Completeness: only good entries count, and only seqs MySQL has can be missing.
  const good = [...cachedSeqs].filter((s) => s <= newest).sort((a, b) => a - b);
  if (!good.length) return { state: 'cold', entries: entries.length, missing: 0 };
  const oldest = good[0] as number;
  const missingSeqs = stored
    .filter((m) => m.seq >= oldest && !cachedSeqs.has(m.seq))
    .map((m) => m.seq);
  const missing: SeqRange[] = toRanges(missingSeqs);
  const summary: CacheSummary = {
    state: missing.length ? 'holes' : 'tail',
    entries: entries.length,
    fromSeq: oldest,
    toSeq: good[good.length - 1] as number,
    missing: rangeCount(missing),
  };
  if (missing.length) {
    const finding = {
      check: 'recent-cache' as const,
      problem: 'hole',
      roomId,
      message: `stored seq${summary.missing === 1 ? '' : 's'} ${describeRanges(missing)} not cached between the oldest entry (${oldest}) and the newest seq (${newest})`,
      seqs: seqsOf(missing),
      detail: { count: summary.missing, oldestCached: oldest, newest },
    };
    if (input.strict) out.fail(finding);
    else out.warn(finding);
  }
  return summary;
}

/** Every room's entries, with their scores (absent key: no entries). */
export async function readRecentCache(
  redis: Redis,
  prefix: string,
  roomIds: readonly string[],
): Promise<Map<string, CacheEntry[]>> {
  const out = new Map<string, CacheEntry[]>();
  const pipeline = redis.pipeline();
  for (const id of roomIds) pipeline.zrange(prefix + id, 0, -1, 'WITHSCORES');
  const results = (await pipeline.exec()) ?? [];
  roomIds.forEach((id, i) => {
    const [err, flat] = results[i] ?? [new Error('no answer'), undefined];
    if (err) throw err;
    const list = (flat ?? []) as string[];
    const entries: CacheEntry[] = [];
    for (let j = 0; j + 1 < list.length; j += 2) {
      entries.push({ member: list[j] as string, score: Number(list[j + 1]) });
    }
    out.set(id, entries);
  });
  return out;
}

/** The rooms that have a cache key (SCAN, so a large Redis is not blocked). */
export async function cachedRoomIds(redis: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const rooms = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const k of keys) rooms.add(k.slice(prefix.length));
    cursor = next;
  } while (cursor !== '0');
  return [...rooms];
}
