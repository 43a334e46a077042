/**
 * How many WebSockets each user and each client address hold on this gateway, against their
 * caps. A slot is taken during the handshake, before it completes, so concurrent handshakes
 * cannot overshoot; the caller gives it back when the TCP connection closes, whatever happened
 * in between (refused, timed out, closed, dropped by the heartbeat).
 *
 * @example
 * if (!caps.takeUser(userId)) return refuse(429);
 * socket.once('close', () => caps.releaseUser(userId));
 */
export class ConnectionCaps {
  private readonly byUser = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Takes a slot of `userId`; false (and takes none) when they hold the most they may. */
  takeUser(userId: string): boolean {
    return take(this.byUser, userId, this.maxPerUser);
  }

  releaseUser(userId: string): void {
    release(this.byUser, userId);
  }

  /** Takes a slot of a client address; false (and takes none) when it holds the most it may. */
  takeAddress(address: string): boolean {
    return take(this.byAddress, address, this.maxPerAddress);
  }

  releaseAddress(address: string): void {
    release(this.byAddress, address);
  }

  /** Sockets (and handshakes under way) of a user; 0 when none. */
  ofUser(userId: string): number {
    return this.byUser.get(userId) ?? 0;
  }

  /** Users and addresses with a slot taken (for tests: both are 0 when every socket is gone). */
  get size(): { users: number; addresses: number } {
    return { users: this.byUser.size, addresses: this.byAddress.size };
  }
}

function take(counts: Map<string, number>, key: string, max: number): boolean {
  const n = counts.get(key) ?? 0;
  if (n >= max) return false;
  counts.set(key, n + 1);
  return true;
}

function release(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
