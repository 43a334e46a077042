/**
 * Message search as the client runs it, framework-agnostic like the chat
 * store (an immutable state and one listener): typing is debounced, Enter
 * searches at once, a newer search supersedes an answer still on its way,
 * "more results" follows the server's cursor, and a refused query becomes
 * words for the person.
 */
import { LIMITS } from '@parley/protocol/limits';
import { type ApiClient, ApiError, type SearchHit, type SearchSort } from './api';
import type { Timers } from './connection';
import { errorText } from './error-text';

/** What to search: the text, one room (null = every room of the person) and the order. */
export interface SearchRequest {
  q: string;
  roomId: string | null;
  sort: SearchSort;
}

export interface SearchState {
  /** The search the hits answer (or will, while `loading`); null = none. */
  request: SearchRequest | null;
  hits: readonly SearchHit[];
  /** Present when the server may have more: "More results". */
  nextCursor: string | null;
  /** The first page is on its way. */
  loading: boolean;
  loadingMore: boolean;
  /** Why the search (or its next page) failed, for the person. */
  error: string | null;
}

/** Typing waits this long for a pause before it searches. */
export const SEARCH_DEBOUNCE_MS = 300;

export const idleSearch: SearchState = {
  request: null,
  hits: [],
  nextCursor: null,
  loading: false,
  loadingMore: false,
  error: null,
};

const refused = (reason: string) => `That search can’t be run: ${reason}.`;

/** What the person can do about a failed search; a refused query (400) keeps the server's reason. */
export function searchErrorText(err: unknown): string {
  if (err instanceof ApiError && err.code === 'bad_request' && err.status !== 0) {
    // The server names the parameter ("q has no words…"); the person typed a search, not a "q".
    const reason = err.message.replace(/^q\b/, 'it').replace(/[.\s]+$/, '');
    return refused(reason);
  }
  return errorText(err);
}

/** A query the server would refuse for its length, said without asking it; null = fine. */
export function searchQueryProblem(q: string): string | null {
  return q.trim().length > LIMITS.searchQueryMaxChars
    ? refused(`it must be at most ${LIMITS.searchQueryMaxChars} characters`)
    : null;
}

const sameHit = (a: SearchHit, b: SearchHit) =>
  a.message.body === b.message.body &&
  a.message.editedTs === b.message.editedTs &&
  a.message.deleted === b.message.deleted &&
  a.highlight.length === b.highlight.length &&
  a.highlight.every((s, i) => s.text === b.highlight[i]?.text && s.match === b.highlight[i]?.match);

const sameRequest = (a: SearchRequest | null, b: SearchRequest) =>
  !!a && a.q === b.q && a.roomId === b.roomId && a.sort === b.sort;

export interface MessageSearchOptions {
  api: Pick<ApiClient, 'search'>;
  onChange: (s: SearchState) => void;
  timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  debounceMs?: number;
  pageSize?: number;
}

export class MessageSearch {
  private current: SearchState = idleSearch;
  /** Bumped by every new search (and clear): answers to an older one are dropped. */
  private generation = 0;
  private timer: unknown = null;
  private readonly timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly opts: MessageSearchOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
    };
  }

  get state(): SearchState {
    return this.current;
  }

  /** The text changed: search after a pause in typing; an empty text clears the results. */
  type(req: SearchRequest): void {
    this.cancelTimer();
    if (!req.q.trim()) {
      this.clear();
      return;
    }
    // Typing the same text back (or a space) does not search again.
    if (sameRequest(this.current.request, { ...req, q: req.q.trim() }) && !this.current.error) {
      return;
    }
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.submit(req);
    }, this.opts.debounceMs ?? SEARCH_DEBOUNCE_MS);
  }

  /** Searches now (Enter, or another room or order), the same query again included. */
  submit(req: SearchRequest): void {
    this.cancelTimer();
    const q = req.q.trim();
    if (!q) {
      this.clear();
      return;
    }
    const request = { ...req, q };
    const gen = ++this.generation;
    const problem = searchQueryProblem(q);
    if (problem) {
      this.set({ ...idleSearch, request, error: problem });
      return;
    }
    // The previous hits stay on screen until the answer replaces them, unless they answer another search.
    const keep = sameRequest(this.current.request, request);
    this.set({
      ...idleSearch,
      request,
      hits: keep ? this.current.hits : [],
      nextCursor: keep ? this.current.nextCursor : null,
      loading: true,
    });
    void this.fetch(gen, request, undefined);
  }

  /** The next page of the current search. */
  more(): void {
    const s = this.current;
    if (!s.request || !s.nextCursor || s.loading || s.loadingMore) return;
    this.set({ loadingMore: true, error: null });
    void this.fetch(this.generation, s.request, s.nextCursor);
  }

  clear(): void {
    this.cancelTimer();
    this.generation++;
    if (this.current !== idleSearch) this.set(idleSearch);
  }

  /** Stops the debounce timer (the view is going away). */
  dispose(): void {
    this.cancelTimer();
    this.generation++;
  }

  private async fetch(gen: number, request: SearchRequest, cursor: string | undefined) {
    try {
      const page = await this.opts.api.search({
        q: request.q,
        ...(request.roomId ? { roomId: request.roomId } : {}),
        sort: request.sort,
        ...(this.opts.pageSize ? { limit: this.opts.pageSize } : {}),
        ...(cursor ? { cursor } : {}),
      });
      if (gen !== this.generation) return;
      const before = cursor ? this.current.hits : [];
      const seen = new Set(before.map((h) => h.message.id));
      // The same hit as shown keeps its object: the view keeps its element (and the focus on it).
      const shown = new Map(this.current.hits.map((h) => [h.message.id, h]));
      const fresh = page.hits
        .filter((h) => !seen.has(h.message.id))
        .map((h) => {
          const had = shown.get(h.message.id);
          return had && sameHit(had, h) ? had : h;
        });
      this.set({
        hits: [...before, ...fresh],
        nextCursor: page.nextCursor ?? null,
        loading: false,
        loadingMore: false,
        error: null,
      });
    } catch (err) {
      if (gen !== this.generation) return;
      // A failed first page shows no stale hits; a failed next page keeps the ones shown.
      this.set({
        ...(cursor ? {} : { hits: [], nextCursor: null }),
        loading: false,
        loadingMore: false,
        error: searchErrorText(err),
      });
    }
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private set(patch: Partial<SearchState>): void {
    this.current = { ...this.current, ...patch };
    this.opts.onChange(this.current);
  }
}

export interface Snippet {
  /** The body, or the fragment of it the server chose, as text pieces; `match` = found by the query. */
  segments: ReadonlyArray<{ text: string; match: boolean }>;
  /** The fragment starts after the body's start / ends before its end (show "…"). */
  cut: { start: boolean; end: boolean };
}

/** What a hit shows: its highlight, or the plain body when the server sent none. */
export function snippetOf(hit: SearchHit): Snippet {
  const body = hit.message.body;
  const segments = hit.highlight.length > 0 ? hit.highlight : [{ text: body, match: false }];
  const text = segments.map((s) => s.text).join('');
  const at = body.indexOf(text);
  if (at < 0) return { segments, cut: { start: false, end: false } };
  return { segments, cut: { start: at > 0, end: at + text.length < body.length } };
}
