/**
 * The in-memory search index of the embedded mode: the same analysis as
 * Elasticsearch (search-text.ts), the same versioning, sorting and cursors,
 * held to the same contract tests. Relevance is BM25 over the body, like
 * Elasticsearch's default.
 *
 * In the embedded mode this index shares one event loop with the gateway
 * and every WebSocket, so a query must not do work in proportion to the
 * corpus or to the length of the bodies it returns:
 *
 * - A body is analyzed once, when it is written. Each message becomes a
 *   document number; each term a posting list of [doc, term frequency]
 *   pairs kept in the `recent` order (ts, then id), so lists intersect by
 *   seeking forward and `recent` stops at the page's last hit.
 * - Each document keeps its tokens packed ([term number, start, end]…; a
 *   run of CJK characters as its offsets only, cut into unigrams and bigrams
 *   again when needed, which takes no segmentation), as Elasticsearch keeps
 *   offsets in its postings: highlights come from them, never from running
 *   the analyzer again; an edit or delete finds there the postings to remove.
 * - `relevance` must score every match (as Elasticsearch does) but keeps
 *   only the best `limit` in a heap instead of sorting them all. That work
 *   grows with the corpus (~50–120 ns a candidate), so a search gives the
 *   event loop back after every `scanSlice` candidates; writes wait until
 *   it ends, so it reads one state of the index throughout.
 * - `apply` analyzes bodies; it gives the event loop back after every
 *   `applySliceChars` characters, so a bulk of long messages is no stall.
 *   Each message is applied whole, so a search between slices sees some of
 *   the bulk, as with Elasticsearch.
 */
import type { Message } from '@parley/protocol';
import {
  type ApplyResult,
  indexVersion,
  type MessageSearchIndex,
  type SearchHit,
  type SearchRequest,
  type SortValues,
} from './search-index';
import { cjkTokens, fragment, isCjkTerm, queryTerms, tokenize } from './search-text';

/** What one search did: counts of work, for tests and the benchmark (not time). */
export interface SearchWork {
  /** Posting entries of the query's rarest term looked at (the candidates). */
  candidates: number;
  /** Candidates in the caller's rooms that hold every term: each one scored (relevance) or kept (recent). */
  matched: number;
  /** Times the search gave the event loop back (one per `scanSlice` candidates after the first). */
  yields: number;
}

export interface MemorySearchIndexOptions {
  /** Body characters `apply` analyzes before it yields to the event loop (default 4,000). */
  applySliceChars?: number;
  /** Candidates a search looks at before it yields to the event loop (default 10,000). */
  scanSlice?: number;
  /** Told what each search did. */
  onSearch?: (work: SearchWork) => void;
}

interface Doc {
  id: string;
  ts: number;
  version: number;
  room: number;
  /** As stored: a tombstone has an empty body and `deleted: true`. */
  message: Message;
  /**
   * The body's tokens in order, three numbers each: [term number, start, end]
   * for a word, [RUN, start, end] for a run of CJK characters (its unigrams and
   * bigrams are made again from the body when needed: `cjkTokens`). Empty for a
   * tombstone.
   */
  tokens: Int32Array;
  /** Tokens in the body (BM25's field length). */
  length: number;
}

/** A search in progress: what `scanSome` needs from one slice to the next. */
interface Scan {
  relevance: boolean;
  limit: number;
  /** By room number: 1 for the caller's rooms. */
  rooms: Uint8Array;
  /** The rarest term's postings (term `driverK` of the query), walked down from `next`. */
  driver: readonly number[];
  driverK: number;
  next: number;
  /** The other terms' postings, each seeked down from `hi`. */
  others: { k: number; list: readonly number[]; hi: number }[];
  /** By term of the query: its frequency in the candidate, its idf. */
  tfs: number[];
  idfs: number[];
  avgLength: number;
  after: SortValues | undefined;
  recent: number[];
  top: TopHits;
}

