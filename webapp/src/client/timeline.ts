/**
 * One room's messages as the client knows them, as pure functions over an
 * immutable value (unchanged messages keep their identity, so a UI keyed by
 * reference re-renders only what changed).
 *
 * Confirmed messages are sorted by seq and unique by id and by
 * (senderId, clientMsgId); pending ones are this client's sends awaiting
 * their ack, kept in send order after the confirmed ones. Whatever way a sent
 * message comes back — ack, echo, sync, history — it replaces its pending
 * entry, so it is never shown twice.
 */
import type { Message } from '@parley/protocol';

export type PendingStatus = 'pending' | 'failed';

/** A message this client sent that the server has not confirmed yet. */
export interface PendingMessage {
  clientMsgId: string;
  roomId: string;
  senderId: string;
  body: string;
  /** When it was sent, by this client's clock. */
  ts: number;
  status: PendingStatus;
  /** Why it failed, when the server said. */
  error?: string;
}

export interface Timeline {
  roomId: string;
  /** Confirmed, ascending by seq, no duplicates. */
  messages: readonly Message[];
  pending: readonly PendingMessage[];
  /** The history holds messages before the first one we have. */
  hasOlder: boolean;
  /** The latest history page has arrived: seq continuity is known from here on. */
  loaded: boolean;
}

/** What a timeline shows: confirmed messages, then pending ones. */
export type TimelineEntry = Message | PendingMessage;

export const isPending = (e: TimelineEntry): e is PendingMessage => 'status' in e;

export interface Applied {
  timeline: Timeline;
  /** A seq is missing before the newest message: the caller must `sync` from `lastSeq`. */
  gap: boolean;
}

export function emptyTimeline(roomId: string): Timeline {
  return { roomId, messages: [], pending: [], hasOlder: false, loaded: false };
}

/**
 * The seq up to which this client has every message without a hole: where a
 * `sync` must resume. 0 for a room without messages.
 */
export function lastSeq(t: Timeline): number {
  const ms = t.messages;
  if (ms.length === 0) return 0;
  let end = (ms[0] as Message).seq;
  for (let i = 1; i < ms.length; i++) {
    const seq = (ms[i] as Message).seq;
    if (seq !== end + 1) break;
    end = seq;
  }
  return end;
}

/** The highest seq known, hole or not. */
export function maxSeq(t: Timeline): number {
  return t.messages.at(-1)?.seq ?? 0;
}

export const hasOlder = (t: Timeline): boolean => t.hasOlder && (t.messages[0]?.seq ?? 0) > 1;

export function entries(t: Timeline): TimelineEntry[] {
  return [...t.messages, ...t.pending];
}

const sameSend = (a: { senderId: string; clientMsgId: string }, b: typeof a) =>
  a.clientMsgId === b.clientMsgId && a.senderId === b.senderId;

/** Merges confirmed messages in; drops the pending entries they confirm. */
function merge(t: Timeline, incoming: readonly Message[]): Timeline {
  if (incoming.length === 0) return t;
  const byId = new Map<string, Message>();
  for (const m of t.messages) byId.set(m.id, m);
  let changed = false;
  for (const m of incoming) {
    const have = byId.get(m.id);
    // A later edit or deletion replaces what we had; the same message again changes nothing.
    if (have && (have.editedTs ?? 0) >= (m.editedTs ?? 0) && !!have.deleted === !!m.deleted) {
      continue;
    }
    if (!have) {
      // The same send stored under another id cannot happen on a correct server; keep the first.
      const dup = t.messages.find((x) => sameSend(x, m));
      if (dup) continue;
    }
    byId.set(m.id, m);
    changed = true;
  }
  const pending = t.pending.filter((p) => !incoming.some((m) => sameSend(m, p)));
  if (!changed && pending.length === t.pending.length) return t;
  const messages = changed ? [...byId.values()].sort((a, b) => a.seq - b.seq) : t.messages;
  return { ...t, messages, pending };
}

const withGap = (t: Timeline): Applied => ({
  timeline: t,
  gap: t.loaded && lastSeq(t) < maxSeq(t),
});

