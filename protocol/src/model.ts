/**
 * The resources of protocol v1 as they travel on the wire (HTTP bodies and
 * WebSocket frames). One definition, shared by the gateway, the functions,
 * the web client and the tests.
 */
import { z } from 'zod';

/** Limits every edge enforces; the web client shows them before the server refuses. */
export const LIMITS = {
  /** Longest message body in characters (Unicode code points). */
  messageBodyMaxChars: 4000,
  /** Largest WebSocket frame the gateway accepts, in bytes. */
  frameMaxBytes: 16 * 1024,
  /** Longest clientMsgId. */
  clientMsgIdMaxChars: 64,
  /** Room names. */
  roomNameMaxChars: 80,
  /** Members named when a room is created. */
  roomInitialMembersMax: 100,
  /** History page size. */
  historyPageMax: 100,
  historyPageDefault: 50,
  /** Rooms in one sync frame. */
  syncRoomsMax: 500,
  /** Messages returned per room by one sync before `complete: false`. */
  syncMessagesMax: 200,
  usernameMinChars: 3,
  usernameMaxChars: 32,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  displayNameMaxChars: 64,
} as const;

export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'invalid id');
export const SeqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const UserSchema = z.object({
  id: IdSchema,
  username: z.string(),
  displayName: z.string(),
});
export type User = z.infer<typeof UserSchema>;

export const RoomKindSchema = z.enum(['group', 'dm']);
export type RoomKind = z.infer<typeof RoomKindSchema>;

export const RoomSchema = z.object({
  id: IdSchema,
  name: z.string(),
  kind: RoomKindSchema,
  memberCount: z.number().int().nonnegative(),
  lastSeq: SeqSchema,
});
export type Room = z.infer<typeof RoomSchema>;

export const MessageSchema = z.object({
  id: IdSchema,
  roomId: IdSchema,
  seq: SeqSchema,
  senderId: IdSchema,
  body: z.string(),
  ts: z.number().int(),
  clientMsgId: z.string(),
  editedTs: z.number().int().optional(),
  deleted: z.boolean().optional(),
});
export type Message = z.infer<typeof MessageSchema>;

/** A message body: non-blank, at most LIMITS.messageBodyMaxChars code points. */
export const MessageBodySchema = z
  .string()
  .refine((s) => s.trim().length > 0, 'body must not be empty')
  .refine(
    (s) => [...s].length <= LIMITS.messageBodyMaxChars,
    `body must be at most ${LIMITS.messageBodyMaxChars} characters`,
  );

export const ClientMsgIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.clientMsgIdMaxChars)
  .regex(/^[\x21-\x7e]+$/, 'clientMsgId must be printable ASCII');

export const UsernameSchema = z
  .string()
  .min(LIMITS.usernameMinChars)
  .max(LIMITS.usernameMaxChars)
  .regex(/^[a-z0-9_.-]+$/, 'username may contain a-z, 0-9, _ . - only');

export const RoomNameSchema = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().min(1, 'name must not be empty').max(LIMITS.roomNameMaxChars));
