/**
 * room-ops through its HTTP face: real binary-mode CloudEvents into
 * cloudEventApp, memory adapters behind it.
 */
import {
  cloudEventApp,
  createEvent,
  type EventData,
  type EventSink,
  type FanoutPayload,
  MemoryFanout,
  type ParleyEvent,
  toHttpBinary,
  userChannel,
} from '@parley/eventing';
import type { User } from '@parley/protocol';
import { MemoryRoomStore } from '@parley/room-store/memory';
import { createLogger, MemoryMembershipCache, newId, ParleyError } from '@parley/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createRoomOps } from './handler';
import type { UserDirectory } from './user-directory';

const alice: User = { id: 'u_alice', username: 'alice', displayName: 'Alice' };
const bob: User = { id: 'u_bob', username: 'bob', displayName: 'Bob' };
const carol: User = { id: 'u_carol', username: 'carol', displayName: 'Carol' };

type RoomCommand =
  | 'parley.room.create'
  | 'parley.room.dm.open'
  | 'parley.room.member.invite'
  | 'parley.room.member.leave';

function harness() {
  const store = new MemoryRoomStore();
  const membership = new MemoryMembershipCache();
  const fanout = new MemoryFanout();
  const emitted: ParleyEvent[] = [];
  /** Failures the sink throws on its next emits, one per call. */
  const sinkFailures: Error[] = [];
  const sink: EventSink = {
    async emit(event) {
      const failure = sinkFailures.shift();
      if (failure) throw failure;
      emitted.push(event);
    },
  };
  let directoryDown = false;
  const users: UserDirectory = {
    async getUsers(ids) {
      if (directoryDown) throw new ParleyError('unavailable', 'users is down');
      return [alice, bob, carol].filter((u) => ids.includes(u.id));
    },
  };
  const log = createLogger('room-ops-test', 'silent');
  const app = cloudEventApp(createRoomOps({ store, membership, fanout, sink, users, log }), {
    log,
    registry: new Registry(),
  });

  const inboxes = new Map<string, FanoutPayload[]>();
  for (const u of [alice, bob, carol]) {
    const inbox: FanoutPayload[] = [];
    inboxes.set(u.id, inbox);
    void fanout.subscribe(userChannel(u.id), (_channel, payload) => inbox.push(payload));
  }
  const inbox = (userId: string) => inboxes.get(userId) as FanoutPayload[];

  const postRaw = (headers: Record<string, string>, body: string) =>
    app.request('/', { method: 'POST', headers, body });
  const post = (event: ParleyEvent) => {
    const { headers, body } = toHttpBinary(event);
    return postRaw(headers, body);
  };
  const command = <T extends RoomCommand>(type: T, data: EventData<T>) =>
    createEvent(type, data, { source: 'gateway' });
  /** The command-result for `cmd` on its actor's channel, once it arrives. */
  const resultOf = (cmd: ParleyEvent<RoomCommand>) =>
    vi.waitFor(() => {
      const found = inbox(cmd.data.actorId).find(
        (p) => p.kind === 'command-result' && p.causationId === cmd.id,
      );
      if (found?.kind !== 'command-result') throw new Error('no command-result yet');
      return found;
    });
  const roomPayloads = (userId: string) => inbox(userId).filter((p) => p.kind === 'room');
  const facts = (type: string) => emitted.filter((e) => e.type === type);
  const control = {
    failNextEmit: () => sinkFailures.push(new ParleyError('unavailable', 'sink down')),
    setDirectoryDown: (down: boolean) => {
      directoryDown = down;
    },
  };
  return {
    store,
    membership,
    post,
    postRaw,
    command,
    resultOf,
    inbox,
    roomPayloads,
    facts,
    emitted,
    control,
  };
}

/** A group room {alice, bob} made through the function. */
async function groupOfAliceAndBob(h: ReturnType<typeof harness>) {
  const cmd = h.command('parley.room.create', {
    actorId: alice.id,
    roomId: newId('r'),
    name: 'Team',
    memberIds: [bob.id],
  });
  expect((await h.post(cmd)).status).toBe(202);
  return cmd.data.roomId;
}

