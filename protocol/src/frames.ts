/**
 * WebSocket frames of protocol v1 (`/ws`). Client frames are validated with
 * these schemas at the gateway; server frames are typed so every producer of
 * a frame (gateway, tests, web client) agrees on the shape.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors';
import {
  ClientMsgIdSchema,
  IdSchema,
  LIMITS,
  type Message,
  MessageBodySchema,
  type Notification,
  type Room,
  SeqSchema,
} from './model';

// z.number() refuses Infinity and NaN (JSON.parse turns 1e400 into Infinity, which JSON.stringify would echo as null).
const Ref = z.union([z.string().max(64), z.number()]).optional();

/**
 * Names of Object.prototype's machinery are never room ids. zod drops a `__proto__` key from a
 * record without a word (so `{"__proto__": 0}` would sync nothing and say nothing): they are
 * refused here, by name, before the record is parsed.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const SyncRoomsSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v !== 'object' || v === null) return;
    for (const k of Object.keys(v))
      if (RESERVED_KEYS.has(k))
        ctx.addIssue({ code: 'custom', message: `"${k}" is not a room id`, path: [k] });
  })
  .pipe(
    z
      .record(IdSchema, SeqSchema)
      .refine((r) => Object.keys(r).length <= LIMITS.syncRoomsMax, 'too many rooms'),
  );

export const SendFrameSchema = z.object({
  type: z.literal('send'),
  roomId: IdSchema,
  clientMsgId: ClientMsgIdSchema,
  body: MessageBodySchema,
});
export const SyncFrameSchema = z.object({
  type: z.literal('sync'),
  rooms: SyncRoomsSchema,
});
export const TypingFrameSchema = z.object({ type: z.literal('typing'), roomId: IdSchema });
export const ReadFrameSchema = z.object({
  type: z.literal('read'),
  roomId: IdSchema,
  seq: SeqSchema,
});
export const PingFrameSchema = z.object({ type: z.literal('ping'), ref: Ref });

export const ClientFrameSchema = z.discriminatedUnion('type', [
  SendFrameSchema,
  SyncFrameSchema,
  TypingFrameSchema,
  ReadFrameSchema,
  PingFrameSchema,
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type SendFrame = z.infer<typeof SendFrameSchema>;

export type ServerFrame =
  | { type: 'ready'; userId: string; sessionId: string }
  | { type: 'ack'; clientMsgId: string; roomId: string; id: string; seq: number; ts: number }
  | { type: 'message'; message: Message }
  | { type: 'sync'; roomId: string; messages: Message[]; complete: boolean }
  | { type: 'room'; event: 'created' | 'joined' | 'left'; room: Room }
  | { type: 'typing'; roomId: string; userId: string }
  | { type: 'read'; roomId: string; userId: string; seq: number }
  /** My unread count in a room changed: a message arrived, or I read (on any of my sockets). */
  | { type: 'unread'; roomId: string; count: number }
  /** Presence changes of members of my rooms (up to LIMITS.liveSignalsRoomMaxMembers), gathered per room. */
  | { type: 'presence'; users: { userId: string; online: boolean }[] }
  /** My inbox changed: a new mention (`notification`), or entries were marked read (count only). */
  | { type: 'notification'; unreadTotal: number; notification?: Notification }
  | { type: 'pong'; ref?: string | number }
  | {
      type: 'error';
      code: ErrorCode;
      message: string;
      ref?: string | number;
      /** With `rate_limited`: how long to wait before sending the refused frame again. */
      retryAfterMs?: number;
    };
