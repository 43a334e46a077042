/**
 * The search index against MySQL: per room, the documents behind the alias
 * are exactly the stored messages — same ids, and each document what
 * message-index writes for its message (stores/search-index/src/search-index.es.ts:
 * `_id` = message id, routed by room, external version `editedTs ?? ts`, a
 * deleted message kept as a tombstone with an empty body).
 *
 * Read with a point in time over the alias (every index behind it, so a
 * document left in an old index during a reindex shows up as a duplicate),
 * without routing (so a document routed to the wrong shard is found, and
 * reported: search, which routes by room, would never see it).
 */
import type { Client } from '@elastic/elasticsearch';
import type { Message } from '@parley/protocol';
import { toDoc } from '@parley/search-index/es';
import { z } from 'zod';
import type { Findings } from './audit-findings';

const DocSchema = z.object({
  id: z.string(),
  roomId: z.string(),
  seq: z.number().int(),
  senderId: z.string(),
  body: z.string(),
  ts: z.number().int(),
  clientMsgId: z.string(),
  editedTs: z.number().int().optional(),
  deleted: z.boolean(),
});
type Doc = z.infer<typeof DocSchema>;

export interface IndexedDoc {
  id: string;
  index: string;
  routing?: string;
  version?: number;
  source: unknown;
}

export interface IndexSummary {
  docs: number;
}

/** What message-index writes for a stored message: the ES adapter's own mapping. */
export const expectedDoc = (m: Message): Doc => toDoc(m);

const FIELDS = [
  'roomId',
  'seq',
  'senderId',
  'body',
  'ts',
  'clientMsgId',
  'editedTs',
  'deleted',
] as const;

export interface CompareIndexInput {
  roomId: string;
  stored: readonly Message[];
  /** Messages stored after the snapshot (read again for documents it does not know), by id. */
  later?: ReadonlyMap<string, Message>;
  docs: readonly IndexedDoc[];
}

export function compareSearchIndex(input: CompareIndexInput, out: Findings): IndexSummary {
  const { roomId, stored, docs } = input;
  const byId = new Map<string, Message>(stored.map((m) => [m.id, m]));
  for (const [id, m] of input.later ?? []) if (!byId.has(id)) byId.set(id, m);
  const problems = new Map<string, { ids: string[]; seqs: number[]; notes: string[] }>();
  const note = (problem: string, id: string, seq: number | undefined, text: string) => {
    const p = problems.get(problem) ?? { ids: [], seqs: [], notes: [] };
    p.ids.push(id);
    if (seq !== undefined) p.seqs.push(seq);
    p.notes.push(text);
    problems.set(problem, p);
  };

  const copies = new Map<string, IndexedDoc[]>();
  for (const d of docs) copies.set(d.id, [...(copies.get(d.id) ?? []), d]);
  for (const [id, list] of copies) {
    if (list.length > 1) {
      note('duplicate', id, byId.get(id)?.seq, `${id} in ${list.map((d) => d.index).join(', ')}`);
    }
  }
  for (const d of docs) {
    const parsed = DocSchema.safeParse(d.source);
    if (!parsed.success) {
      note('unreadable', d.id, undefined, `${d.id}: not a message document`);
      continue;
    }
    const doc = parsed.data;
    const m = byId.get(d.id);
    if (!m) {
      note('extra', d.id, doc.seq, `${d.id} (seq ${doc.seq}) is not stored in MySQL`);
      continue;
    }
    const want = expectedDoc(m);
    const fields: string[] = FIELDS.filter((f) => want[f] !== doc[f]);
    if (doc.id !== d.id) fields.unshift('id');
    if (fields.length) {
      note('stale', d.id, m.seq, `${d.id} (seq ${m.seq}) differs in ${fields.join(', ')}`);
    }
    if (d.routing !== roomId) {
      note('misrouted', d.id, m.seq, `${d.id} is routed by ${d.routing ?? 'its id'}, not its room`);
    }
    const version = m.editedTs ?? m.ts;
    if (d.version !== undefined && d.version !== version) {
      note('version', d.id, m.seq, `${d.id} has version ${d.version}, not ${version}`);
    }
  }
  const missing = stored.filter((m) => !copies.has(m.id));
  for (const m of missing) note('missing', m.id, m.seq, `${m.id} (seq ${m.seq})`);

  const what: Record<string, string> = {
    duplicate: 'documents in more than one index behind the alias',
    unreadable: 'documents that are not messages',
    extra: 'documents for messages MySQL does not have',
    stale: 'documents that differ from the stored message',
    misrouted: 'documents not routed by their room (invisible to search)',
    version: 'documents whose version is not editedTs ?? ts',
    missing: 'stored messages not in the index',
  };
  for (const [problem, p] of problems) {
    out.fail({
      check: 'search-index',
      problem,
      roomId,
      message: `${p.ids.length} ${what[problem]}: ${p.notes.slice(0, 5).join('; ')}${p.notes.length > 5 ? '; …' : ''}`,
      ids: p.ids,
      ...(p.seqs.length ? { seqs: p.seqs } : {}),
    });
  }
  return { docs: docs.length };
}

