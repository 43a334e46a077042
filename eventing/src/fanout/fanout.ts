/**
 * Fan-out: how a stored message or a membership change reaches the gateways
 * that hold the affected sockets. Channels are per room (`room:<id>`: new
 * messages, seen by every member) and per user (`user:<id>`: acks for
 * retries, refusals, room events for that user). A gateway subscribes only to
 * the channels of its connected users and their rooms.
 *
 * Fan-out is best effort (Redis pub/sub): a gateway that misses a message is
 * repaired by the client's `sync`, because every message has a seq.
 */
import type { ErrorCode, Message, Room } from '@parley/protocol';

export type FanoutPayload =
  /** On `room:<id>`: a new message. The sender's sending socket turns it into its `ack`. */
  | { kind: 'message'; message: Message }
  /** On `user:<sender>`: a retried clientMsgId that was already stored — ack it again. */
  | { kind: 'ack'; message: Message }
  /** On `user:<sender>`: message-write refused a send (e.g. no longer a member). */
  | { kind: 'send-rejected'; roomId: string; clientMsgId: string; code: ErrorCode; message: string }
  /** On `room:<id>`: a member is typing (relayed by the gateway that holds their socket). */
  | { kind: 'typing'; roomId: string; userId: string }
  /** On `room:<id>`: a member has read up to seq. */
  | { kind: 'read'; roomId: string; userId: string; seq: number }
  /** On `user:<id>`: this user's membership changed. `causationId` is the command's event id. */
  | { kind: 'room'; event: 'created' | 'joined' | 'left'; room: Room; causationId?: string }
  /**
   * On `user:<actor>`: the outcome of the actor's room command (event id =
   * `causationId`): the room on success, an error code on refusal. Exactly one
   * per handled command; the gateway answers the waiting HTTP request with it.
   */
  | {
      kind: 'command-result';
      causationId: string;
      room?: Room;
      code?: ErrorCode;
      message?: string;
    };

export const roomChannel = (roomId: string): string => `room:${roomId}`;
export const userChannel = (userId: string): string => `user:${userId}`;

export type FanoutListener = (channel: string, payload: FanoutPayload) => void;

export interface Fanout {
  publish(channel: string, payload: FanoutPayload): Promise<void>;
  /** Adds a listener; resolves once the subscription is active. */
  subscribe(channel: string, listener: FanoutListener): Promise<void>;
  unsubscribe(channel: string, listener: FanoutListener): Promise<void>;
  close(): Promise<void>;
}
