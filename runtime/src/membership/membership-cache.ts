/**
 * The membership cache: which users are in which room. `room-ops` writes it
 * (write-through, after its database commit); the gateway, `message-write`
 * and `messages` read it on their hot paths. It is a cache: when it knows
 * nothing of a room (`undefined`), callers load the truth from the room
 * service and warm it (see `membershipWithFallback`).
 */
export interface MembershipCache {
  /** true/false when the room is cached; undefined when it is not. */
  isMember(roomId: string, userId: string): Promise<boolean | undefined>;
  /** Member ids when the room is cached; undefined when it is not. */
  members(roomId: string): Promise<string[] | undefined>;
  /** Replaces a room's cached member set (room-ops writes the whole set after each change, from its database). */
  setMembers(roomId: string, userIds: string[]): Promise<void>;
  /**
   * Warms a room that is not cached (readers after a miss). Does nothing when
   * the room is cached by then: room-ops may have written a newer set while
   * the reader was loading an older one.
   */
  fillIfAbsent(roomId: string, userIds: string[]): Promise<void>;
}

/** Loads a room's member ids from the source of truth; null when the room does not exist. */
export type MembershipLoader = (roomId: string) => Promise<string[] | null>;

/**
 * A membership check that reads the cache and, on a miss, loads and warms it.
 * @example const isMember = membershipWithFallback(cache, loader); await isMember(roomId, userId)
 */
export function membershipWithFallback(cache: MembershipCache, load: MembershipLoader) {
  return async (roomId: string, userId: string): Promise<boolean> => {
    // The cache is only a cache: while Redis is down (or restarting empty) the room service
    // answers, instead of every send failing with an internal error.
    const cached = await cache.isMember(roomId, userId).catch(() => undefined);
    if (cached !== undefined) return cached;
    const members = await load(roomId);
    if (members === null) return false;
    await cache.fillIfAbsent(roomId, members).catch(() => undefined);
    return members.includes(userId);
  };
}
