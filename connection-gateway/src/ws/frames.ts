/**
 * What the gateway does with each client frame: parse and validate, refuse
 * with an `error` frame (changing nothing) or act. Too many refusals in a row
 * close the socket (1008, or 1009 for oversized frames).
 *
 * Every frame spends its socket's and its user's budget, and `send`, `sync`,
 * `typing`/`read` their kind's (src/budgets.ts); what `sync` sends spends the
 * user's history bytes. Over a budget: `rate_limited` with `retryAfterMs`.
 */
import {
  createEvent,
  type EventSink,
  type Fanout,
  type ParleyEvent,
  roomChannel,
} from '@parley/eventing';
import {
  CLOSE_CODES,
  type ClientFrame,
  ClientFrameSchema,
  type ErrorCode,
  LIMITS,
  type Message,
  MessageBodySchema,
} from '@parley/protocol';
import { asParleyError, type Logger, type ServiceClient } from '@parley/runtime';
import { inSpan, SpanKind, tracingOn } from '@parley/runtime/tracing';
import type { Counter } from 'prom-client';
import type { BudgetKind, UserBudgets } from '../budgets';
import type { KeyedBuckets } from '../middleware/http-rate-limit';
import { readCommand } from '../reads';
import type { Session } from './session';

export interface FrameDeps {
  commands: EventSink;
  fanout: Fanout;
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  messages: ServiceClient;
  log: Logger;
  refused: Counter<'code'>;
  budgets: UserBudgets;
  /** One token per (user, room) per LIMITS.typingThrottleMs: a `typing` frame past it is dropped. */
  typing: KeyedBuckets;
  /** The user's read marker of a room as this gateway knows it (undefined: not known). */
  markerOf?: (userId: string, roomId: string) => number | undefined;
  /** Counts each frame handled by the `type` it names (ws/metrics.ts: `invalid` if none of the protocol's). */
  metrics?: { frameIn(type: string | undefined): void };
}

/** The budget each kind of frame spends on top of the frame budget. */
const KIND_BUDGET: Record<ClientFrame['type'], BudgetKind | undefined> = {
  send: 'send',
  sync: 'sync',
  typing: 'typingRead',
  read: 'typingRead',
  ping: undefined,
};
/**
 * A room of a `sync` is read only while this many history bytes are left (or the whole burst,
 * if smaller): reading a page of 200 messages to send none is the gateway's work for nothing.
 */
const SYNC_MIN_BYTES = 64 * 1024;
/** After the history bytes run out, a `sync` is told to wait until this much is there again. */
const SYNC_RETRY_BYTES = 256 * 1024;

/**
 * Sends of one socket on their way to Kafka at once. Past it a send is refused with
 * `rate_limited` (the broker is slow or away; the client retries with the same clientMsgId).
 * Above the per-user send burst, so a burst the budgets allow is never refused by it.
 */
export const SENDS_IN_FLIGHT_MAX = 500;
/** A resend of a send handed to the producer less than this long ago is not produced again. */
export const RESEND_ABSORB_MS = 10_000;

type Ref = string | number | undefined;

/** The CloudEvents source of what the gateway produces. */
const SOURCE = 'connection-gateway';

function refuse(s: Session, d: FrameDeps, code: ErrorCode, message: string, ref: Ref): void {
  d.refused.inc({ code });
  s.send(
    ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref },
  );
  if (!s.strike()) {
    const close = code === 'frame_too_large' ? CLOSE_CODES.tooLarge : CLOSE_CODES.policyViolation;
    s.close(close.code, 'too many refused frames');
  }
}

/**
 * Refuses a frame over a budget. Not a strike: a client flushing its outbox is
 * slow, not abusive, and `retryAfterMs` tells it when to send again. A client
 * that keeps sending into the refusal runs out of `rateLimitedStrike`s and is
 * closed (1008).
 */
function limited(s: Session, d: FrameDeps, message: string, ref: Ref, retryAfterMs: number): void {
  d.refused.inc({ code: 'rate_limited' });
  s.send({
    type: 'error',
    code: 'rate_limited',
    message,
    ...(ref === undefined ? {} : { ref }),
    retryAfterMs,
  });
  if (!s.rateLimitedStrike())
    s.close(CLOSE_CODES.policyViolation.code, 'kept sending over the rate limit');
}

