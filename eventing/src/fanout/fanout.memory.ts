import type { Fanout, FanoutListener, FanoutPayload } from './fanout';

/** The embedded mode's fan-out: listeners in this process, called asynchronously like Redis would. */
export class MemoryFanout implements Fanout {
  private readonly listeners = new Map<string, Set<FanoutListener>>();

  async publish(channel: string, payload: FanoutPayload): Promise<void> {
    const set = this.listeners.get(channel);
    if (!set) return;
    // A copy through JSON, as on the wire: no listener can mutate the publisher's object.
    const wire = JSON.stringify(payload);
    for (const l of [...set]) queueMicrotask(() => l(channel, JSON.parse(wire) as FanoutPayload));
  }
  async subscribe(channel: string, listener: FanoutListener): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
  }
  async unsubscribe(channel: string, listener: FanoutListener): Promise<void> {
    const set = this.listeners.get(channel);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(channel);
  }
  async close(): Promise<void> {
    this.listeners.clear();
  }
}
