/**
 * The Elasticsearch adapter of the search index (@elastic/elasticsearch 8).
 *
 * - Writes go to the alias with `require_alias`, so a missing alias is an
 *   error to retry rather than a stray auto-created index; each message is
 *   routed by its room, and versioned externally (search-index.ts), so ES
 *   itself refuses anything older than what it holds (409 → `stale`).
 * - Reads filter by the caller's rooms and `deleted: false`, sort newest
 *   first or by score, page with `search_after`, and highlight with the
 *   unified highlighter over stored offsets.
 */
import { Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Message } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import type { Registry } from 'prom-client';
import { type IndexLayout, type IndexNames, indexBody, indexNames } from './es-index';
import { instrumentElasticsearch } from './es-metrics';
import {
  type ApplyResult,
  indexVersion,
  type MessageSearchIndex,
  type SearchHit,
  type SearchRequest,
  type SortValues,
} from './search-index';
import { fragment, highlight, queryTerms } from './search-text';

export interface EsSearchIndexOptions {
  url: string;
  /** The alias (and prefix of the versioned index): `parley-messages`. */
  alias?: string;
  layout?: Partial<IndexLayout>;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Times the client's requests in this registry (es-metrics.ts). */
  registry?: Registry;
}

/** Marks of a highlighted term: private-use characters, never HTML. */
const PRE = '\uE000';
const POST = '\uE001';
const MARKS = /[\uE000\uE001]/;

/** Route a search to the rooms' shards when it names at most this many rooms. */
const ROUTING_MAX_ROOMS = 16;

/** The document of a message in the index (what message-index writes; the audit compares it). */
export interface MessageDoc {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  body: string;
  ts: number;
  clientMsgId: string;
  editedTs?: number;
  deleted: boolean;
}

export class EsSearchIndex implements MessageSearchIndex {
  readonly names: IndexNames;
  private readonly client: Client;
  private readonly layout: IndexLayout;

  constructor(opts: EsSearchIndexOptions) {
    this.names = indexNames(opts.alias ?? 'parley-messages');
    this.layout = { shards: 1, replicas: 0, refreshInterval: '1s', ...opts.layout };
    this.client = new Client({
      node: opts.url,
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
      maxRetries: 1,
    });
    if (opts.registry) instrumentElasticsearch(this.client, opts.registry);
  }

  async ensureIndex(): Promise<void> {
    if (await this.client.indices.existsAlias({ name: this.names.alias })) return;
    try {
      await this.client.indices.create({
        index: this.names.index,
        ...indexBody(this.layout),
        aliases: { [this.names.alias]: { is_write_index: true } },
      });
    } catch (err) {
      // Another instance created it first: fine, as long as the alias is there now.
      if (!isAlreadyExists(err)) throw err;
      if (!(await this.client.indices.existsAlias({ name: this.names.alias }))) {
        throw new ParleyError('unavailable', `index ${this.names.index} exists without its alias`);
      }
    }
  }

