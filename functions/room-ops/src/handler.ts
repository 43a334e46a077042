/**
 * room-ops: the write side of the Chat Room service. Handles the room
 * commands of the catalog (from the `parley.room.commands` topic): create a
 * group room, open a DM, invite, leave.
 *
 * Every handled command ends with exactly one `command-result` on the
 * actor's user channel. A refused command (unknown user, not a member, ...)
 * is answered there and is NOT an error of the function (2xx, no
 * dead-letter); a transient failure (DB, Redis, sink, users) throws, so the
 * command is redelivered. Everything is idempotent under redelivery.
 *
 * Effects run in this order: DB commit → membership cache → facts → fanout.
 * The database is the truth, and the cache is rewritten from it. The cache is
 * written before anything announces the change, because whoever reacts to a
 * fact or a fanout (a gateway subscribing sockets, a send from the new member)
 * checks membership in the cache. Facts go before fanout because fanout is
 * best effort while facts must not be lost: a crash anywhere after the commit
 * makes the redelivery find the DB done and redo every later step (repeat
 * facts keep their CloudEvent id, so consumers can drop them).
 */
import {
  type CloudEventFunction,
  createEvent,
  type EventData,
  type EventSink,
  type EventType,
  type Fanout,
  type FanoutPayload,
  type ParleyEvent,
  userChannel,
} from '@parley/eventing';
import type { Room, User } from '@parley/protocol';
import type { RoomStore } from '@parley/room-store';
import { type Logger, type MembershipCache, ParleyError } from '@parley/runtime';
import {
  checkDmPeer,
  checkInvite,
  checkLeave,
  checkUsersExist,
  dmName,
  initialMembers,
  notMember,
  type Refusal,
} from './room-rules';
import type { UserDirectory } from './user-directory';

export interface RoomOpsDeps {
  store: RoomStore;
  membership: MembershipCache;
  fanout: Fanout;
  sink: EventSink;
  users: UserDirectory;
  log: Logger;
}

export const ROOM_COMMANDS = [
  'parley.room.create',
  'parley.room.dm.open',
  'parley.room.member.invite',
  'parley.room.member.leave',
] as const satisfies readonly EventType[];

type RoomCommand = (typeof ROOM_COMMANDS)[number];
type Command<T extends RoomCommand = RoomCommand> = ParleyEvent<T>;

const SOURCE = 'room-ops';

/** @example registerFunction('room-ops', cloudEventApp(createRoomOps(deps), { log, registry })) */
export function createRoomOps(deps: RoomOpsDeps): CloudEventFunction {
  const { store, membership, fanout, sink, users } = deps;

  /** Rewrites the room's cached member set from the database; returns it. */
  const syncMembership = async (roomId: string): Promise<string[]> => {
    const memberIds = await store.memberIds(roomId);
    await membership.setMembers(roomId, memberIds);
    return memberIds;
  };

  /** Emits a fact caused by `cmd`; its id derives from the command's, so a repeat is recognisable. */
  const emit = <T extends EventType>(cmd: ParleyEvent, type: T, data: EventData<T>) =>
    sink.emit(
      createEvent(type, data, { source: SOURCE, id: `${cmd.id}:${type}`, causationid: cmd.id }),
    );

  const tell = (userIds: readonly string[], payload: FanoutPayload) =>
    Promise.all(userIds.map((id) => fanout.publish(userChannel(id), payload)));

  const succeed = (cmd: Command, room: Room) =>
    tell([cmd.data.actorId], { kind: 'command-result', causationId: cmd.id, room });

  const refuse = async (cmd: Command, r: Refusal, log: Logger): Promise<void> => {
    log.info({ code: r.code, reason: r.message }, 'room command refused');
    await tell([cmd.data.actorId], { kind: 'command-result', causationId: cmd.id, ...r });
  };

  const roomNow = async (roomId: string): Promise<Room> => {
    const room = await store.getRoom(roomId);
    if (!room) throw new ParleyError('internal', `room ${roomId} vanished`);
    return room;
  };

  async function create(cmd: Command<'parley.room.create'>, log: Logger) {
    const { actorId, roomId, name } = cmd.data;
    const wanted = initialMembers(actorId, cmd.data.memberIds);
    const unknown = checkUsersExist(wanted, await users.getUsers(wanted));
    if (unknown) return refuse(cmd, unknown, log);
    const room = await store.createRoom(
      { id: roomId, name, kind: 'group', createdBy: actorId },
      wanted,
    );
    const memberIds = await syncMembership(roomId);
    await emit(cmd, 'parley.room.created', { room, memberIds, actorId });
    await tell(memberIds, { kind: 'room', event: 'created', room, causationId: cmd.id });
    await succeed(cmd, room);
  }

  async function openDm(cmd: Command<'parley.room.dm.open'>, log: Logger) {
    const { actorId, userId, roomId } = cmd.data;
    const self = checkDmPeer(actorId, userId);
    if (self) return refuse(cmd, self, log);
    const found = await users.getUsers([actorId, userId]);
    const unknown = checkUsersExist([actorId, userId], found);
    if (unknown) return refuse(cmd, unknown, log);
    const byId = new Map(found.map((u) => [u.id, u]));
    const name = dmName(byId.get(actorId) as User, byId.get(userId) as User);
    const { room, created } = await store.openDm(actorId, userId, roomId, name);
    if (created) {
      const memberIds = await syncMembership(room.id);
      await emit(cmd, 'parley.room.created', { room, memberIds, actorId });
      await tell(memberIds, { kind: 'room', event: 'created', room, causationId: cmd.id });
    }
    await succeed(cmd, room);
  }

  async function invite(cmd: Command<'parley.room.member.invite'>, log: Logger) {
    const { actorId, userId, roomId } = cmd.data;
    const before = await store.getRoom(roomId);
    const denied = checkInvite(before, before ? await store.memberIds(roomId) : [], actorId);
    if (denied) return refuse(cmd, denied, log);
    const unknown = checkUsersExist([userId], await users.getUsers([userId]));
    if (unknown) return refuse(cmd, unknown, log);
    const added = await store.addMember(roomId, userId, cmd.id);
    await syncMembership(roomId);
    const room = await roomNow(roomId);
    if (added) {
      await emit(cmd, 'parley.room.member.joined', { room, userId, actorId });
      await tell([userId], { kind: 'room', event: 'joined', room, causationId: cmd.id });
    }
    await succeed(cmd, room);
  }

  async function leave(cmd: Command<'parley.room.member.leave'>, log: Logger) {
    const { actorId, roomId } = cmd.data;
    const before = await store.getRoom(roomId);
    const denied = checkLeave(before, before ? await store.memberIds(roomId) : [], actorId);
    if (denied) return refuse(cmd, denied, log);
    const removed = await store.removeMember(roomId, actorId, cmd.id);
    if (!removed) return refuse(cmd, notMember(), log);
    await syncMembership(roomId);
    const room = await roomNow(roomId);
    await emit(cmd, 'parley.room.member.left', { room, userId: actorId, actorId });
    await tell([actorId], { kind: 'room', event: 'left', room, causationId: cmd.id });
    await succeed(cmd, room);
  }

  return {
    name: 'room-ops',
    accepts: ROOM_COMMANDS,
    async handle(event, { log }) {
      switch (event.type) {
        case 'parley.room.create':
          return create(event, log);
        case 'parley.room.dm.open':
          return openDm(event, log);
        case 'parley.room.member.invite':
          return invite(event, log);
        case 'parley.room.member.leave':
          return leave(event, log);
        default:
          throw new ParleyError('bad_request', `room-ops does not handle ${event.type}`);
      }
    },
  };
}
