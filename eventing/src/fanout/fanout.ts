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
import type { ErrorCode, Message, Notification, Room } from '@parley/protocol';

export type FanoutPayload =
  /**
   * On `room:<id>`: a new message. The sender's sending socket turns it into its `ack`.
   * `sentAt`: when the sender's gateway made the `message.send` (its CloudEvent `time`), for the
   * send → deliver latency; `traceparent`: message-write's span (W3C trace context), so the
   * receiving gateways' fan-out joins the send's trace. Both absent from older writers.
   */
  | { kind: 'message'; message: Message; sentAt?: string; traceparent?: string }
  /** On `user:<sender>`: a retried clientMsgId that was already stored — ack it again. */
  | { kind: 'ack'; message: Message }
  /** On `user:<sender>`: message-write refused a send (e.g. no longer a member). */
  | { kind: 'send-rejected'; roomId: string; clientMsgId: string; code: ErrorCode; message: string }
  /** On `room:<id>`: a member is typing (relayed by the gateway that holds their socket). */
  | { kind: 'typing'; roomId: string; userId: string }
  /** On `room:<id>`: a member's read marker moved to seq (notify, after storing it). */
  | { kind: 'read'; roomId: string; userId: string; seq: number }
  /**
   * On `user:<id>`: this user's read marker of a room moved to seq (notify, after storing it);
   * `unread` = the room's lastSeq then − seq. Every socket of the user gets an `unread` frame.
   */
  | { kind: 'read-marker'; roomId: string; seq: number; unread: number }
  /** On `user:<id>`: the inbox changed: a new mention (with `notification`) or entries marked read. */
  | { kind: 'notification'; unreadTotal: number; notification?: Notification }
  /** On `room:<id>`: a member came online or went offline (a gateway; rooms up to the live-signal size). */
  | { kind: 'presence'; userId: string; online: boolean }
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
      /** A read command's outcome: the marker now and the unread count after it. */
      read?: { roomId: string; seq: number; unread: number };
      /** An inbox command's outcome. */
      inbox?: { unreadTotal: number };
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