  async apply(messages: readonly Message[]): Promise<ApplyResult[]> {
    if (messages.length === 0) return [];
    const operations: object[] = [];
    for (const m of messages) {
      operations.push(
        {
          index: {
            _index: this.names.alias,
            _id: m.id,
            routing: m.roomId,
            version: indexVersion(m),
            version_type: 'external',
          },
        },
        toDoc(m),
      );
    }
    let res: Awaited<ReturnType<Client['bulk']>>;
    try {
      res = await this.client.bulk({ operations, require_alias: true });
    } catch (err) {
      const reason = describe(err);
      if (err instanceof errors.ResponseError && err.statusCode === 400) {
        // The whole request was refused (e.g. one item's version is invalid): write each alone,
        // so only the poison item is rejected and the rest carry on.
        if (messages.length > 1) {
          return (await Promise.all(messages.map((m) => this.apply([m])))).flat();
        }
        return [{ outcome: 'rejected', reason }];
      }
      return messages.map(() => ({ outcome: 'retry', reason }));
    }
    return res.items.map((item): ApplyResult => {
      const r = item.index;
      if (!r) return { outcome: 'retry', reason: 'bulk answer without an index result' };
      if (r.status >= 200 && r.status < 300) return { outcome: 'applied' };
      if (r.status === 409) return { outcome: 'stale' };
      const reason = `${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`.trim();
      // 404: the alias is missing (require_alias) — the migration will bring it back.
      if (r.status === 429 || r.status === 404 || r.status >= 500) {
        return { outcome: 'retry', reason };
      }
      return { outcome: 'rejected', reason };
    });
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    if (req.roomIds.length === 0) return [];
    const base: estypes.SortCombinations[] = [{ ts: { order: 'desc' } }, { id: { order: 'desc' } }];
    try {
      const res = await this.client.search<MessageDoc>({
        index: this.names.alias,
        size: req.limit,
        track_total_hits: false,
        ...(req.roomIds.length <= ROUTING_MAX_ROOMS ? { routing: req.roomIds.join(',') } : {}),
        query: {
          bool: {
            must: [{ match: { body: { query: req.text, operator: 'and' } } }],
            filter: [{ terms: { roomId: [...req.roomIds] } }, { term: { deleted: false } }],
          },
        },
        sort: req.sort === 'relevance' ? ['_score', ...base] : base,
        ...(req.after ? { search_after: req.after } : {}),
        highlight: {
          pre_tags: [PRE],
          post_tags: [POST],
          // The whole body comes back marked; fragment() cuts it the same way the memory index does.
          fields: { body: { type: 'unified', number_of_fragments: 0 } },
        },
      });
      return res.hits.hits.flatMap((h) => {
        if (!h._source) return [];
        const message = toMessage(h._source);
        const marked = h.highlight?.body?.[0];
        return [
          {
            message,
            // A body that itself holds the marks can't be read back; mark it with the same analysis here.
            highlight: MARKS.test(message.body)
              ? highlight(message.body, new Set(queryTerms(req.text)))
              : fragment(message.body, marked ? matchRanges(marked) : []),
            sort: (h.sort ?? []) as SortValues,
          },
        ];
      });
    } catch (err) {
      if (err instanceof errors.ResponseError && err.statusCode === 400) {
        throw new ParleyError('bad_request', 'the search could not be run: check the query', {
          cause: err,
        });
      }
      throw new ParleyError('unavailable', `search is unavailable: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  async refresh(): Promise<void> {
    await this.client.indices.refresh({ index: this.names.alias });
  }

  async ping(): Promise<boolean> {
    try {
      return await this.client.ping();
    } catch {
      return false;
    }
  }

  /** Drops the versioned index and its alias (tests only). */
  async drop(): Promise<void> {
    await this.client.indices.delete({ index: this.names.index, ignore_unavailable: true });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function toDoc(m: Message): MessageDoc {
  return {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    senderId: m.senderId,
    body: m.deleted ? '' : m.body,
    ts: m.ts,
    clientMsgId: m.clientMsgId,
    ...(m.editedTs !== undefined ? { editedTs: m.editedTs } : {}),
    deleted: m.deleted === true,
  };
}

function toMessage(d: MessageDoc): Message {
  return {
    id: d.id,
    roomId: d.roomId,
    seq: d.seq,
    senderId: d.senderId,
    body: d.body,
    ts: d.ts,
    clientMsgId: d.clientMsgId,
    ...(d.editedTs !== undefined ? { editedTs: d.editedTs } : {}),
    ...(d.deleted ? { deleted: true } : {}),
  };
}

/** Offsets of the marked stretches of a highlighted body, in the unmarked body. */
export function matchRanges(marked: string): [number, number][] {
  const ranges: [number, number][] = [];
  let at = 0;
  let open: number | undefined;
  for (const ch of marked) {
    if (ch === PRE) open = at;
    else if (ch === POST && open !== undefined) {
      ranges.push([open, at]);
      open = undefined;
    } else at += ch.length;
  }
  return ranges;
}

function isAlreadyExists(err: unknown): boolean {
  return (
    err instanceof errors.ResponseError &&
    err.statusCode === 400 &&
    JSON.stringify(err.body ?? '').includes('resource_already_exists_exception')
  );
}

function describe(err: unknown): string {
  if (err instanceof errors.ResponseError) return `${err.statusCode} ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