describe('room-ops: parley.room.create', () => {
  it('stores the room, caches its members, emits room.created and tells every member', async () => {
    const h = harness();
    const cmd = h.command('parley.room.create', {
      actorId: alice.id,
      roomId: newId('r'),
      name: '  Team  ',
      memberIds: [bob.id],
    });
    const res = await h.post(cmd);
    expect(res.status).toBe(202);

    const room = { id: cmd.data.roomId, name: 'Team', kind: 'group', memberCount: 2, lastSeq: 0 };
    expect(await h.store.getRoom(room.id)).toEqual(room);
    expect((await h.membership.members(room.id))?.sort()).toEqual([alice.id, bob.id].sort());

    const [fact] = h.facts('parley.room.created');
    expect(h.emitted).toHaveLength(1);
    expect(fact).toMatchObject({
      causationid: cmd.id,
      source: '/parley/room-ops',
      partitionkey: room.id,
      data: { room, actorId: alice.id },
    });
    expect((fact?.data as { memberIds: string[] } | undefined)?.memberIds.sort()).toEqual(
      [alice.id, bob.id].sort(),
    );

    expect(await h.resultOf(cmd)).toEqual({ kind: 'command-result', causationId: cmd.id, room });
    for (const u of [alice.id, bob.id]) {
      await vi.waitFor(() =>
        expect(h.roomPayloads(u)).toEqual([
          { kind: 'room', event: 'created', room, causationId: cmd.id },
        ]),
      );
    }
    expect(h.roomPayloads(carol.id)).toEqual([]);
  });

  it('refuses unknown members with not_found naming them, and stores nothing', async () => {
    const h = harness();
    const cmd = h.command('parley.room.create', {
      actorId: alice.id,
      roomId: newId('r'),
      name: 'Team',
      memberIds: [bob.id, 'u_ghost', 'u_nobody'],
    });
    expect((await h.post(cmd)).status).toBe(202);
    const result = await h.resultOf(cmd);
    expect(result).toMatchObject({
      code: 'not_found',
      message: 'unknown users: u_ghost, u_nobody',
    });
    expect(result.room).toBeUndefined();
    expect(await h.store.getRoom(cmd.data.roomId)).toBeNull();
    expect(await h.membership.members(cmd.data.roomId)).toBeUndefined();
    expect(h.emitted).toEqual([]);
  });

  it('the same command delivered twice makes one room (its fact may come twice, with one id)', async () => {
    const h = harness();
    const cmd = h.command('parley.room.create', {
      actorId: alice.id,
      roomId: newId('r'),
      name: 'Team',
      memberIds: [bob.id],
    });
    expect((await h.post(cmd)).status).toBe(202);
    expect((await h.post(cmd)).status).toBe(202);
    expect(await h.store.roomIdsOf(alice.id)).toEqual([cmd.data.roomId]);
    expect(await h.store.getRoom(cmd.data.roomId)).toMatchObject({ memberCount: 2 });
    const ids = new Set(h.facts('parley.room.created').map((e) => e.id));
    expect(ids.size).toBe(1);
  });

  it('a failed emit is retried (503) and the redelivery finishes the job', async () => {
    const h = harness();
    const cmd = h.command('parley.room.create', {
      actorId: alice.id,
      roomId: newId('r'),
      name: 'Team',
      memberIds: [bob.id],
    });
    h.control.failNextEmit();
    expect((await h.post(cmd)).status).toBe(503);
    expect(h.emitted).toEqual([]);
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.facts('parley.room.created')).toHaveLength(1);
    expect(await h.resultOf(cmd)).toMatchObject({ room: { id: cmd.data.roomId } });
  });

  it('answers 503 when the user directory is down, so the command is retried', async () => {
    const h = harness();
    h.control.setDirectoryDown(true);
    const cmd = h.command('parley.room.create', {
      actorId: alice.id,
      roomId: newId('r'),
      name: 'Team',
      memberIds: [],
    });
    expect((await h.post(cmd)).status).toBe(503);
    expect(await h.store.getRoom(cmd.data.roomId)).toBeNull();
  });
});

