/**
 * Who a `@username` is: the port notify asks to resolve mentions. The users
 * function owns the answer.
 */
import { type User, UserSchema } from '@parley/protocol';
import { ParleyError, type ServiceClient } from '@parley/runtime';
import { z } from 'zod';

export interface UserLookup {
  /** The users among `usernames` that exist (unknown names are simply absent). */
  byUsernames(usernames: readonly string[]): Promise<User[]>;
}

const UsersBody = z.object({ users: z.array(UserSchema) });

/**
 * The users function's `GET /internal/users?usernames=a,b` (≤ 200 names; notify asks ≤ 20).
 * @example httpUserLookup(serviceClient(cfg.USERS_URL))
 */
export function httpUserLookup(users: ServiceClient): UserLookup {
  return {
    async byUsernames(usernames) {
      const unique = [...new Set(usernames)];
      if (unique.length === 0) return [];
      const body = await users.getJson<unknown>(
        `/internal/users?usernames=${unique.map(encodeURIComponent).join(',')}`,
      );
      if (body === null) return [];
      const parsed = UsersBody.safeParse(body);
      if (!parsed.success) throw new ParleyError('internal', 'users answered an unexpected body');
      return parsed.data.users;
    },
  };
}