const K1 = 1.2;
const B = 0.75;
const NO_TOKENS = new Int32Array(0);
/** In `Doc.tokens`: the entry is a CJK run, not a term. */
const RUN = -1;
/** One longest message: a few milliseconds of analysis (~1 µs a character of Korean). */
const DEFAULT_APPLY_SLICE_CHARS = 4_000;
/** About a millisecond of scanning (~50–120 ns a candidate in bench:search-memory). */
const DEFAULT_SCAN_SLICE = 10_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MemorySearchIndex implements MessageSearchIndex {
  private readonly docs: Doc[] = [];
  /** By document number as well, packed for the scans: `ts`, `room` and `length` of `docs`. */
  private readonly tsOf: number[] = [];
  private readonly roomOf: number[] = [];
  private readonly lengthOf: number[] = [];
  private readonly docNos = new Map<string, number>();
  private readonly termNos = new Map<string, number>();
  /** By term number: [doc, tf, doc, tf, …] of the live documents holding the term, by (ts, id). */
  private readonly postings: number[][] = [];
  private readonly roomNos = new Map<string, number>();
  private totalLength = 0;
  private live = 0;
  private readonly applySliceChars: number;
  private readonly scanSlice: number;
  private readonly onSearch: ((work: SearchWork) => void) | undefined;
  /**
   * A search that yields mid-scan holds positions in the postings, so no
   * write may happen until it ends: `scans` counts such searches, and a
   * write waits for them (`writersWaiting`); a search starting while a write
   * waits lets it go first, so neither side starves.
   */
  private scans = 0;
  private writersWaiting = 0;
  private wakeUps: (() => void)[] = [];

  constructor(options: MemorySearchIndexOptions = {}) {
    this.applySliceChars = options.applySliceChars ?? DEFAULT_APPLY_SLICE_CHARS;
    this.scanSlice = options.scanSlice ?? DEFAULT_SCAN_SLICE;
    this.onSearch = options.onSearch;
  }

  /** Resolves at the next change of `scans` or `writersWaiting` to 0. */
  private changed(): Promise<void> {
    return new Promise((resolve) => this.wakeUps.push(resolve));
  }

  private wake(): void {
    const all = this.wakeUps;
    this.wakeUps = [];
    for (const resolve of all) resolve();
  }

  async ensureIndex(): Promise<void> {}

  async apply(messages: readonly Message[]): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    let chars = 0;
    for (const m of messages) {
      if (chars >= this.applySliceChars) {
        chars = 0;
        await nextTurn();
      }
      if (this.scans > 0) {
        this.writersWaiting++;
        while (this.scans > 0) await this.changed();
        if (--this.writersWaiting === 0) this.wake();
      }
      results.push(this.applyOne(m));
      chars += m.body.length;
    }
    return results;
  }

  private applyOne(message: Message): ApplyResult {
    const version = indexVersion(message);
    const existing = this.docNos.get(message.id);
    const old = existing === undefined ? undefined : this.docs[existing];
    if (old && old.version >= version) return { outcome: 'stale' };
    const d = existing ?? this.docs.length;
    if (old) this.unindex(d, old);
    const deleted = message.deleted === true;
    const analyzed = deleted ? undefined : this.analyze(message.body);
    const doc: Doc = {
      id: message.id,
      ts: message.ts,
      version,
      room: this.roomNo(message.roomId),
      message: deleted ? { ...message, body: '', deleted: true } : message,
      tokens: analyzed?.tokens ?? NO_TOKENS,
      length: analyzed?.length ?? 0,
    };
    this.docs[d] = doc;
    this.tsOf[d] = doc.ts;
    this.roomOf[d] = doc.room;
    this.lengthOf[d] = doc.length;
    if (existing === undefined) this.docNos.set(message.id, d);
    if (analyzed) {
      for (const [term, tf] of analyzed.tf) this.addPosting(term, d, tf);
      this.totalLength += doc.length;
      this.live++;
    }
    return { outcome: 'applied' };
  }

  /** Analyzes a body: its packed tokens, its length and its term frequencies. */
  private analyze(body: string): { tokens: Int32Array; length: number; tf: Map<number, number> } {
    const packed: number[] = [];
    const tf = new Map<number, number>();
    let length = 0;
    const count = (term: string) => {
      const no = this.termNo(term);
      tf.set(no, (tf.get(no) ?? 0) + 1);
      length++;
      return no;
    };
    tokenize(
      body,
      'index',
      (term, start, end) => {
        packed.push(count(term), start, end);
      },
      (start, end) => {
        packed.push(RUN, start, end);
        cjkTokens(body, start, end, 'index', count);
      },
    );
    return { tokens: Int32Array.from(packed), length, tf };
  }

  private termNo(term: string): number {
    let no = this.termNos.get(term);
    if (no === undefined) {
      no = this.postings.length;
      this.termNos.set(term, no);
      this.postings.push([]);
    }
    return no;
  }

  /** Calls `each` with every token of a document: term number, start, end. */
  private eachToken(doc: Doc, each: (term: number, start: number, end: number) => void): void {
    const t = doc.tokens;
    const body = doc.message.body;
    const ofRun = (term: string, start: number, end: number) =>
      each(this.termNos.get(term) as number, start, end);
    for (let i = 0; i < t.length; i += 3) {
      const term = t[i] as number;
      if (term === RUN) cjkTokens(body, t[i + 1] as number, t[i + 2] as number, 'index', ofRun);
      else each(term, t[i + 1] as number, t[i + 2] as number);
    }
  }

  private roomNo(roomId: string): number {
    let no = this.roomNos.get(roomId);
    if (no === undefined) {
      no = this.roomNos.size;
      this.roomNos.set(roomId, no);
    }
    return no;
  }

  /** Takes a live document out of its postings (before it changes). */
  private unindex(d: number, doc: Doc): void {
    if (doc.message.deleted) return;
    const terms = new Set<number>();
    this.eachToken(doc, (term) => terms.add(term));
    for (const term of terms) {
      const list = this.postings[term] as number[];
      const i = this.lowerBound(list, doc.ts, doc.id);
      if (list[2 * i] === d) list.splice(2 * i, 2);
    }
    this.totalLength -= doc.length;
    this.live--;
  }

  private addPosting(term: number, d: number, tf: number): void {
    const list = this.postings[term] as number[];
    const doc = this.docs[d] as Doc;
    const last = list.length - 2;
    if (last < 0 || this.before(list[last] as number, doc.ts, doc.id)) {
      list.push(d, tf); // the usual case: the newest message
    } else {
      list.splice(2 * this.lowerBound(list, doc.ts, doc.id), 0, d, tf);
    }
  }

  /** Whether document `a` sorts before (ts, id): older, or as old with a smaller id. */
  private before(a: number, ts: number, id: string): boolean {
    const t = this.tsOf[a] as number;
    return t < ts || (t === ts && (this.docs[a] as Doc).id < id);
  }

  /** The first pair of `list` not before (ts, id). */
  private lowerBound(list: readonly number[], ts: number, id: string): number {
    let lo = 0;
    let hi = list.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(list[2 * mid] as number, ts, id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether document `a` sorts after document `b`, whose ts is `ts`. */
  private after(a: number, ts: number, b: number): boolean {
    const t = this.tsOf[a] as number;
    return t > ts || (t === ts && a !== b && (this.docs[a] as Doc).id > (this.docs[b] as Doc).id);
  }

  /**
   * The last pair at or below `hi` whose document is not after `d` (−1 if
   * none): galloping down from `hi`, since candidates come newest first.
   */
  private seekDown(list: readonly number[], hi: number, d: number): number {
    if (hi < 0 || list[2 * hi] === d) return hi;
    const ts = this.tsOf[d] as number;
    if (!this.after(list[2 * hi] as number, ts, d)) return hi;
    // Pair `top` is after d; look for a `lo` that is not (or −1), doubling the step.
    let top = hi;
    let step = 1;
    let lo = hi - 1;
    while (lo >= 0 && this.after(list[2 * lo] as number, ts, d)) {
      top = lo;
      step *= 2;
      lo = top - step;
    }
    if (lo < -1) lo = -1;
    while (top - lo > 1) {
      const mid = (lo + top) >> 1;
      if (this.after(list[2 * mid] as number, ts, d)) top = mid;
      else lo = mid;
    }
    return lo;
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    while (this.writersWaiting > 0) await this.changed();
    const work: SearchWork = { candidates: 0, matched: 0, yields: 0 };
    try {
      return await this.find(req, work);
    } finally {
      if (work.yields > 0 && --this.scans === 0) this.wake();
      this.onSearch?.(work);
    }
  }

  /** Gives the event loop back in the middle of a scan; writes wait until the search ends. */
  private async pause(work: SearchWork): Promise<void> {
    if (work.yields++ === 0) this.scans++;
    await nextTurn();
  }

  private async find(req: SearchRequest, work: SearchWork): Promise<SearchHit[]> {
    const terms = queryTerms(req.text);
    const limit = Math.floor(req.limit);
    if (terms.length === 0 || req.roomIds.length === 0 || !(limit > 0)) return [];
    // Every term must match (operator and): a term no live document holds means no hits.
    const termNos: number[] = [];
    for (const t of terms) {
      const no = this.termNos.get(t);
      if (no === undefined || (this.postings[no] as number[]).length === 0) return [];
      termNos.push(no);
    }
    const rooms = new Uint8Array(this.roomNos.size);
    let anyRoom = false;
    for (const r of req.roomIds) {
      const no = this.roomNos.get(r);
      if (no !== undefined) {
        rooms[no] = 1;
        anyRoom = true;
      }
    }
    if (!anyRoom) return [];

    // The rarest term's postings are the candidates; the others are seeked.
    const order = termNos.map((_, k) => k);
    order.sort(
      (a, b) =>
        (this.postings[termNos[a] as number] as number[]).length -
        (this.postings[termNos[b] as number] as number[]).length,
    );
    const driverK = order[0] as number;
    const driver = this.postings[termNos[driverK] as number] as number[];
    const relevance = req.sort === 'relevance';
    const scan: Scan = {
      relevance,
      limit,
      rooms,
      driver,
      driverK,
      others: order.slice(1).map((k) => {
        const list = this.postings[termNos[k] as number] as number[];
        return { k, list, hi: list.length / 2 - 1 };
      }),
      tfs: new Array<number>(terms.length).fill(0),
      idfs: termNos.map((no) => {
        const df = (this.postings[no] as number[]).length / 2;
        return Math.log(1 + (this.live - df + 0.5) / (df + 0.5));
      }),
      avgLength: this.live ? this.totalLength / this.live : 1,
      after: req.after,
      // Newest first. For `recent`, start below the cursor.
      next: !relevance && req.after ? this.lastAfter(driver, req.after) : driver.length / 2 - 1,
      recent: [],
      top: new TopHits(limit, this.tsOf, this.docs),
    };
    this.scanSome(scan, work);
    while (scan.next >= 0) {
      await this.pause(work);
      this.scanSome(scan, work);
    }

    const words = new Set(termNos);
    const cjk = terms.filter(isCjkTerm);
    const hit = (d: number, sort: SortValues): SearchHit => {
      const doc = this.docs[d] as Doc;
      return { message: doc.message, highlight: highlightOf(doc, words, cjk), sort };
    };
    if (!relevance) {
      return scan.recent.map((d) => {
        const doc = this.docs[d] as Doc;
        return hit(d, [doc.ts, doc.id]);
      });
    }
    return scan.top.sorted().map(({ score, d }) => {
      const doc = this.docs[d] as Doc;
      return hit(d, [score, doc.ts, doc.id]);
    });
  }

  /**
   * Looks at up to `scanSlice` candidates, from `scan.next` down; leaves
   * `next` at −1 when the scan is over (a sync method, so V8 optimizes its
   * loop; `find` awaits between calls).
   */
  private scanSome(scan: Scan, work: SearchWork): void {
    const { driver, driverK, others, tfs, idfs, rooms, relevance, after, avgLength } = scan;
    const { roomOf, lengthOf } = this;
    const stop = Math.max(-1, scan.next - this.scanSlice);
    let i = scan.next;
    candidates: for (; i > stop; i--) {
      const d = driver[2 * i] as number;
      work.candidates++;
      if (rooms[roomOf[d] as number] !== 1) continue;
      tfs[driverK] = driver[2 * i + 1] as number;
      for (const o of others) {
        o.hi = this.seekDown(o.list, o.hi, d);
        if (o.hi < 0) {
          i = -1; // nothing older holds this term
          break candidates;
        }
        if (o.list[2 * o.hi] !== d) continue candidates;
        tfs[o.k] = o.list[2 * o.hi + 1] as number;
      }
      work.matched++;
      if (!relevance) {
        scan.recent.push(d);
        if (scan.recent.length >= scan.limit) {
          i = -1;
          break;
        }
        continue;
      }
      const length = lengthOf[d] as number;
      let score = 0;
      for (let k = 0; k < tfs.length; k++) {
        const f = tfs[k] as number;
        score +=
          ((idfs[k] as number) * f * (K1 + 1)) / (f + K1 * (1 - B + (B * length) / avgLength));
      }
      if (after && !this.beyond(score, d, after)) continue;
      scan.top.offer(score, d);
    }
    scan.next = i;
  }

  /**
   * Whether the relevance hit (score, ts, id) of document `d` comes after the
   * cursor: `compareDesc([score, ts, id], after) > 0`, reading the id only
   * when score and ts are the cursor's.
   */
  private beyond(score: number, d: number, after: SortValues): boolean {
    if (score !== after[0]) return later(score, after[0]);
    const ts = this.tsOf[d] as number;
    if (ts !== after[1]) return later(ts, after[1]);
    const id = (this.docs[d] as Doc).id;
    if (id !== after[2]) return later(id, after[2]);
    return after.length > 3;
  }

  /** The last pair of `list` that comes after the cursor in `recent` order (newest first), or −1. */
  private lastAfter(list: readonly number[], after: SortValues): number {
    // Pairs from the top down are "before the cursor" (newer) and then "after" it (older).
    const key: SortValues = [0, ''];
    let lo = -1;
    let hi = list.length / 2; // answer in [lo, hi): every j ≥ hi is newer than the cursor
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const doc = this.docs[list[2 * mid] as number] as Doc;
      key[0] = doc.ts;
      key[1] = doc.id;
      if (compareDesc(key, after) > 0) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  async refresh(): Promise<void> {}
  async ping(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}

/**
 * The body's segments with the query's tokens marked, as `highlight` in
 * search-text.ts makes them by analyzing the body: word tokens by their term
 * number, CJK unigrams and bigrams as their occurrences inside a run.
 */
function highlightOf(doc: Doc, words: ReadonlySet<number>, cjk: readonly string[]) {
  const body = doc.message.body;
  const t = doc.tokens;
  const ranges: [number, number][] = [];
  const runStarts: number[] = [];
  const runEnds: number[] = [];
  for (let i = 0; i < t.length; i += 3) {
    const term = t[i] as number;
    if (term === RUN) {
      runStarts.push(t[i + 1] as number);
      runEnds.push(t[i + 2] as number);
    } else if (words.has(term)) {
      ranges.push([t[i + 1] as number, t[i + 2] as number]);
    }
  }
  for (const term of cjk) {
    for (let at = body.indexOf(term); at >= 0; at = body.indexOf(term, at + 1)) {
      // Inside a run: the last run starting at or before `at` must reach the end of the term.
      let lo = 0;
      let hi = runStarts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((runStarts[mid] as number) <= at) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0 && at + term.length <= (runEnds[lo - 1] as number)) {
        ranges.push([at, at + term.length]);
      }
    }
  }
  return fragment(body, ranges);
}

/** The best `limit` hits by (score, ts, id), all descending: a heap with the worst kept hit on top. */
class TopHits {
  private readonly scores: number[] = [];
  private readonly ds: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly tsOf: readonly number[],
    private readonly docs: readonly Doc[],
  ) {}

  offer(score: number, d: number): void {
    const n = this.ds.length;
    if (n < this.limit) {
      this.scores.push(score);
      this.ds.push(d);
      this.up(n);
    } else if (this.better(score, d, this.scores[0] as number, this.ds[0] as number)) {
      this.scores[0] = score;
      this.ds[0] = d;
      this.down(0);
    }
  }

  sorted(): { score: number; d: number }[] {
    return this.ds
      .map((d, i) => ({ score: this.scores[i] as number, d }))
      .sort((a, b) => (this.better(a.score, a.d, b.score, b.d) ? -1 : 1));
  }

  private better(sa: number, a: number, sb: number, b: number): boolean {
    if (sa !== sb) return sa > sb;
    const ta = this.tsOf[a] as number;
    const tb = this.tsOf[b] as number;
    if (ta !== tb) return ta > tb;
    return (this.docs[a] as Doc).id > (this.docs[b] as Doc).id;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ds.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < n && this.worse(l, worst)) worst = l;
      if (r < n && this.worse(r, worst)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  private worse(i: number, j: number): boolean {
    return this.better(
      this.scores[j] as number,
      this.ds[j] as number,
      this.scores[i] as number,
      this.ds[i] as number,
    );
  }

  private swap(i: number, j: number): void {
    const s = this.scores[i] as number;
    this.scores[i] = this.scores[j] as number;
    this.scores[j] = s;
    const d = this.ds[i] as number;
    this.ds[i] = this.ds[j] as number;
    this.ds[j] = d;
  }
}

/** Where two sort values differ: whether `x` comes later (descending) than the cursor's `y`. */
function later(x: string | number, y: string | number | undefined): boolean {
  return y !== undefined && !(x > y);
}

/** Orders sort tuples descending in every position (the order of both sorts). */
function compareDesc(a: SortValues, b: SortValues): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return x > y ? -1 : 1;
  }
  return 0;
}