describe('room-ops: parley.room.dm.open', () => {
  it('creates the DM once, named after both users, and tells both', async () => {
    const h = harness();
    const cmd = h.command('parley.room.dm.open', {
      actorId: bob.id,
      userId: alice.id,
      roomId: newId('r'),
    });
    expect((await h.post(cmd)).status).toBe(202);
    const room = {
      id: cmd.data.roomId,
      name: 'Alice & Bob',
      kind: 'dm',
      memberCount: 2,
      lastSeq: 0,
    };
    expect(await h.resultOf(cmd)).toEqual({ kind: 'command-result', causationId: cmd.id, room });
    expect((await h.membership.members(room.id))?.sort()).toEqual([alice.id, bob.id].sort());
    expect(h.facts('parley.room.created')).toHaveLength(1);
    expect(h.facts('parley.room.created')[0]).toMatchObject({
      causationid: cmd.id,
      data: { room },
    });
    for (const u of [alice.id, bob.id]) {
      await vi.waitFor(() => expect(h.roomPayloads(u)).toMatchObject([{ event: 'created', room }]));
    }
  });

  it('a second open, from the other side, answers the same room without new facts', async () => {
    const h = harness();
    const first = h.command('parley.room.dm.open', {
      actorId: alice.id,
      userId: bob.id,
      roomId: newId('r'),
    });
    const second = h.command('parley.room.dm.open', {
      actorId: bob.id,
      userId: alice.id,
      roomId: newId('r'),
    });
    await h.post(first);
    expect((await h.post(second)).status).toBe(202);
    expect(await h.resultOf(second)).toMatchObject({ room: { id: first.data.roomId } });
    expect(h.facts('parley.room.created')).toHaveLength(1);
    expect(await h.store.roomIdsOf(bob.id)).toEqual([first.data.roomId]);
  });

  it('refuses a DM with yourself (conflict) and with an unknown user (not_found)', async () => {
    const h = harness();
    const self = h.command('parley.room.dm.open', {
      actorId: alice.id,
      userId: alice.id,
      roomId: newId('r'),
    });
    const ghost = h.command('parley.room.dm.open', {
      actorId: alice.id,
      userId: 'u_ghost',
      roomId: newId('r'),
    });
    expect((await h.post(self)).status).toBe(202);
    expect((await h.post(ghost)).status).toBe(202);
    expect(await h.resultOf(self)).toMatchObject({ code: 'conflict' });
    expect(await h.resultOf(ghost)).toMatchObject({
      code: 'not_found',
      message: 'unknown user: u_ghost',
    });
    expect(await h.store.roomIdsOf(alice.id)).toEqual([]);
    expect(h.emitted).toEqual([]);
  });
});

describe('room-ops: parley.room.member.invite', () => {
  it('adds the user, caches it, emits member.joined and tells the invitee', async () => {
    const h = harness();
    const roomId = await groupOfAliceAndBob(h);
    const cmd = h.command('parley.room.member.invite', {
      actorId: bob.id,
      roomId,
      userId: carol.id,
    });
    expect((await h.post(cmd)).status).toBe(202);
    const room = { id: roomId, name: 'Team', kind: 'group', memberCount: 3, lastSeq: 0 };
    expect(await h.resultOf(cmd)).toEqual({ kind: 'command-result', causationId: cmd.id, room });
    expect(await h.membership.isMember(roomId, carol.id)).toBe(true);
    expect(h.facts('parley.room.member.joined')).toMatchObject([
      { causationid: cmd.id, data: { room, userId: carol.id, actorId: bob.id } },
    ]);
    await vi.waitFor(() =>
      expect(h.roomPayloads(carol.id)).toEqual([
        { kind: 'room', event: 'joined', room, causationId: cmd.id },
      ]),
    );
  });

  it('inviting a member succeeds without facts or room events', async () => {
    const h = harness();
    const roomId = await groupOfAliceAndBob(h);
    const before = h.emitted.length;
    const cmd = h.command('parley.room.member.invite', {
      actorId: alice.id,
      roomId,
      userId: bob.id,
    });
    expect((await h.post(cmd)).status).toBe(202);
    expect(await h.resultOf(cmd)).toMatchObject({ room: { id: roomId, memberCount: 2 } });
    expect(h.emitted).toHaveLength(before);
    expect(h.roomPayloads(bob.id).filter((p) => p.kind === 'room' && p.event === 'joined')).toEqual(
      [],
    );
  });

  it('a redelivered invite whose facts failed emits them on the redelivery', async () => {
    const h = harness();
    const roomId = await groupOfAliceAndBob(h);
    const cmd = h.command('parley.room.member.invite', {
      actorId: alice.id,
      roomId,
      userId: carol.id,
    });
    h.control.failNextEmit();
    expect((await h.post(cmd)).status).toBe(503);
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.facts('parley.room.member.joined')).toHaveLength(1);
    await vi.waitFor(() => expect(h.roomPayloads(carol.id)).toMatchObject([{ event: 'joined' }]));
    expect(await h.store.getRoom(roomId)).toMatchObject({ memberCount: 3 });
  });

  it('refuses: no room (not_found), a DM (conflict), a non-member actor (not_member), an unknown user (not_found)', async () => {
    const h = harness();
    const group = await groupOfAliceAndBob(h);
    const dm = h.command('parley.room.dm.open', {
      actorId: alice.id,
      userId: bob.id,
      roomId: newId('r'),
    });
    await h.post(dm);
    const cases = [
      [{ actorId: alice.id, roomId: newId('r'), userId: carol.id }, 'not_found'],
      [{ actorId: alice.id, roomId: dm.data.roomId, userId: carol.id }, 'conflict'],
      [{ actorId: carol.id, roomId: group, userId: carol.id }, 'not_member'],
      [{ actorId: alice.id, roomId: group, userId: 'u_ghost' }, 'not_found'],
    ] as const;
    const factsBefore = h.emitted.length;
    for (const [data, code] of cases) {
      const cmd = h.command('parley.room.member.invite', data);
      expect((await h.post(cmd)).status).toBe(202);
      expect(await h.resultOf(cmd)).toMatchObject({ code });
    }
    expect(h.emitted).toHaveLength(factsBefore);
    expect(await h.store.memberIds(group)).toHaveLength(2);
  });
});