/** The best `ref` to echo for a refused frame: its clientMsgId or ref, if it had one. */
function refOf(raw: unknown): Ref {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { clientMsgId?: unknown; ref?: unknown };
  if (typeof r.clientMsgId === 'string' && r.clientMsgId.length <= LIMITS.clientMsgIdMaxChars)
    return r.clientMsgId;
  if (typeof r.ref === 'string' && r.ref.length <= 64) return r.ref;
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would echo as null.
  if (typeof r.ref === 'number' && Number.isFinite(r.ref)) return r.ref;
  return undefined;
}

/** The `type` a parsed frame names, if a string (whether the protocol has it is the metric's to say). */
function typeOf(raw: unknown): string | undefined {
  const type =
    typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
}

/**
 * The ref and type of a frame refused before it is validated (over a budget): the ref tells the
 * client which to resend; the type is what the frame is counted as.
 */
function peek(data: string, byteLength: number): { ref: Ref; type: string | undefined } {
  if (byteLength > LIMITS.frameMaxBytes) return { ref: undefined, type: undefined };
  try {
    const raw: unknown = JSON.parse(data);
    return { ref: refOf(raw), type: typeOf(raw) };
  } catch {
    return { ref: undefined, type: undefined };
  }
}

export async function handleFrame(
  s: Session,
  data: string,
  byteLength: number,
  d: FrameDeps,
): Promise<void> {
  if (s.closed) return;
  // Every frame costs a token of its socket and one of its user, junk included,
  // before any other work. Memory stays bounded by the queue limit in server.ts.
  if (!s.bucket.take()) {
    const { ref, type } = peek(data, byteLength);
    d.metrics?.frameIn(type);
    return limited(s, d, 'too many frames on this socket; slow down', ref, s.bucket.msUntil(1));
  }
  const user = d.budgets.take(s.userId, 'frames');
  if (!user.ok) {
    const { ref, type } = peek(data, byteLength);
    d.metrics?.frameIn(type);
    return limited(s, d, 'too many frames from this user; slow down', ref, user.retryAfterMs);
  }
  if (byteLength > LIMITS.frameMaxBytes) {
    d.metrics?.frameIn(undefined);
    return refuse(
      s,
      d,
      'frame_too_large',
      `frames are limited to ${LIMITS.frameMaxBytes} bytes`,
      undefined,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    d.metrics?.frameIn(undefined);
    return refuse(s, d, 'malformed_frame', 'frame is not JSON', undefined);
  }
  d.metrics?.frameIn(typeOf(raw));
  const ref = refOf(raw);
  const parsed = ClientFrameSchema.safeParse(raw);
  if (!parsed.success) {
    const r = raw as { type?: unknown; body?: unknown };
    if (
      r?.type === 'send' &&
      typeof r.body === 'string' &&
      !MessageBodySchema.safeParse(r.body).success &&
      r.body.trim()
    ) {
      return refuse(
        s,
        d,
        'body_too_long',
        `body must be at most ${LIMITS.messageBodyMaxChars} characters`,
        ref,
      );
    }
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return refuse(s, d, 'malformed_frame', `${where}${issue?.message ?? 'invalid frame'}`, ref);
  }
  const frame = parsed.data;
  const kind = KIND_BUDGET[frame.type];
  if (kind) {
    const g = d.budgets.take(s.userId, kind);
    if (!g.ok) {
      const what = kind === 'typingRead' ? 'typing and read' : frame.type;
      return limited(s, d, `too many ${what} frames; slow down`, ref, g.retryAfterMs);
    }
  }
  try {
    switch (frame.type) {
      case 'ping':
        s.send(frame.ref === undefined ? { type: 'pong' } : { type: 'pong', ref: frame.ref });
        return;
      case 'send': {
        if (!(await d.isMember(frame.roomId, s.userId))) {
          return refuse(s, d, 'not_member', 'you are not a member of this room', frame.clientMsgId);
        }
        // A resend of a send still on its way is absorbed: its ack (or error) will come. Without
        // this, clients retrying on a timer while Kafka or message-write lags multiply the
        // backlog they are waiting on (a retry storm on the room's one ordered partition).
        const since = s.pendingSince(frame.clientMsgId, frame.roomId);
        if (since !== undefined && Date.now() - since < RESEND_ABSORB_MS) return;
        if (s.sendsInFlight >= SENDS_IN_FLIGHT_MAX) {
          // Kafka is slow or away: the client's retry will find room.
          return limited(
            s,
            d,
            `${SENDS_IN_FLIGHT_MAX} sends are still on their way to Kafka; retry shortly`,
            frame.clientMsgId,
            1_000,
          );
        }
        s.addPending(frame.clientMsgId, frame.roomId);
        const { clientMsgId, roomId } = frame;
        // Produced in frame order (the producer keeps call order) but not awaited here: a slow
        // or restarting broker must not hold this socket's pings, syncs and later sends behind
        // it. A send that cannot be produced gets its error frame (retrying is safe).
        s.sendsInFlight++;
        const produce = async () =>
          d.commands.emit(
            createEvent(
              'parley.message.send',
              { actorId: s.userId, roomId, clientMsgId, body: frame.body, acceptedTs: Date.now() },
              { source: SOURCE },
            ),
          );
        // A message's trace starts here: the event carries this span as its traceparent.
        (tracingOn()
          ? inSpan(
              'send',
              {
                kind: SpanKind.PRODUCER,
                attributes: {
                  'parley.room_id': roomId,
                  'parley.client_msg_id': clientMsgId,
                  'messaging.system': 'kafka',
                },
              },
              produce,
            )
          : produce()
        )
          .catch((err) => {
            const e = asParleyError(err);
            d.log.warn({ code: e.code, reason: e.message, frame: 'send' }, 'send not produced');
            d.refused.inc({ code: e.code });
            if (s.takePending(clientMsgId, roomId))
              s.send({ type: 'error', code: e.code, message: e.message, ref: clientMsgId });
          })
          .finally(() => {
            s.sendsInFlight--;
          });
        return;
      }
      case 'sync':
        return await sync(s, frame.rooms, d);
      case 'typing': {
        if (!(await d.isMember(frame.roomId, s.userId))) {
          return refuse(s, d, 'not_member', 'you are not a member of this room', undefined);
        }
        // Past the throttle: dropped without a word (the next one within the interval adds nothing).
        if (!d.typing.take(`${s.userId}\n${frame.roomId}`).ok) return;
        await d.fanout.publish(roomChannel(frame.roomId), {
          kind: 'typing',
          roomId: frame.roomId,
          userId: s.userId,
        });
        return;
      }
      case 'read':
        return await read(s, frame.roomId, frame.seq, d);
    }
  } catch (err) {
    const e = asParleyError(err);
    if (e.code === 'internal') d.log.error({ err, frame: frame.type }, 'frame failed');
    else d.log.warn({ code: e.code, frame: frame.type }, 'frame failed');
    // A failure on our side is not the client's abuse: no strike.
    d.refused.inc({ code: e.code });
    s.send(
      ref === undefined
        ? { type: 'error', code: e.code, message: e.message }
        : { type: 'error', code: e.code, message: e.message, ref },
    );
  }
}

/**
 * A `read` frame: a member, and a seq the room has (0 … its lastSeq), else refused (`not_member`,
 * `bad_request`), changing nothing. Produced to notify (keyed by user), which raises the stored
 * marker and tells the user's sockets (`unread`) and the room (`read`). Not awaited, like a send:
 * a slow broker must not hold the socket's other frames.
 */
async function read(s: Session, roomId: string, seq: number, d: FrameDeps): Promise<void> {
  let event: ParleyEvent | null;
  try {
    // A seq at or below the marker known here is dropped: a repeated read costs no query or record.
    event = await readCommand(d, s.userId, roomId, seq, SOURCE, d.markerOf?.(s.userId, roomId));
  } catch (err) {
    const e = asParleyError(err);
    if (e.code !== 'not_member' && e.code !== 'bad_request') throw err;
    return refuse(s, d, e.code, e.message, undefined);
  }
  if (!event) return;
  d.commands.emit(event).catch((err) => {
    const e = asParleyError(err);
    d.log.warn({ code: e.code, reason: e.message, frame: 'read' }, 'read not produced');
    d.refused.inc({ code: e.code });
    s.send({ type: 'error', code: e.code, message: e.message });
  });
}

/**
 * Answers every room of a `sync` once: with a `sync` frame, or with an `error`
 * whose ref is the room id — `not_member`, or `rate_limited` once the user's
 * history bytes are spent. The room where they run out gets the messages that
 * fit and `complete: false` (never a cut page labelled complete); the rooms
 * after it are not even read, nor is any room while less than SYNC_MIN_BYTES
 * is left. One strike for rooms the user is not in, one
 * `rate_limited` count for rooms refused for bytes, per frame.
 */
async function sync(s: Session, rooms: Record<string, number>, d: FrameDeps): Promise<void> {
  let notMember = 0;
  let overBudget = 0;
  /** Set once the bytes are spent: how long the rooms from there on are told to wait. */
  let waitMs: number | undefined;
  const outOfBytes = (roomId: string, retryAfterMs: number) => {
    overBudget++;
    d.refused.inc({ code: 'rate_limited' });
    s.send({
      type: 'error',
      code: 'rate_limited',
      message: `room ${roomId} not synced: too much history too fast; sync it again later`,
      ref: roomId,
      retryAfterMs,
    });
  };
  for (const [roomId, lastSeq] of Object.entries(rooms)) {
    if (s.closed) return;
    if (waitMs === undefined && d.budgets.msUntilBytes(s.userId, SYNC_MIN_BYTES) > 0)
      waitMs = d.budgets.msUntilBytes(s.userId, SYNC_RETRY_BYTES);
    // Once out of bytes, the rest is refused without looking anything up (membership included).
    if (waitMs !== undefined) {
      outOfBytes(roomId, waitMs);
      continue;
    }
    if (!(await d.isMember(roomId, s.userId))) {
      // A client may list rooms it left on another device: one error per room, one strike per frame.
      notMember++;
      d.refused.inc({ code: 'not_member' });
      s.send({
        type: 'error',
        code: 'not_member',
        message: `you are not a member of room ${roomId}`,
        ref: roomId,
      });
      continue;
    }
    const page = await d.messages.getJson<{ messages: Message[]; hasMore: boolean }>(
      `/internal/rooms/${encodeURIComponent(roomId)}/messages?after=${lastSeq}&limit=${LIMITS.syncMessagesMax}`,
    );
    if (s.closed) return;
    const sent = sendSyncWithinBudget(s, d, roomId, page?.messages ?? [], page?.hasMore ?? false);
    if (sent === 'all') continue;
    waitMs = d.budgets.msUntilBytes(s.userId, SYNC_RETRY_BYTES);
    if (sent === 'none') outOfBytes(roomId, waitMs);
  }
  if (notMember > 0 && !s.strike())
    s.close(CLOSE_CODES.policyViolation.code, 'too many refused frames');
  else if (overBudget > 0 && !s.rateLimitedStrike())
    s.close(CLOSE_CODES.policyViolation.code, 'kept sending over the rate limit');
}

/**
 * Sends the `sync` frame of one room if it fits in the user's history bytes,
 * else the longest prefix of its messages that does, with `complete: false`.
 * The frame is serialized once, from its messages, so what is measured is
 * exactly what is sent. 'none' when not even the first message fits.
 */
function sendSyncWithinBudget(
  s: Session,
  d: FrameDeps,
  roomId: string,
  messages: Message[],
  hasMore: boolean,
): 'all' | 'part' | 'none' {
  const budget = d.budgets.bytesAvailable(s.userId);
  const head = `{"type":"sync","roomId":${JSON.stringify(roomId)},"messages":[`;
  const tail = (complete: boolean) => `],"complete":${complete}}`;
  let bytes = Buffer.byteLength(head) + Buffer.byteLength(tail(false));
  const parts: string[] = [];
  for (const m of messages) {
    const part = JSON.stringify(m);
    const more = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    if (bytes + more > budget) break;
    bytes += more;
    parts.push(part);
  }
  if (bytes > budget || (parts.length === 0 && messages.length > 0)) return 'none';
  const all = parts.length === messages.length;
  const text = head + parts.join(',') + tail(all && !hasMore);
  if (s.sendText(text, 'sync')) d.budgets.spendBytes(s.userId, Buffer.byteLength(text));
  return all ? 'all' : 'part';
}
