/**
 * The behaviour every RoomStore adapter must have, run against the memory
 * adapter (unit) and the MySQL adapter (real, two physical shards).
 */

import type { Room } from '@parley/protocol';
import { newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRoom, RoomStore } from './room-store';

export interface RoomStoreFixture {
  store: RoomStore;
  close?: () => Promise<void>;
}

const group = (createdBy: string, name = 'general'): NewRoom => ({
  id: newId('r'),
  name,
  kind: 'group',
  createdBy,
});
const users = (n: number) => Array.from({ length: n }, () => newId('u'));

export function describeRoomStoreContract(name: string, factory: () => Promise<RoomStoreFixture>) {
  describe(`RoomStore contract: ${name}`, () => {
    let fixture: RoomStoreFixture;
    let store: RoomStore;
    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close?.();
    });

    describe('createRoom', () => {
      it('stores the room with its members, visible from both sides', async () => {
        const [alice, bob, carol] = users(3) as [string, string, string];
        const room = group(alice, 'Team');
        const created = await store.createRoom(room, [alice, bob, carol]);
        expect(created).toEqual({
          id: room.id,
          name: 'Team',
          kind: 'group',
          memberCount: 3,
          lastSeq: 0,
        });
        expect(await store.getRoom(room.id)).toEqual(created);
        expect((await store.memberIds(room.id)).sort()).toEqual([alice, bob, carol].sort());
        for (const u of [alice, bob, carol]) {
          expect(await store.roomIdsOf(u)).toEqual([room.id]);
          expect(await store.roomsOf(u)).toEqual([created]);
        }
      });

      it('is idempotent: the same room id again returns the existing room and keeps its members', async () => {
        const [alice, bob, mallory] = users(3) as [string, string, string];
        const room = group(alice, 'first');
        await store.createRoom(room, [alice, bob]);
        const again = await store.createRoom({ ...room, name: 'second' }, [alice, mallory]);
        expect(again).toMatchObject({ id: room.id, name: 'first', memberCount: 2 });
        expect((await store.memberIds(room.id)).sort()).toEqual([alice, bob].sort());
        expect(await store.roomIdsOf(mallory)).toEqual([]);
      });

      it('counts a member named twice once', async () => {
        const [alice, bob] = users(2) as [string, string];
        const created = await store.createRoom(group(alice), [alice, bob, bob, alice]);
        expect(created.memberCount).toBe(2);
      });
    });

    describe('openDm', () => {
      it('creates the DM of a pair once: the second open, from either side, returns it', async () => {
        const [alice, bob] = users(2) as [string, string];
        const first = await store.openDm(alice, bob, newId('r'), 'Alice & Bob');
        expect(first.created).toBe(true);
        expect(first.room).toMatchObject({
          kind: 'dm',
          name: 'Alice & Bob',
          memberCount: 2,
          lastSeq: 0,
        });
        const second = await store.openDm(bob, alice, newId('r'), 'Alice & Bob');
        expect(second).toEqual({ room: first.room, created: false });
        expect(await store.roomIdsOf(alice)).toEqual([first.room.id]);
        expect(await store.roomIdsOf(bob)).toEqual([first.room.id]);
      });

      it('reports created again for the same candidate, so a redelivered command redoes its effects', async () => {
        const [alice, bob] = users(2) as [string, string];
        const candidate = newId('r');
        const first = await store.openDm(alice, bob, candidate, 'A & B');
        const again = await store.openDm(alice, bob, candidate, 'A & B');
        expect(again).toEqual({ room: first.room, created: true });
      });

      it('makes exactly one DM under 10 concurrent opens with different candidates', async () => {
        const [alice, bob] = users(2) as [string, string];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            i % 2
              ? store.openDm(alice, bob, newId('r'), 'A & B')
              : store.openDm(bob, alice, newId('r'), 'A & B'),
          ),
        );
        const roomIds = new Set(results.map((r) => r.room.id));
        expect(roomIds.size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const [roomId] = [...roomIds] as [string];
        expect(await store.getRoom(roomId)).toMatchObject({ kind: 'dm', memberCount: 2 });
        expect(await store.roomIdsOf(alice)).toEqual([roomId]);
        expect(await store.roomIdsOf(bob)).toEqual([roomId]);
      });

      it('keeps the DMs of different pairs apart', async () => {
        const [alice, bob, carol] = users(3) as [string, string, string];
        const ab = await store.openDm(alice, bob, newId('r'), 'A & B');
        const ac = await store.openDm(alice, carol, newId('r'), 'A & C');
        expect(ab.room.id).not.toBe(ac.room.id);
        expect((await store.roomIdsOf(alice)).sort()).toEqual([ab.room.id, ac.room.id].sort());
      });
    });

    describe('addMember and removeMember', () => {
      it('adds a member once and lists the room for them', async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = await store.createRoom(group(alice), [alice]);
        expect(await store.addMember(room.id, bob)).toBe(true);
        expect(await store.addMember(room.id, bob)).toBe(false);
        expect(await store.getRoom(room.id)).toMatchObject({ memberCount: 2 });
        expect(await store.roomIdsOf(bob)).toEqual([room.id]);
      });

      it('refuses to add to a room that does not exist', async () => {
        await expect(store.addMember(newId('r'), newId('u'))).rejects.toMatchObject({
          code: 'not_found',
        });
      });

      it('removes a member once and drops the room from their list', async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = await store.createRoom(group(alice), [alice, bob]);
        expect(await store.removeMember(room.id, bob)).toBe(true);
        expect(await store.removeMember(room.id, bob)).toBe(false);
        expect(await store.memberIds(room.id)).toEqual([alice]);
        expect(await store.roomIdsOf(bob)).toEqual([]);
        expect(await store.roomsOf(alice)).toEqual([{ ...room, memberCount: 1 }]);
      });

      it('recognises a repeated command id: added/removed again, without changing anything twice', async () => {
        const [alice, bob] = users(2) as [string, string];
        const room = await store.createRoom(group(alice), [alice]);
        const invite = `cmd-${newId('c')}`;
        expect(await store.addMember(room.id, bob, invite)).toBe(true);
        expect(await store.addMember(room.id, bob, invite)).toBe(true);
        expect(await store.addMember(room.id, bob, `cmd-${newId('c')}`)).toBe(false);
        const leave = `cmd-${newId('c')}`;
        expect(await store.removeMember(room.id, bob, leave)).toBe(true);
        expect(await store.removeMember(room.id, bob, leave)).toBe(true);
        expect(await store.removeMember(room.id, bob, `cmd-${newId('c')}`)).toBe(false);
        expect(await store.memberIds(room.id)).toEqual([alice]);
        expect(await store.roomIdsOf(bob)).toEqual([]);
      });
    });

    describe('reads', () => {
      it('knows nothing of a room that does not exist', async () => {
        const id = newId('r');
        expect(await store.getRoom(id)).toBeNull();
        expect(await store.memberIds(id)).toEqual([]);
      });

      it("lists a user's rooms with their member counts", async () => {
        const [alice, bob, carol] = users(3) as [string, string, string];
        const rooms: Room[] = [];
        for (let i = 0; i < 8; i++)
          rooms.push(await store.createRoom(group(alice, `room ${i}`), [alice, bob]));
        await store.addMember(rooms[3]?.id as string, carol);
        const mine = await store.roomsOf(alice);
        expect(mine.map((r) => r.id).sort()).toEqual(rooms.map((r) => r.id).sort());
        expect(mine.find((r) => r.id === rooms[3]?.id)?.memberCount).toBe(3);
        expect(mine.map((r) => r.id)).toEqual(await store.roomIdsOf(alice));
        expect(await store.roomsOf(newId('u'))).toEqual([]);
      });
    });
  });
}
