import type { FanoutPayload } from '@parley/eventing';
import { MemoryFanout, roomChannel } from '@parley/eventing';
import { createLogger } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { MemoryPresenceState, MemoryPresenceStore } from './presence-store.memory';
import { PresenceTracker } from './presence-tracker';

function setup() {
  const fanout = new MemoryFanout();
  const told: { room: string; p: FanoutPayload }[] = [];
  const listen = async (room: string) =>
    fanout.subscribe(roomChannel(room), (_c, p) => told.push({ room, p }));
  let t = 1_000_000;
  const state = new MemoryPresenceState();
  const tracker = (id: string) =>
    new PresenceTracker({
      store: new MemoryPresenceStore(id, 30_000, state, () => t),
      fanout,
      log: createLogger('test', 'silent'),
      ttlMs: 30_000,
      roomsOf: async () => new Map([['r_small', 3]]),
    });
  return { told, listen, tracker, advance: (ms: number) => (t += ms) };
}
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('PresenceTracker', () => {
  it('tells small rooms once when a user comes online and once when their last socket closes', async () => {
    const { told, listen, tracker } = setup();
    await listen('r_small');
    await listen('r_big');
    const gw = tracker('gw-a');
    await gw.start();
    const rooms = new Map([
      ['r_small', 2],
      ['r_big', 5_000],
    ]);
    gw.opened('u_a', rooms);
    gw.opened('u_a', rooms); // a second tab
    await gw.settled();
    gw.closed('u_a');
    await gw.settled();
    await tick();
    expect(told).toEqual([
      { room: 'r_small', p: { kind: 'presence', userId: 'u_a', online: true } },
    ]);
    gw.closed('u_a');
    await gw.settled();
    await tick();
    expect(told.at(-1)).toEqual({
      room: 'r_small',
      p: { kind: 'presence', userId: 'u_a', online: false },
    });
    expect(told).toHaveLength(2);
  });

  it('a user with tabs on two gateways stays online until both close', async () => {
    const { told, listen, tracker } = setup();
    await listen('r_small');
    const a = tracker('gw-a');
    const b = tracker('gw-b');
    await Promise.all([a.start(), b.start()]);
    const rooms = new Map([['r_small', 2]]);
    a.opened('u_a', rooms);
    await a.settled();
    b.opened('u_a', rooms);
    await b.settled();
    a.closed('u_a');
    await a.settled();
    await tick();
    expect(told.map((x) => (x.p as { online: boolean }).online)).toEqual([true]);
    b.closed('u_a');
    await b.settled();
    await tick();
    expect(told.map((x) => (x.p as { online: boolean }).online)).toEqual([true, false]);
  });

  it('a close and a quick reconnect on one gateway never end offline', async () => {
    const { told, listen, tracker } = setup();
    await listen('r_small');
    const gw = tracker('gw-a');
    await gw.start();
    const rooms = new Map([['r_small', 2]]);
    gw.opened('u_a', rooms);
    gw.closed('u_a');
    gw.opened('u_a', rooms);
    await gw.settled();
    await tick();
    // Whatever was told in between, the last word is online.
    expect(told.at(-1)?.p).toMatchObject({ kind: 'presence', userId: 'u_a', online: true });
    gw.stop();
  });

  it('a drain takes nobody offline: the sockets it closes leave their users to the TTL', async () => {
    const { told, listen, tracker } = setup();
    await listen('r_small');
    const gw = tracker('gw-a');
    await gw.start();
    gw.opened('u_a', new Map([['r_small', 2]]));
    await gw.settled();
    gw.stop();
    gw.closed('u_a');
    await gw.settled();
    await tick();
    expect(told.map((x) => (x.p as { online: boolean }).online)).toEqual([true]);
  });

  it('a change the store refused is applied again at the next beat', async () => {
    const fanout = new MemoryFanout();
    const told: FanoutPayload[] = [];
    await fanout.subscribe(roomChannel('r_small'), (_c, p) => told.push(p));
    let down = true;
    const store = new MemoryPresenceStore('gw-a', 30_000);
    const flaky = {
      ...store,
      beat: () => store.beat(),
      sweep: () => store.sweep(),
      online: (ids: readonly string[]) => store.online(ids),
      disconnect: (u: string) => store.disconnect(u),
      connect: (u: string) => (down ? Promise.reject(new Error('redis away')) : store.connect(u)),
    };
    const gw = new PresenceTracker({
      store: flaky,
      fanout,
      log: createLogger('test', 'silent'),
      ttlMs: 30_000,
      roomsOf: async () => new Map(),
    });
    await gw.start();
    gw.opened('u_a', new Map([['r_small', 2]]));
    await gw.settled();
    expect(await store.online(['u_a'])).toEqual(new Set());
    down = false;
    await (gw as unknown as { beat(): Promise<void> }).beat();
    await gw.settled();
    await tick();
    expect(await store.online(['u_a'])).toEqual(new Set(['u_a']));
    expect(told).toEqual([{ kind: 'presence', userId: 'u_a', online: true }]);
    gw.stop();
  });
});
