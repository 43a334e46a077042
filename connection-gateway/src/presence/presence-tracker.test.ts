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
    const rooms = new Map([['r_small', 2]]);
    gw.opened('u_a', rooms);
    gw.closed('u_a');
    gw.opened('u_a', rooms);
    await gw.settled();
    await tick();
    // Whatever was told in between, the last word is online.
    expect(told.at(-1)?.p).toMatchObject({ kind: 'presence', userId: 'u_a', online: true });
  });
});
