/**
 * The room list as pure functions: what each room is called for this person
 * (a DM is called after the other member), its last message, and the order
 * (newest activity first).
 */
import type { Message, Room, User } from '@parley/protocol/model';

export interface RoomView extends Room {
  /** The name to show: a DM shows the other member's display name. */
  displayName: string;
  lastMessage?: Message;
  /** Newest first by this: the last message's time, or when this client learned of the room. */
  activityTs: number;
  /** My unread messages here: the server's count (`GET /rooms`, `unread` frames), or a local guess. */
  unread: number;
}

/**
 * The other member of a DM. From the members when known; before that from the
 * DM's name ("A & B", see room-rules.ts), which is ambiguous only when both
 * display names are the same.
 */
export function dmDisplayName(room: Room, me: User, members?: readonly User[]): string {
  const other = members?.find((m) => m.id !== me.id);
  if (other) return other.displayName;
  const parts = room.name.split(' & ');
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    if (a === me.displayName) return b;
    if (b === me.displayName) return a;
  }
  return room.name;
}

export function displayNameOf(room: Room, me: User, members?: readonly User[]): string {
  return room.kind === 'dm' ? dmDisplayName(room, me, members) : room.name;
}

/** Newest activity first; ties keep a stable order by id so the list does not shuffle. */
export function sortRooms(rooms: readonly RoomView[]): RoomView[] {
  return [...rooms].sort((a, b) => b.activityTs - a.activityTs || a.id.localeCompare(b.id));
}

/**
 * A room learned from the API or a `room` frame, merged with what we had. An `unread` count is
 * taken when it is at least as recent as what we know (its lastSeq is not behind ours): a room
 * list read while messages arrived must not undo what their `unread` frames said.
 */
export function upsertRoom(
  rooms: readonly RoomView[],
  room: Room & { lastMessage?: Message; unread?: number },
  me: User,
  members: readonly User[] | undefined,
  learnedAt: number,
): RoomView[] {
  const have = rooms.find((r) => r.id === room.id);
  const lastMessage = newer(have?.lastMessage, room.lastMessage);
  const view: RoomView = {
    id: room.id,
    name: room.name,
    kind: room.kind,
    memberCount: room.memberCount,
    lastSeq: Math.max(room.lastSeq, have?.lastSeq ?? 0, lastMessage?.seq ?? 0),
    displayName: displayNameOf(room, me, members),
    activityTs: lastMessage?.ts ?? have?.activityTs ?? learnedAt,
    unread:
      room.unread !== undefined && (!have || room.lastSeq >= have.lastSeq)
        ? room.unread
        : (have?.unread ?? 0),
  };
  if (lastMessage) view.lastMessage = lastMessage;
  return sortRooms([...rooms.filter((r) => r.id !== room.id), view]);
}

/** A confirmed message in a room: the preview, seq and order follow it. Unknown rooms are ignored. */
export function withMessage(rooms: readonly RoomView[], m: Message): RoomView[] | null {
  const have = rooms.find((r) => r.id === m.roomId);
  if (!have) return null;
  const lastMessage = newer(have.lastMessage, m);
  if (lastMessage === have.lastMessage && have.lastSeq >= m.seq) return rooms as RoomView[];
  const view: RoomView = {
    ...have,
    lastSeq: Math.max(have.lastSeq, m.seq),
    activityTs: Math.max(have.activityTs, lastMessage?.ts ?? 0),
  };
  if (lastMessage) view.lastMessage = lastMessage;
  return sortRooms(rooms.map((r) => (r.id === m.roomId ? view : r)));
}

/** The room with this unread count; the same list when nothing changes or the room is unknown. */
export function withUnread(rooms: readonly RoomView[], roomId: string, unread: number): RoomView[] {
  const count = Math.max(0, unread);
  const have = rooms.find((r) => r.id === roomId);
  if (!have || have.unread === count) return rooms as RoomView[];
  return rooms.map((r) => (r.id === roomId ? { ...r, unread: count } : r));
}

function newer(a: Message | undefined, b: Message | undefined): Message | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.seq >= a.seq ? b : a;
}
