/**
 * What the gateway does with each client frame: parse and validate, refuse
 * with an `error` frame (changing nothing) or act. Too many refusals in a row
 * close the socket (1008, or 1009 for oversized frames).
 */
import { createEvent, type EventSink, type Fanout, roomChannel } from '@parley/eventing';
import {
  CLOSE_CODES,
  ClientFrameSchema,
  type ErrorCode,
  LIMITS,
  type Message,
  MessageBodySchema,
} from '@parley/protocol';
import { asParleyError, type Logger, type ServiceClient } from '@parley/runtime';
import type { Counter } from 'prom-client';
import type { Session } from './session';

export interface FrameDeps {
  commands: EventSink;
  fanout: Fanout;
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  messages: ServiceClient;
  log: Logger;
  refused: Counter<'code'>;
}

type Ref = string | number | undefined;

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

/** The best `ref` to echo for a refused frame: its clientMsgId or ref, if it had one. */
function refOf(raw: unknown): Ref {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { clientMsgId?: unknown; ref?: unknown };
  if (typeof r.clientMsgId === 'string' && r.clientMsgId.length <= LIMITS.clientMsgIdMaxChars)
    return r.clientMsgId;
  if (typeof r.ref === 'string' && r.ref.length <= 64) return r.ref;
  if (typeof r.ref === 'number') return r.ref;
  return undefined;
}

export async function handleFrame(
  s: Session,
  data: string,
  byteLength: number,
  d: FrameDeps,
): Promise<void> {
  if (s.closed) return;
  // Every frame costs a token, junk included, before any other work.
  if (!s.bucket.take()) {
    // Not a strike: a client flushing an outbox is slow, not abusive. Memory
    // stays bounded by the queue limit in server.ts.
    d.refused.inc({ code: 'rate_limited' });
    s.send({ type: 'error', code: 'rate_limited', message: 'too many frames; slow down' });
    return;
  }
  if (byteLength > LIMITS.frameMaxBytes) {
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
    return refuse(s, d, 'malformed_frame', 'frame is not JSON', undefined);
  }
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
  try {
    switch (frame.type) {
      case 'ping':
        s.send(frame.ref === undefined ? { type: 'pong' } : { type: 'pong', ref: frame.ref });
        return;
      case 'send': {
        if (!(await d.isMember(frame.roomId, s.userId))) {
          return refuse(s, d, 'not_member', 'you are not a member of this room', frame.clientMsgId);
        }
        s.addPending(frame.clientMsgId, frame.roomId);
        try {
          await d.commands.emit(
            createEvent(
              'parley.message.send',
              {
                actorId: s.userId,
                roomId: frame.roomId,
                clientMsgId: frame.clientMsgId,
                body: frame.body,
                acceptedTs: Date.now(),
              },
              { source: 'connection-gateway' },
            ),
          );
        } catch (err) {
          s.takePending(frame.clientMsgId, frame.roomId);
          throw err;
        }
        return;
      }
      case 'sync': {
        let refusedRooms = 0;
        for (const [roomId, lastSeq] of Object.entries(frame.rooms)) {
          if (s.closed) return;
          if (!(await d.isMember(roomId, s.userId))) {
            // One error per room (ref = the room id), but one strike for the frame:
            // a client may list rooms it left on another device.
            refusedRooms++;
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
          s.send({
            type: 'sync',
            roomId,
            messages: page?.messages ?? [],
            complete: !(page?.hasMore ?? false),
          });
        }
        if (refusedRooms > 0 && !s.strike())
          s.close(CLOSE_CODES.policyViolation.code, 'too many refused frames');
        return;
      }
      case 'typing':
      case 'read': {
        if (!(await d.isMember(frame.roomId, s.userId))) {
          return refuse(s, d, 'not_member', 'you are not a member of this room', undefined);
        }
        await d.fanout.publish(
          roomChannel(frame.roomId),
          frame.type === 'typing'
            ? { kind: 'typing', roomId: frame.roomId, userId: s.userId }
            : { kind: 'read', roomId: frame.roomId, userId: s.userId, seq: frame.seq },
        );
        return;
      }
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
