/**
 * The event catalog: the one source of truth for every CloudEvent type in
 * Parley — its schema, its Kafka topic and its partition key. Commands ask a
 * service to do something; facts say that something happened.
 *
 * Producers and consumers validate against these schemas at every edge
 * (gateway → Kafka, Kafka → function, function → sink). Manifests and
 * docs/events.md are checked against this file by tests.
 */
import {
  ClientMsgIdSchema,
  IdSchema,
  LIMITS,
  MessageBodySchema,
  MessageSchema,
  RoomNameSchema,
  RoomSchema,
  SeqSchema,
} from '@parley/protocol';
import { z } from 'zod';

/** CloudEvents `source` of everything Parley emits is `/parley/<component>`. */
export const SOURCE_PREFIX = '/parley/';

export const TOPICS = {
  messageCommands: 'parley.message.commands',
  messageEvents: 'parley.message.events',
  roomCommands: 'parley.room.commands',
  roomEvents: 'parley.room.events',
  notifyCommands: 'parley.notify.commands',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/** The dead-letter topic of a topic. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** Each topic once and its dead-letter topic after it: what the topics job creates and grows. */
export const withDeadLetterTopics = (topics: readonly string[]): string[] => [
  ...new Set(topics.flatMap((t) => [t, deadLetterTopic(t)])),
];

/**
 * Partitions per topic when the project's scripts create (or grow) them. A room is one key is one
 * partition, and an ordered KafkaSource hands a partition's events over one at a time, so this is
 * how many rooms' commands are processed at once — and how many message-write can store in one
 * group commit. With 6, eight busy rooms shared five partitions and three quarters of the sends in
 * flight waited in Kafka (perf/results, issue 12); 24 keeps busy rooms apart and divides evenly
 * over 1, 2, 3, 4, 6, 8 or 12 consumers. Raising it moves keys: docs/operations.md.
 */
export const TOPIC_PARTITIONS = 24;

/** Who asked: the authenticated user the gateway saw, carried by every command. */
const Actor = { actorId: IdSchema };

const MessageSend = z.object({
  ...Actor,
  roomId: IdSchema,
  clientMsgId: ClientMsgIdSchema,
  body: MessageBodySchema,
  /** When the gateway accepted it (ms): for send→store latency. */
  acceptedTs: z.number().int(),
});

const MessageCreated = z.object({ message: MessageSchema });
/** The message as it is after the change; `editedTs` is the change's time and grows with every change. */
const MessageEdited = z.object({
  message: MessageSchema.extend({ editedTs: z.number().int() }),
});
const MessageDeleted = z.object({
  message: MessageSchema.extend({
    editedTs: z.number().int(),
    deleted: z.literal(true),
    body: z.literal(''),
  }),
});

const RoomCreate = z.object({
  ...Actor,
  /** Chosen by the gateway, so a redelivered command creates the same room. */
  roomId: IdSchema,
  name: RoomNameSchema,
  memberIds: z.array(IdSchema).max(LIMITS.roomInitialMembersMax),
});

const DmOpen = z.object({
  ...Actor,
  /** Used only if the pair has no DM yet. */
  roomId: IdSchema,
  userId: IdSchema,
});

const MemberInvite = z.object({ ...Actor, roomId: IdSchema, userId: IdSchema });
const MemberLeave = z.object({ ...Actor, roomId: IdSchema });

const NotifyRead = z.object({
  ...Actor,
  roomId: IdSchema,
  /** Read up to here (the gateway checked 0 ≤ seq ≤ lastSeq and membership). */
  seq: SeqSchema,
  /** The room's last seq when the gateway checked: the unread count after the read is lastSeq − marker. */
  lastSeq: SeqSchema,
});
const NotifyInboxRead = z.union([
  z.object({
    ...Actor,
    messageIds: z.array(IdSchema).min(1).max(LIMITS.notificationsReadMax),
  }),
  z.object({ ...Actor, all: z.literal(true) }),
]);

const RoomCreated = z.object({ room: RoomSchema, memberIds: z.array(IdSchema), actorId: IdSchema });
const MemberJoined = z.object({ room: RoomSchema, userId: IdSchema, actorId: IdSchema });
const MemberLeft = z.object({ room: RoomSchema, userId: IdSchema, actorId: IdSchema });

interface EventDef<S extends z.ZodType> {
  schema: S;
  topic: Topic;
  kind: 'command' | 'fact';
  /** The Kafka record key: events with the same key stay in order. */
  key: (data: z.infer<S>) => string;
  /** The key in words, for docs/events.md. */
  keyDoc: string;
  doc: string;
}

const def = <S extends z.ZodType>(d: EventDef<S>): EventDef<S> => d;

/** Stable key of an unordered user pair: the DM of {a, b} is the DM of {b, a}. */
export const dmPairKey = (a: string, b: string): string => (a < b ? `${a}:${b}` : `${b}:${a}`);

export const CATALOG = {
  'parley.message.send': def({
    schema: MessageSend,
    topic: TOPICS.messageCommands,
    kind: 'command',
    key: (d) => d.roomId,
    keyDoc: 'roomId',
    doc: 'A user sends a message (from the gateway). Consumed by message-write.',
  }),
  'parley.message.created': def({
    schema: MessageCreated,
    topic: TOPICS.messageEvents,
    kind: 'fact',
    key: (d) => d.message.roomId,
    keyDoc: 'message.roomId',
    doc: 'A message was stored with its seq. Consumed by message-index and notify.',
  }),
  'parley.message.edited': def({
    schema: MessageEdited,
    topic: TOPICS.messageEvents,
    kind: 'fact',
    key: (d) => d.message.roomId,
    keyDoc: 'message.roomId',
    doc: 'A message body was changed (no producer in protocol v1 yet). Consumed by message-index.',
  }),
  'parley.message.deleted': def({
    schema: MessageDeleted,
    topic: TOPICS.messageEvents,
    kind: 'fact',
    key: (d) => d.message.roomId,
    keyDoc: 'message.roomId',
    doc: 'A message was deleted; its body is gone (no producer in protocol v1 yet). Consumed by message-index.',
  }),
  'parley.room.create': def({
    schema: RoomCreate,
    topic: TOPICS.roomCommands,
    kind: 'command',
    key: (d) => d.roomId,
    keyDoc: 'roomId',
    doc: 'Create a group room with initial members. Consumed by room-ops.',
  }),
  'parley.room.dm.open': def({
    schema: DmOpen,
    topic: TOPICS.roomCommands,
    kind: 'command',
    key: (d) => dmPairKey(d.actorId, d.userId),
    keyDoc: 'the user pair `a:b` (ids sorted)',
    doc: 'Create or get the one DM room of two users. Keyed by the pair, so concurrent opens are serialised.',
  }),
  'parley.room.member.invite': def({
    schema: MemberInvite,
    topic: TOPICS.roomCommands,
    kind: 'command',
    key: (d) => d.roomId,
    keyDoc: 'roomId',
    doc: 'A member adds a user to a group room. Consumed by room-ops.',
  }),
  'parley.room.member.leave': def({
    schema: MemberLeave,
    topic: TOPICS.roomCommands,
    kind: 'command',
    key: (d) => d.roomId,
    keyDoc: 'roomId',
    doc: 'A member leaves a room. Consumed by room-ops.',
  }),
  'parley.notify.read': def({
    schema: NotifyRead,
    topic: TOPICS.notifyCommands,
    kind: 'command',
    key: (d) => d.actorId,
    keyDoc: 'actorId',
    doc: 'A user has read a room up to seq (the `read` frame, `POST /rooms/:id/read`). Consumed by notify: the marker only ever grows.',
  }),
  'parley.notify.inbox.read': def({
    schema: NotifyInboxRead,
    topic: TOPICS.notifyCommands,
    kind: 'command',
    key: (d) => d.actorId,
    keyDoc: 'actorId',
    doc: 'A user marks inbox entries (or all) read (`POST /notifications/read`). Consumed by notify.',
  }),
  'parley.room.created': def({
    schema: RoomCreated,
    topic: TOPICS.roomEvents,
    kind: 'fact',
    key: (d) => d.room.id,
    keyDoc: 'room.id',
    doc: 'A room (group or DM) exists with its first members.',
  }),
  'parley.room.member.joined': def({
    schema: MemberJoined,
    topic: TOPICS.roomEvents,
    kind: 'fact',
    key: (d) => d.room.id,
    keyDoc: 'room.id',
    doc: 'A user joined a room (invited).',
  }),
  'parley.room.member.left': def({
    schema: MemberLeft,
    topic: TOPICS.roomEvents,
    kind: 'fact',
    key: (d) => d.room.id,
    keyDoc: 'room.id',
    doc: 'A user left a room.',
  }),
} as const;

export type EventType = keyof typeof CATALOG;
export type EventData<T extends EventType> = z.infer<(typeof CATALOG)[T]['schema']>;

export const isEventType = (t: string): t is EventType => Object.hasOwn(CATALOG, t);

/** Types whose topic is `topic`. */
export const typesOfTopic = (topic: Topic): EventType[] =>
  (Object.keys(CATALOG) as EventType[]).filter((t) => CATALOG[t].topic === topic);
