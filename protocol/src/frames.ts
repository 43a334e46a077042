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
  type Room,
  SeqSchema,
} from './model';

const Ref = z.union([z.string().max(64), z.number()]).optional();

export const SendFrameSchema = z.object({
  type: z.literal('send'),
  roomId: IdSchema,
  clientMsgId: ClientMsgIdSchema,
  body: MessageBodySchema,
});
export const SyncFrameSchema = z.object({
  type: z.literal('sync'),
  rooms: z
    .record(IdSchema, SeqSchema)
    .refine((r) => Object.keys(r).length <= LIMITS.syncRoomsMax, 'too many rooms'),
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
  | { type: 'unread'; roomId: string; count: number }
  | { type: 'presence'; userId: string; online: boolean }
  | { type: 'pong'; ref?: string | number }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string | number };
