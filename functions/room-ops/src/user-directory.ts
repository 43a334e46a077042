/**
 * Which users exist, and their display names: the port room-ops asks before
 * it puts anyone in a room. The users function owns the answer.
 */
import { type User, UserSchema } from '@parley/protocol';
import { ParleyError, type ServiceClient } from '@parley/runtime';
import { z } from 'zod';

export interface UserDirectory {
  /** The users among `ids` that exist (unknown ids are simply absent). */
  getUsers(ids: readonly string[]): Promise<User[]>;
}

const UsersBody = z.object({ users: z.array(UserSchema) });

/**
 * The users function's `GET /internal/users?ids=a,b`.
 * @example httpUserDirectory(serviceClient(cfg.USERS_URL))
 */
export function httpUserDirectory(users: ServiceClient): UserDirectory {
  return {
    async getUsers(ids) {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return [];
      const body = await users.getJson<unknown>(
        `/internal/users?ids=${unique.map(encodeURIComponent).join(',')}`,
      );
      if (body === null) return [];
      const parsed = UsersBody.safeParse(body);
      if (!parsed.success) throw new ParleyError('internal', 'users answered an unexpected body');
      return parsed.data.users;
    },
  };
}
