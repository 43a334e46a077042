/**
 * Who is online: a user with at least one WebSocket on some live gateway. Each gateway registers
 * the users it holds sockets of, beats while it lives, and sweeps the gateways that stopped
 * beating (killed, partitioned) so their users go offline within a bound: PRESENCE_TTL_MS plus a
 * sweep interval (docs/notifications.md). Redis in the real mode (shared by every gateway); memory
 * in the embedded mode.
 */
export interface PresenceStore {
  /** This gateway now holds a socket of `userId`. True when the user came online (no other live gateway had them). */
  connect(userId: string): Promise<boolean>;
  /** This gateway holds no socket of `userId` any more. True when the user went offline (no live gateway has them). */
  disconnect(userId: string): Promise<boolean>;
  /** The users of `userIds` who are online. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * This gateway is alive (every PRESENCE_TTL_MS / 3). True when it had been swept as dead (an
   * event loop stalled past the TTL): its users must be connected again.
   */
  beat(): Promise<boolean>;
  /**
   * Takes the users of gateways whose last beat is older than the TTL offline; answers those who
   * went offline (who had no other live gateway). Safe to run on every gateway at once: each dead
   * gateway is swept by one of them.
   */
  sweep(): Promise<string[]>;
}

/** How often a gateway beats and sweeps, for a presence TTL. */
export const presenceTimings = (ttlMs: number) => ({
  beatMs: Math.max(10, Math.floor(ttlMs / 3)),
  sweepMs: Math.max(10, Math.floor(ttlMs / 6)),
});
