import type { Redis } from 'ioredis';
import type { Fanout, FanoutListener, FanoutPayload } from './fanout';

const PREFIX = 'parley:fanout:';

/**
 * Fan-out over Redis pub/sub. Publishing uses the shared client; subscribing
 * needs a connection of its own (a subscribed Redis connection can do
 * nothing else), made on first use by duplicating the publisher.
 */
export class RedisFanout implements Fanout {
  private sub: Redis | undefined;
  private readonly listeners = new Map<string, Set<FanoutListener>>();
  /** Confirmed (or pending) SUBSCRIBEs, per channel. */
  private readonly active = new Map<string, Promise<void>>();

  constructor(private readonly redis: Redis) {}

  async publish(channel: string, payload: FanoutPayload): Promise<void> {
    await this.redis.publish(PREFIX + channel, JSON.stringify(payload));
  }

  private subscriber(): Redis {
    if (!this.sub) {
      // No ready check (INFO) on the subscriber: a SUBSCRIBE queued while the connection is in
      // its handshake can reach Redis before the INFO, which Redis then refuses in subscriber mode;
      // ioredis 5.8.2+ turns that into a failed connection and the subscription is lost
      // (ioredis#2037; seen once in CI as a gateway that never heard a user's command result).
      // The check only waits for Redis to load its dataset, which pub/sub does not need.
      const sub = this.redis.duplicate({ enableReadyCheck: false });
      sub.on('message', (wireChannel: string, text: string) => {
        const channel = wireChannel.slice(PREFIX.length);
        const set = this.listeners.get(channel);
        if (!set) return;
        let payload: FanoutPayload;
        try {
          payload = JSON.parse(text) as FanoutPayload;
        } catch {
          return;
        }
        for (const l of [...set]) l(channel, payload);
      });
      this.sub = sub;
    }
    return this.sub;
  }

  async subscribe(channel: string, listener: FanoutListener): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    // Every caller waits until the channel's SUBSCRIBE is confirmed, not only
    // the first: a second listener must not think it is live before Redis does.
    let active = this.active.get(channel);
    if (!active) {
      active = this.subscriber()
        .subscribe(PREFIX + channel)
        .then(() => undefined);
      this.active.set(channel, active);
    }
    try {
      await active;
    } catch (err) {
      // Forget the failed subscription so a later subscribe tries again.
      if (this.active.get(channel) === active) this.active.delete(channel);
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(channel);
      throw err;
    }
  }

  async unsubscribe(channel: string, listener: FanoutListener): Promise<void> {
    const set = this.listeners.get(channel);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) {
      this.listeners.delete(channel);
      this.active.delete(channel);
      await this.subscriber().unsubscribe(PREFIX + channel);
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.active.clear();
    this.sub?.disconnect();
    this.sub = undefined;
  }
}
