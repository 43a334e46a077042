/** Request bodies and queries of the HTTP API v1 (`/api/v1`). */
import { z } from 'zod';
import {
  IdSchema,
  LIMITS,
  MessageSchema,
  RoomNameSchema,
  SeqSchema,
  UsernameSchema,
} from './model';

export const SignupBodySchema = z.object({
  username: UsernameSchema,
  password: z.string().min(LIMITS.passwordMinChars).max(LIMITS.passwordMaxChars),
  displayName: z.string().trim().min(1).max(LIMITS.displayNameMaxChars).optional(),
});
export const LoginBodySchema = z.object({
  username: z.string().min(1).max(LIMITS.usernameMaxChars),
  password: z.string().min(1).max(LIMITS.passwordMaxChars),
});
export const UserQuerySchema = z.object({
  q: z.string().min(1).max(LIMITS.usernameMaxChars),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export const CreateRoomBodySchema = z.object({
  name: RoomNameSchema,
  memberIds: z.array(IdSchema).max(LIMITS.roomInitialMembersMax).default([]),
});
export const OpenDmBodySchema = z.object({ userId: IdSchema });
export const InviteBodySchema = z.object({ userId: IdSchema });
export const HistoryQuerySchema = z
  .object({
    before: z.coerce.number().int().positive().optional(),
    after: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMITS.historyPageMax)
      .default(LIMITS.historyPageDefault),
  })
  .refine((q) => q.before === undefined || q.after === undefined, {
    message: 'use either before or after, not both',
  });
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;
/** `POST /rooms/:roomId/read`: the seq read up to (0 … the room's lastSeq). */
export const ReadBodySchema = z.object({ seq: SeqSchema });
/** `GET /notifications`: newest first; `cursor` is the previous page's `nextCursor`. */
export const NotificationsQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(LIMITS.notificationsPageDefault)
    .transform((n) => Math.min(n, LIMITS.notificationsPageMax)),
  cursor: z
    .string()
    .max(128)
    .regex(/^\d{1,16}\.[A-Za-z0-9_-]{1,64}$/, 'invalid cursor')
    .optional(),
});
export type NotificationsQuery = z.infer<typeof NotificationsQuerySchema>;
/** `POST /notifications/read`: the entries (by message id) to mark read, or all of them. */
export const NotificationsReadBodySchema = z.union([
  z.object({ messageIds: z.array(IdSchema).min(1).max(LIMITS.notificationsReadMax) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);
export type NotificationsReadBody = z.infer<typeof NotificationsReadBodySchema>;

/**
 * `GET /search`: `q` is plain text (no query syntax: every character is
 * literal), `limit` is capped at LIMITS.searchPageMax, `cursor` is the
 * `nextCursor` of the previous page with the same q, roomId and sort.
 */
export const SearchQuerySchema = z.object({
  q: z
    .string({ error: 'q is required' })
    .trim()
    .min(1, 'q must not be empty')
    .max(LIMITS.searchQueryMaxChars, `q must be at most ${LIMITS.searchQueryMaxChars} characters`),
  roomId: IdSchema.optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(LIMITS.searchPageDefault)
    .transform((n) => Math.min(n, LIMITS.searchPageMax)),
  sort: z.enum(['recent', 'relevance']).default('recent'),
  cursor: z.string().min(1).max(512).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuerySchema>;

/** A piece of a hit's body; the `match` pieces are what the query found. Text, never HTML. */
export const HighlightSegmentSchema = z.object({ text: z.string(), match: z.boolean() });
export const SearchHitSchema = z.object({
  message: MessageSchema,
  highlight: z.array(HighlightSegmentSchema),
});
export const SearchResponseSchema = z.object({
  hits: z.array(SearchHitSchema),
  /** Present when there may be more: pass it back as `cursor`. */
  nextCursor: z.string().optional(),
});
export type SearchHit = z.infer<typeof SearchHitSchema>;
export type SearchResponse = z.infer<typeof SearchResponseSchema>;
