import { describePresenceContract } from './presence-store.contract';
import { MemoryPresenceState, MemoryPresenceStore } from './presence-store.memory';

let n = 0;
describePresenceContract('memory', () => ({
  async gateways(ttl, now) {
    const state = new MemoryPresenceState();
    return [
      new MemoryPresenceStore('gw-a', ttl, state, now),
      new MemoryPresenceStore('gw-b', ttl, state, now),
    ];
  },
  user: () => `u_${++n}`,
}));