describe('room-ops: parley.room.member.leave', () => {
  it('removes the actor, caches it, emits member.left and tells the actor', async () => {
    const h = harness();
    const roomId = await groupOfAliceAndBob(h);
    const cmd = h.command('parley.room.member.leave', { actorId: bob.id, roomId });
    expect((await h.post(cmd)).status).toBe(202);
    const room = { id: roomId, name: 'Team', kind: 'group', memberCount: 1, lastSeq: 0 };
    expect(await h.resultOf(cmd)).toEqual({ kind: 'command-result', causationId: cmd.id, room });
    expect(await h.membership.members(roomId)).toEqual([alice.id]);
    expect(await h.store.roomIdsOf(bob.id)).toEqual([]);
    expect(h.facts('parley.room.member.left')).toMatchObject([
      { causationid: cmd.id, data: { room, userId: bob.id, actorId: bob.id } },
    ]);
    await vi.waitFor(() =>
      expect(h.roomPayloads(bob.id).at(-1)).toEqual({
        kind: 'room',
        event: 'left',
        room,
        causationId: cmd.id,
      }),
    );
  });

  it('a redelivered leave whose facts failed is completed, not refused as not_member', async () => {
    const h = harness();
    const roomId = await groupOfAliceAndBob(h);
    const cmd = h.command('parley.room.member.leave', { actorId: bob.id, roomId });
    h.control.failNextEmit();
    expect((await h.post(cmd)).status).toBe(503);
    expect((await h.post(cmd)).status).toBe(202);
    expect(await h.resultOf(cmd)).toMatchObject({ room: { id: roomId, memberCount: 1 } });
    expect(h.facts('parley.room.member.left')).toHaveLength(1);
  });

  it('refuses: no room (not_found), a non-member (not_member), a DM (conflict)', async () => {
    const h = harness();
    const group = await groupOfAliceAndBob(h);
    const dm = h.command('parley.room.dm.open', {
      actorId: alice.id,
      userId: bob.id,
      roomId: newId('r'),
    });
    await h.post(dm);
    const cases = [
      [{ actorId: alice.id, roomId: newId('r') }, 'not_found'],
      [{ actorId: carol.id, roomId: group }, 'not_member'],
      [{ actorId: carol.id, roomId: dm.data.roomId }, 'not_member'],
      [{ actorId: alice.id, roomId: dm.data.roomId }, 'conflict'],
    ] as const;
    const factsBefore = h.emitted.length;
    for (const [data, code] of cases) {
      const cmd = h.command('parley.room.member.leave', data);
      expect((await h.post(cmd)).status).toBe(202);
      expect(await h.resultOf(cmd)).toMatchObject({ code });
    }
    expect(h.emitted).toHaveLength(factsBefore);
    expect(await h.store.memberIds(dm.data.roomId)).toHaveLength(2);
  });
});

describe('room-ops: what it does not handle', () => {
  it('dead-letters (400) an event type it does not handle', async () => {
    const h = harness();
    const send = createEvent(
      'parley.message.send',
      { actorId: alice.id, roomId: 'r_1', clientMsgId: 'c1', body: 'hi', acceptedTs: 1 },
      { source: 'gateway' },
    );
    expect((await h.post(send)).status).toBe(400);
  });

  it('dead-letters (400) a room command whose data fails its schema', async () => {
    const h = harness();
    const { headers } = toHttpBinary(
      h.command('parley.room.member.leave', { actorId: alice.id, roomId: 'r_1' }),
    );
    const res = await h.postRaw(headers, JSON.stringify({ actorId: alice.id }));
    expect(res.status).toBe(400);
    expect(h.inbox(alice.id)).toEqual([]);
  });
});
