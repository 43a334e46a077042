/**
 * The in-memory search index of the embedded mode: the same analysis as
 * Elasticsearch (search-text.ts), the same versioning, sorting and cursors,
 * held to the same contract tests. An inverted index from term to message
 * ids; relevance is BM25 over the body, like Elasticsearch's default.
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
import { analyze, highlight, queryTerms } from './search-text';

interface Doc {
  message: Message;
  version: number;
  /** term → frequency in the body */
  tf: Map<string, number>;
  length: number;
}

const K1 = 1.2;
const B = 0.75;

export class MemorySearchIndex implements MessageSearchIndex {
  private readonly docs = new Map<string, Doc>();
  private readonly postings = new Map<string, Set<string>>();
  private totalLength = 0;
  private live = 0;

  async ensureIndex(): Promise<void> {}

  async apply(messages: readonly Message[]): Promise<ApplyResult[]> {
    return messages.map((m) => this.applyOne(m));
  }

  private applyOne(message: Message): ApplyResult {
    const version = indexVersion(message);
    const old = this.docs.get(message.id);
    if (old && old.version >= version) return { outcome: 'stale' };
    if (old) this.unindex(old);
    const body = message.deleted ? '' : message.body;
    const stored: Message = message.deleted ? { ...message, body: '', deleted: true } : message;
    const tf = new Map<string, number>();
    const tokens = analyze(body, 'index');
    for (const t of tokens) tf.set(t.term, (tf.get(t.term) ?? 0) + 1);
    const doc: Doc = { message: stored, version, tf, length: tokens.length };
    this.docs.set(message.id, doc);
    if (!message.deleted) {
      for (const term of tf.keys()) {
        let ids = this.postings.get(term);
        if (!ids) {
          ids = new Set();
          this.postings.set(term, ids);
        }
        ids.add(message.id);
      }
      this.totalLength += doc.length;
      this.live++;
    }
    return { outcome: 'applied' };
  }

  private unindex(doc: Doc): void {
    if (doc.message.deleted) return;
    for (const term of doc.tf.keys()) this.postings.get(term)?.delete(doc.message.id);
    this.totalLength -= doc.length;
    this.live--;
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const terms = queryTerms(req.text);
    if (terms.length === 0 || req.roomIds.length === 0) return [];
    const rooms = new Set(req.roomIds);
    const lists = terms.map((t) => this.postings.get(t) ?? new Set<string>());
    lists.sort((a, b) => a.size - b.size);
    const [smallest, ...rest] = lists;
    const avgLength = this.live ? this.totalLength / this.live : 1;
    const termSet = new Set(terms);
    const hits: SearchHit[] = [];
    for (const id of smallest ?? []) {
      if (!rest.every((l) => l.has(id))) continue;
      const doc = this.docs.get(id);
      if (!doc || !rooms.has(doc.message.roomId)) continue;
      const base: SortValues = [doc.message.ts, doc.message.id];
      const sort = req.sort === 'relevance' ? [this.score(doc, terms, avgLength), ...base] : base;
      hits.push({ message: doc.message, highlight: [], sort });
    }
    hits.sort((a, b) => compareDesc(a.sort, b.sort));
    const after = req.after;
    const page = (after ? hits.filter((h) => compareDesc(h.sort, after) > 0) : hits).slice(
      0,
      req.limit,
    );
    for (const h of page) h.highlight = highlight(h.message.body, termSet);
    return page;
  }

  private score(doc: Doc, terms: string[], avgLength: number): number {
    let score = 0;
    for (const term of terms) {
      const df = this.postings.get(term)?.size ?? 0;
      const idf = Math.log(1 + (this.live - df + 0.5) / (df + 0.5));
      const f = doc.tf.get(term) ?? 0;
      score += (idf * f * (K1 + 1)) / (f + K1 * (1 - B + (B * doc.length) / avgLength));
    }
    return score;
  }

  async refresh(): Promise<void> {}
  async ping(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
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
