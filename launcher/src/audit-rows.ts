/**
 * The checks of a room's stored messages alone (MySQL, the durable copy):
 * exactly once, gap-free seqs, per-sender order. Pure: the rows come from
 * audit-mysql.ts, the findings go to the report.
 *
 * What the write path promises (stores/message-store): a send is stored
 * once per (roomId, senderId, clientMsgId) — a unique key backs it; the seq
 * is `room_seq.last_seq + 1`, taken under the counter row's lock in the same
 * transaction as the insert, so a rolled-back append gives its seq back. A
 * hole is therefore never legitimate, and `last_seq` always equals the
 * newest stored seq.
 */
import type { Message } from '@parley/protocol';
import { describeRanges, type Findings, rangeCount, type SeqRange, seqsOf } from './audit-findings';

/** One room as read in one consistent snapshot. */
export interface StoredRoom {
  roomId: string;
  /** Ascending by seq. */
  messages: Message[];
  /** `room_seq.last_seq`; undefined when the room has no counter row. */
  counter: number | undefined;
}

/** Per room and sender: the clientMsgIds acknowledged to that sender, in the order they were sent. */
export type ExpectedOrder = Record<string, Record<string, string[]>>;

/** No two messages of a room share (senderId, clientMsgId). */
export function checkExactlyOnce(room: StoredRoom, out: Findings): void {
  const byKey = new Map<string, Message[]>();
  for (const m of room.messages) {
    const key = `${m.senderId}\u0000${m.clientMsgId}`;
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  for (const copies of byKey.values()) {
    if (copies.length < 2) continue;
    const first = copies[0] as Message;
    out.fail({
      check: 'exactly-once',
      problem: 'duplicate',
      roomId: room.roomId,
      message: `sender ${first.senderId}'s clientMsgId ${first.clientMsgId} is stored ${copies.length} times (seqs ${copies.map((m) => m.seq).join(', ')})`,
      ids: copies.map((m) => m.id),
      seqs: copies.map((m) => m.seq),
      detail: { senderId: first.senderId, clientMsgId: first.clientMsgId },
    });
  }
}

/** The room's seqs are exactly 1..N, and its counter says N. */
export function checkSeqs(room: StoredRoom, out: Findings): void {
  const { roomId, messages, counter } = room;
  const ids = new Map<number, string[]>();
  for (const m of messages) ids.set(m.seq, [...(ids.get(m.seq) ?? []), m.id]);
  const seqs = [...ids.keys()].sort((a, b) => a - b);
  const newest = seqs.length ? (seqs[seqs.length - 1] as number) : 0;

  const invalid = seqs.filter((s) => s < 1);
  if (invalid.length) {
    out.fail({
      check: 'seq',
      problem: 'invalid',
      roomId,
      message: `seqs below 1: ${invalid.join(', ')}`,
      seqs: invalid,
      ids: invalid.flatMap((s) => ids.get(s) ?? []),
    });
  }
  for (const [seq, holders] of ids) {
    if (holders.length < 2) continue;
    out.fail({
      check: 'seq',
      problem: 'duplicate',
      roomId,
      message: `seq ${seq} is held by ${holders.length} messages`,
      seqs: [seq],
      ids: holders,
    });
  }

  // Holes up to the newest stored seq or the counter, whichever is higher:
  // a counter ahead of the rows means its last seqs were never stored.
  const top = Math.max(newest, counter ?? 0);
  const missing: SeqRange[] = [];
  let expected = 1;
  for (const s of seqs) {
    if (s < 1) continue;
    if (s > expected) missing.push({ from: expected, to: s - 1 });
    expected = s + 1;
  }
  if (top >= expected) missing.push({ from: expected, to: top });
  if (missing.length) {
    const count = rangeCount(missing);
    const why =
      counter !== undefined && counter > newest
        ? ` (room_seq.last_seq is ${counter}, the newest stored seq ${newest})`
        : '';
    out.fail({
      check: 'seq',
      problem: 'hole',
      roomId,
      message: `seq${count === 1 ? '' : 's'} ${describeRanges(missing)} missing${why}`,
      seqs: seqsOf(missing),
      detail: { missing: missing.slice(0, 100), count, counter: counter ?? null, newest },
    });
  }

  if (counter === undefined && messages.length) {
    out.fail({
      check: 'seq',
      problem: 'no-counter',
      roomId,
      message: `${messages.length} messages but no room_seq row: the next send would take seq 1 again`,
      detail: { newest },
    });
  } else if (counter !== undefined && counter < newest) {
    // The next append takes counter+1, a seq already stored: its insert fails
    // on the primary key, so every later send of the room would fail.
    out.fail({
      check: 'seq',
      problem: 'counter-behind',
      roomId,
      message: `room_seq.last_seq is ${counter} but seq ${newest} is stored: the next send would collide`,
      seqs: [newest],
      detail: { counter, newest },
    });
  }
}

/**
 * With the acknowledged sends: each is stored (once — duplicates are the
 * exactly-once check's), in send order. Without them: ts along seq per
 * sender, as a warning only — the stored `ts` is message-write's clock just
 * before the seq is taken (the gateway's acceptedTs is not stored), so an
 * inversion can be a clock step between writers, not a reorder.
 */
export function checkSenderOrder(
  room: StoredRoom,
  expected: Record<string, string[]> | undefined,
  out: Findings,
): void {
  const { roomId, messages } = room;
  if (!expected) {
    const lastOf = new Map<string, Message>();
    for (const m of messages) {
      const prev = lastOf.get(m.senderId);
      if (prev && m.ts < prev.ts) {
        out.warn({
          check: 'sender-order',
          problem: 'ts-inversion',
          roomId,
          message: `sender ${m.senderId}: seq ${m.seq} has ts ${m.ts}, before seq ${prev.seq}'s ${prev.ts}`,
          ids: [prev.id, m.id],
          seqs: [prev.seq, m.seq],
          detail: { senderId: m.senderId },
        });
      }
      lastOf.set(m.senderId, m);
    }
    return;
  }
  for (const [senderId, clientMsgIds] of Object.entries(expected)) {
    const stored = new Map<string, Message>();
    for (const m of messages) {
      if (m.senderId !== senderId) continue;
      const seen = stored.get(m.clientMsgId);
      if (!seen || m.seq < seen.seq) stored.set(m.clientMsgId, m);
    }
    const notStored = clientMsgIds.filter((c) => !stored.has(c));
    if (notStored.length) {
      out.fail({
        check: 'sender-order',
        problem: 'not-stored',
        roomId,
        message: `sender ${senderId}: ${notStored.length} acknowledged clientMsgId(s) not stored: ${notStored.slice(0, 20).join(', ')}`,
        detail: { senderId, clientMsgIds: notStored },
      });
    }
    let prev: Message | undefined;
    for (const c of clientMsgIds) {
      const m = stored.get(c);
      if (!m) continue;
      if (prev && m.seq <= prev.seq) {
        out.fail({
          check: 'sender-order',
          problem: 'out-of-order',
          roomId,
          message: `sender ${senderId}: ${c} (seq ${m.seq}) was sent after ${prev.clientMsgId} (seq ${prev.seq})`,
          ids: [prev.id, m.id],
          seqs: [prev.seq, m.seq],
          detail: { senderId, clientMsgIds: [prev.clientMsgId, c] },
        });
      }
      prev = m;
    }
    const acknowledged = new Set(clientMsgIds);
    const unacknowledged = [...stored.values()].filter((m) => !acknowledged.has(m.clientMsgId));
    if (unacknowledged.length) {
      // Stored but never acknowledged: a send whose ack was lost. Legitimate, worth seeing.
      out.warn({
        check: 'sender-order',
        problem: 'unacknowledged',
        roomId,
        message: `sender ${senderId}: ${unacknowledged.length} stored message(s) not in the acknowledged list`,
        ids: unacknowledged.map((m) => m.id),
        seqs: unacknowledged.map((m) => m.seq),
        detail: { senderId, clientMsgIds: unacknowledged.map((m) => m.clientMsgId) },
      });
    }
  }
}

/** A message id must name one message: across every audited room too. */
export function checkUniqueIds(
  rooms: Iterable<StoredRoom>,
  seen: Map<string, string>,
  out: Findings,
): void {
  for (const room of rooms) {
    for (const m of room.messages) {
      const other = seen.get(m.id);
      if (other !== undefined) {
        out.fail({
          check: 'exactly-once',
          problem: 'duplicate-id',
          roomId: room.roomId,
          message: `message id ${m.id} (seq ${m.seq}) is stored twice (also in room ${other})`,
          ids: [m.id],
          seqs: [m.seq],
          detail: { otherRoomId: other },
        });
      } else seen.set(m.id, room.roomId);
    }
  }
}
