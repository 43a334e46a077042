/**
 * The message store port: the durable copy of every message, ordered per room
 * by a gap-free seq (1, 2, 3, ...). Adapters: `message-store.memory.ts`
 * (embedded mode) and `message-store.mysql.ts` (sharded by room id); both pass
 * `message-store.contract.ts`.
 */
import type { Message } from '@parley/protocol';

export interface AppendInput {
  /** The new message's id (`newId('m')`); unused when the send was already stored. */
  id: string;
  roomId: string;
  senderId: string;
  clientMsgId: string;
  body: string;
  ts: number;
}

export interface AppendResult {
  /** The stored message: the new one, or the one a previous attempt stored. */
  message: Message;
  /** false when (roomId, senderId, clientMsgId) was already stored (a retry). */
  created: boolean;
}

/**
 * One input's answer from `appendMany`, in the shape of `Promise.allSettled`:
 * its AppendResult, or the error that failed it (a ParleyError: `conflict`
 * for a message id that is taken, `unavailable` when its shard failed).
 */
export type AppendOutcome = PromiseSettledResult<AppendResult>;

/**
 * A history window. `before` and `after` are seqs (exclusive); without either,
 * the latest page. At most one of them is set.
 */
export interface PageQuery {
  before?: number;
  after?: number;
  limit: number;
}

export interface Page {
  /** Ascending by seq. */
  messages: Message[];
  /** before / latest: older messages exist; after: newer messages exist. */
  hasMore: boolean;
}

export interface RoomSummary {
  /** 0 for a room without messages. */
  lastSeq: number;
  lastMessage?: Message;
}

export interface MessageStore {
  /**
   * Stores a message with the room's next seq, idempotently.
   *
   * The idempotency key is (roomId, senderId, clientMsgId), not (roomId,
   * clientMsgId): clientMsgIds are chosen by clients, so one user must not be
   * able to "claim" another user's clientMsgId and swallow their message.
   * @example const { message, created } = await store.append({ id: newId('m'), roomId, senderId, clientMsgId, body, ts: Date.now() });
   */
  append(input: AppendInput): Promise<AppendResult>;
  /**
   * Stores many messages at once (a group commit), with exactly the semantics
   * of appending them one after the other in input order: each room's new
   * messages take its next seqs in input order, gap-free; an input whose
   * (roomId, senderId, clientMsgId) is already stored — or appears earlier in
   * the same batch — stores nothing and answers `created: false` with that
   * message. Answers one outcome per input, in input order, and never rejects
   * as a whole: an input refused on its own (a taken message id) fails alone,
   * and a shard that fails fails only the inputs of its rooms. An input that
   * failed stored nothing.
   * @example const outcomes = await store.appendMany(inputs); // outcomes[i] answers inputs[i]
   */
  appendMany(inputs: readonly AppendInput[]): Promise<AppendOutcome[]>;
  /** The message a sender stored under a clientMsgId, if any. */
  find(roomId: string, senderId: string, clientMsgId: string): Promise<Message | undefined>;
  /** One page of a room's history; see PageQuery. */
  page(roomId: string, query: PageQuery): Promise<Page>;
  /** The room's last seq; 0 when it has no messages. */
  lastSeq(roomId: string): Promise<number>;
  /** Last seq and last message of each room asked for (every id gets an entry). */
  summaries(roomIds: readonly string[]): Promise<Map<string, RoomSummary>>;
  close?(): Promise<void>;
}

/**
 * Selects a page from one room's messages, ascending by seq — the reference
 * semantics of `page()`, used by the memory adapter.
 */
export function selectPage(ascending: readonly Message[], query: PageQuery): Page {
  const { before, after, limit } = query;
  if (after !== undefined) {
    const newer = ascending.filter((m) => m.seq > after);
    return { messages: newer.slice(0, limit), hasMore: newer.length > limit };
  }
  const older = before === undefined ? ascending : ascending.filter((m) => m.seq < before);
  return {
    messages: older.slice(Math.max(0, older.length - limit)),
    hasMore: older.length > limit,
  };
}