/** A live `message` frame (or a `sync` answer's message). */
export function applyMessage(t: Timeline, m: Message): Applied {
  return withGap(merge(t, [m]));
}

/** Several confirmed messages at once (a `sync` answer). */
export function applyMessages(t: Timeline, ms: readonly Message[]): Applied {
  return withGap(merge(t, ms));
}

export interface Ack {
  clientMsgId: string;
  id: string;
  seq: number;
  ts: number;
}

/** The server stored our pending send: it becomes a confirmed message. */
export function applyAck(t: Timeline, ack: Ack): Applied {
  const p = t.pending.find((x) => x.clientMsgId === ack.clientMsgId);
  // Already confirmed by an echo or a sync: nothing to do.
  if (!p) return { timeline: t, gap: false };
  const m: Message = {
    id: ack.id,
    roomId: t.roomId,
    seq: ack.seq,
    senderId: p.senderId,
    body: p.body,
    ts: ack.ts,
    clientMsgId: p.clientMsgId,
  };
  return withGap(merge(t, [m]));
}

export interface HistoryPage {
  messages: readonly Message[];
  hasMore: boolean;
}

/**
 * A history page. 'older' = the latest page or a `before` page: `hasMore`
 * says whether older ones exist. 'newer' = an `after` page: it says nothing
 * about older history.
 */
export function applyHistory(
  t: Timeline,
  page: HistoryPage,
  direction: 'older' | 'newer',
): Applied {
  const merged = merge(t, page.messages);
  const next: Timeline = {
    ...merged,
    loaded: true,
    hasOlder: direction === 'older' ? page.hasMore : merged.hasOlder,
  };
  return withGap(next);
}

export function addPending(t: Timeline, p: PendingMessage): Timeline {
  if (t.pending.some((x) => x.clientMsgId === p.clientMsgId)) return t;
  return { ...t, pending: [...t.pending, p] };
}

/** Sets a pending entry's status (failed after a timeout or a refusal; pending again on retry). */
export function setPendingStatus(
  t: Timeline,
  clientMsgId: string,
  status: PendingStatus,
  error?: string,
): Timeline {
  const i = t.pending.findIndex((x) => x.clientMsgId === clientMsgId);
  const p = t.pending[i];
  if (!p || (p.status === status && p.error === error)) return t;
  const next: PendingMessage = { ...p, status };
  if (error === undefined) delete next.error;
  else next.error = error;
  const pending = [...t.pending];
  pending[i] = next;
  return { ...t, pending };
}

export function findPending(t: Timeline, clientMsgId: string): PendingMessage | undefined {
  return t.pending.find((x) => x.clientMsgId === clientMsgId);
}

/** Whether the timeline holds the confirmed message `seq`. */
export function hasSeq(t: Timeline, seq: number): boolean {
  const ms = t.messages;
  let lo = 0;
  let hi = ms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = (ms[mid] as Message).seq;
    if (s === seq) return true;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * What it takes for a loaded timeline to hold message `seq` (to open a room
 * at a message): nothing; an older page, `before` the first message held and
 * just long enough to reach it with `context` messages above it (at most
 * `pageMax`), so the timeline stays one continuous run; messages newer than
 * what it holds, which the live stream or a `sync` brings; or nothing can
 * (older than the room's first message).
 */
export type Reach =
  | { kind: 'present' }
  | { kind: 'older'; before: number; limit: number }
  | { kind: 'newer' }
  | { kind: 'missing' };

export function reach(t: Timeline, seq: number, pageMax: number, context = 0): Reach {
  if (hasSeq(t, seq)) return { kind: 'present' };
  const first = t.messages[0];
  // Past the newest message held, or in a hole a `sync` is filling.
  if (!first || seq > lastSeq(t)) return { kind: 'newer' };
  if (seq < first.seq && hasOlder(t)) {
    const limit = Math.max(1, Math.min(pageMax, first.seq - seq + context));
    return { kind: 'older', before: first.seq, limit };
  }
  return { kind: 'missing' };
}
