/** Request bodies and queries of the HTTP API v1 (`/api/v1`). */
import { z } from 'zod';
import { IdSchema, LIMITS, RoomNameSchema, SeqSchema, UsernameSchema } from './model';

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
export const ReadBodySchema = z.object({ seq: SeqSchema });