/** Documents per page of the point-in-time scan. */
const PAGE = 1000;

/**
 * Every document of these rooms behind the alias, per room (rooms without
 * documents get an empty list). Opens one point in time, closes it after.
 */
export async function readIndexedDocs(
  client: Client,
  alias: string,
  roomIds: readonly string[],
): Promise<Map<string, IndexedDoc[]>> {
  const out = new Map<string, IndexedDoc[]>(roomIds.map((id) => [id, []]));
  if (!roomIds.length) return out;
  let pit = (await client.openPointInTime({ index: alias, keep_alive: '2m' })).id;
  try {
    for (let i = 0; i < roomIds.length; i += 500) {
      const batch = roomIds.slice(i, i + 500);
      let after: (string | number)[] | undefined;
      for (;;) {
        const res = await client.search<unknown>({
          pit: { id: pit, keep_alive: '2m' },
          size: PAGE,
          version: true,
          track_total_hits: false,
          query: { terms: { roomId: batch } },
          sort: [{ _shard_doc: 'asc' }],
          ...(after ? { search_after: after } : {}),
        });
        if (res.pit_id) pit = res.pit_id;
        const hits = res.hits.hits;
        for (const h of hits) {
          const room = (h._source as { roomId?: unknown } | undefined)?.roomId;
          const list = typeof room === 'string' ? out.get(room) : undefined;
          list?.push({
            id: h._id ?? '',
            index: h._index,
            ...(h._routing !== undefined ? { routing: h._routing } : {}),
            ...(h._version !== undefined ? { version: h._version } : {}),
            source: h._source,
          });
        }
        if (hits.length < PAGE) break;
        after = hits[hits.length - 1]?.sort as (string | number)[];
      }
    }
  } finally {
    await client.closePointInTime({ id: pit }).catch(() => undefined);
  }
  return out;
}

/** The rooms that have documents (those with a message at or after `sinceMs`, if given). */
export async function indexedRoomIds(
  client: Client,
  alias: string,
  sinceMs?: number,
): Promise<string[]> {
  const rooms: string[] = [];
  let after: Record<string, string | number | boolean | null> | undefined;
  for (;;) {
    const res = await client.search({
      index: alias,
      size: 0,
      query: sinceMs === undefined ? { match_all: {} } : { range: { ts: { gte: sinceMs } } },
      aggs: {
        rooms: {
          composite: {
            size: 1000,
            sources: [{ roomId: { terms: { field: 'roomId' } } }],
            ...(after ? { after } : {}),
          },
        },
      },
    });
    const agg = res.aggregations?.rooms as
      | {
          buckets: { key: Record<string, string> }[];
          after_key?: Record<string, string | number | boolean | null>;
        }
      | undefined;
    const buckets = agg?.buckets ?? [];
    for (const b of buckets) if (b.key.roomId) rooms.push(b.key.roomId);
    if (!agg?.after_key || buckets.length === 0) break;
    after = agg.after_key;
  }
  return rooms;
}
