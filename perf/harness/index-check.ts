/**
 * "Stored, indexed and delivered": whether a run's messages became searchable, and how far the
 * index ran behind. On the real stack the index's document count for the run's (fresh) rooms is
 * read from Elasticsearch (`_count` on the stack's alias) once a second while the run goes on, so
 * the lag of each reading is the time since the ack of the message that count reached; on any
 * target the search API is asked, per room, for the room's last message by its text.
 */
import type { SearchResponse } from '@parley/protocol';
import type { Api } from '../src/client';

/** Documents of these rooms in the index behind `alias`. */
export async function esCount(esUrl: string, alias: string, roomIds: string[]): Promise<number> {
  const res = await fetch(`${esUrl}/${encodeURIComponent(alias)}/_count`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { terms: { roomId: roomIds } } }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`Elasticsearch _count: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { count: number }).count;
}

export interface IndexSample {
  /** performance.now() of the reading. */
  at: number;
  count: number;
}

/** Reads `esCount` every `everyMs` until stopped; one reading at a time. */
export class IndexWatcher {
  readonly samples: IndexSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  errors = 0;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly everyMs = 1000,
  ) {}

  start(): this {
    const tick = async () => {
      if (this.stopped) return;
      try {
        const count = await this.read();
        this.samples.push({ at: performance.now(), count });
      } catch {
        this.errors++;
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.everyMs);
    };
    void tick();
    return this;
  }

  /** Reads until `count` is reached or `timeoutMs` passes; the time it was reached, or undefined. */
  async waitFor(count: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.samples.find((s) => s.count >= count);
      if (hit) return hit.at;
      if (performance.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

export interface IndexLag {
  /** Readings used: those taken while some acked message was not yet indexed. */
  readings: number;
  /** Per reading: now − the ack time of the message its count reached (ms). */
  p50Ms: number | null;
  maxMs: number | null;
}

/**
 * The indexing lag from count readings: at a reading of `count` documents, the newest indexed
 * message is (about) the count-th acked one, so the index is `at − ackTimes[count−1]` behind —
 * when some acked message is still missing (a reading that has caught up says nothing of lag).
 * `ackTimes` is in arrival order; both in performance.now() ms.
 */
export function indexingLag(
  ackTimes: readonly number[],
  samples: readonly IndexSample[],
): IndexLag {
  const lags: number[] = [];
  for (const s of samples) {
    const acked = countAtOrBefore(ackTimes, s.at);
    if (s.count >= acked || s.count <= 0) continue;
    lags.push(s.at - (ackTimes[s.count - 1] as number));
  }
  lags.sort((a, b) => a - b);
  const r = (x: number | undefined) => (x === undefined ? null : Math.round(x));
  return {
    readings: lags.length,
    p50Ms: r(lags[Math.floor((lags.length - 1) / 2)]),
    maxMs: r(lags.at(-1)),
  };
}

/** How many of the ascending `times` are ≤ t. */
function countAtOrBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Asks the search API, as a member of each room, for the room's last message by its text, and
 * counts the rooms where that message (by seq) is among the hits: a spot check that works on any
 * target (the exact count is the Elasticsearch reading, real stack only).
 */
export async function lastMessagesSearchable(
  api: Api,
  rooms: { id: string; token: string; last: number; body: string | undefined }[],
): Promise<{ rooms: number; found: number; errors: string[] }> {
  let found = 0;
  const errors: string[] = [];
  for (const r of rooms) {
    if (r.body === undefined) continue;
    const q = new URLSearchParams({ q: r.body, roomId: r.id, sort: 'recent', limit: '5' });
    try {
      const res = await api.call<SearchResponse>('GET', `/api/v1/search?${q}`, { token: r.token });
      if (res.hits.some((h) => h.message.seq === r.last)) found++;
    } catch (err) {
      // Not found, and said why (the first few).
      if (errors.length < 3)
        errors.push(err instanceof Error ? err.message.slice(0, 200) : String(err));
    }
  }
  return { rooms: rooms.length, found, errors };
}
