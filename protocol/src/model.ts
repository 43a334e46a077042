/**
 * The resources of protocol v1 as they travel on the wire (HTTP bodies and
 * WebSocket frames). One definition, shared by the gateway, the functions,
 * the web client and the tests.
 */
import { z } from 'zod';
import { LIMITS } from './limits';

export { LIMITS } from './limits';

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

/**
 * An entry of a user's notification inbox: a message of one of their rooms that mentioned them
 * (`@username`). One per (user, message): a redelivered message never adds a second.
 */
export const NotificationSchema = z.object({
  kind: z.literal('mention'),
  messageId: IdSchema,
  roomId: IdSchema,
  seq: SeqSchema,
  senderId: IdSchema,
  /** The body's first LIMITS.mentionExcerptMaxChars characters. Text, never HTML. */
  excerpt: z.string(),
  /** The message's time. */
  ts: z.number().int(),
  read: z.boolean(),
});
export type Notification = z.infer<typeof NotificationSchema>;
