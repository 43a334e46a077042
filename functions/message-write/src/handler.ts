/**
 * message-write: turns a `parley.message.send` command into a stored message
 * with the room's next seq, then makes it visible: recent cache, live
 * fan-out, and the `parley.message.created` fact for search and notify.
 *
 * Delivery is at least once, so every step is safe to repeat: the store is
 * idempotent on (room, sender, clientMsgId), the cache add replaces by seq,
 * the live fan-out is repeated only if it never happened (live-marks.ts), and
 * consumers of the fact dedupe by message id. A transient failure throws
 * (the source redelivers); the redelivery finds the stored message and
 * completes whatever the first attempt did not.
 *
 * Concurrent events (one per partition in flight) share their commit: the
 * sends that arrive while one is being stored are stored together in the
 * next one, one transaction per shard (group-commit.ts). Each event still
 * answers only after its own message is stored, shown and emitted, and a
 * failed commit fails each of its events. What follows the commit runs per
 * event but in step, so the Redis commands of a batch leave in one write
 * (the client auto-pipelines what is issued in one turn).
 */
import {
  type CloudEventFunction,
  createEvent,
  type EventSink,
  type Fanout,
  roomChannel,
  userChannel,
} from '@parley/eventing';
import type { AppendInput, AppendResult, MessageStore } from '@parley/message-store';
import type { RecentCache } from '@parley/message-store/recent-cache';
import { failpoint, type Logger, newId } from '@parley/runtime';
import { currentTraceparent } from '@parley/runtime/tracing';
import { GroupCommitter } from './group-commit';
import type { LiveMarks } from './live-marks';
import type { MessageWriteMetrics } from './metrics';

export interface MessageWriteDeps {
  store: MessageStore;
  recent: RecentCache;
  /** Membership with fallback to the room service: `membershipWithFallback(cache, loader)`. */
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  fanout: Fanout;
  /** Where `parley.message.created` goes (K_SINK / the memory bus). */
  sink: EventSink;
  /** Which messages were shown live; without it a redelivery always repeats the fan-out. */
  live?: LiveMarks;
  log: Logger;
  metrics?: MessageWriteMetrics;
  /** Clock and id source (tests pin them). */
  now?: () => number;
  newMessageId?: () => string;
  /** Most sends stored in one group commit (default 100). */
  maxBatch?: number;
}

export const MESSAGE_WRITE_SOURCE = 'message-write';

/**
 * @example registerFunction('message-write', cloudEventApp(createMessageWrite(deps), { log, registry }))
 */
export function createMessageWrite(deps: MessageWriteDeps): CloudEventFunction {
  const now = deps.now ?? Date.now;
  const nextId = deps.newMessageId ?? (() => newId('m'));
  const appends = new GroupCommitter<AppendInput, AppendResult>(
    (inputs) => deps.store.appendMany(inputs),
    {
      ...(deps.maxBatch !== undefined ? { maxBatch: deps.maxBatch } : {}),
      onBatch: (size) => deps.metrics?.commitBatchSize.observe(size),
    },
  );
  return {
    name: 'message-write',
    accepts: ['parley.message.send'],
    async handle(event, ctx) {
      if (event.type !== 'parley.message.send') return; // the wrapper refuses other types
      const { actorId, roomId, clientMsgId, body, acceptedTs } = event.data;
      const log = ctx.log.child({ actorId, clientMsgId }); // roomId: the wrapper's

      // 1. Membership before anything is written: a refused send changes
      //    nothing. The refusal is the command's final answer, so it goes to
      //    the sender (the gateway turns it into an `error` frame) and the
      //    event completes (2xx) instead of being dead-lettered. Exception: a
      //    redelivery of a send stored while the sender was still a member
      //    (who has left since) is finished below, or its fact would be lost.
      if (
        !(await deps.isMember(roomId, actorId)) &&
        !(await deps.store.find(roomId, actorId, clientMsgId))
      ) {
        await deps.fanout.publish(userChannel(actorId), {
          kind: 'send-rejected',
          roomId,
          clientMsgId,
          code: 'not_member',
          message: 'you are not a member of this room',
        });
        log.info('send refused: not a member');
        return;
      }

      // 2. The commit: the seq is assigned here, once. Everything after it is
      //    derived from the stored message, so a redelivery after a failure
      //    below gets the same message back (created=false) and redoes the rest.
      //    Stored together with the sends that arrived meanwhile; this throws
      //    unless this send's message is stored.
      const { message, created } = await appends.submit({
        id: nextId(),
        roomId,
        senderId: actorId,
        clientMsgId,
        body,
        ts: now(),
      });
      // Now, not message.ts: the send may have waited for the commit before this one.
      if (created) deps.metrics?.storeLatency.observe(Math.max(0, now() - acceptedTs) / 1000);
      await failpoint('message-write.after-commit');

      // 3. The cache before the fan-out, so a client that sees the message live
      //    and then asks for the latest page finds it cached. Best effort on
      //    purpose: a gap only costs cache misses (range() never answers across
      //    one, and the messages function repairs it on a miss), whereas
      //    failing here would turn the redelivery into a mere ack and the room
      //    would never see the message live.
      try {
        await deps.recent.add(message);
      } catch (err) {
        deps.metrics?.cacheAddFailures.inc();
        log.warn({ err, seq: message.seq }, 'recent cache add failed; continuing');
      }

      // 4. Live delivery. A new message goes to the room (the sender's socket
      //    takes it as its ack), and is marked as shown. A redelivery acks the
      //    sender on their own channel (they may have left the room since), and
      //    goes to the room again only if it was never marked: the first attempt
      //    died between the commit and the publish, and nobody saw it live.
      //    Receivers keep one message per seq, so a repeat costs a frame, never
      //    a duplicate in a timeline.
      const shown =
        !created &&
        (await deps.live?.has(message.id).catch((err) => {
          log.warn({ err, seq: message.seq }, 'live mark unreadable; showing the message again');
          return false;
        }));
      if (!shown) {
        // sentAt: the send's acceptance at its gateway, for the send → deliver latency the
        // receiving gateways measure; traceparent: this handling's span, which their fan-out joins.
        const traceparent = currentTraceparent();
        await deps.fanout.publish(roomChannel(roomId), {
          kind: 'message',
          message,
          sentAt: new Date(acceptedTs).toISOString(),
          ...(traceparent ? { traceparent } : {}),
        });
        await deps.live?.mark(message.id).catch((err) => {
          log.warn({ err, seq: message.seq }, 'live mark not written; a retry shows it again');
        });
      }
      if (!created) await deps.fanout.publish(userChannel(actorId), { kind: 'ack', message });

      await failpoint('message-write.before-emit');
      // 5. The fact, always — also on a retry, since the first attempt may have
      //    failed before emitting it. Last, because real-time delivery should
      //    not wait for the sink. Its id derives from the message, so a
      //    repeated emit is recognisably the same event.
      await deps.sink.emit(
        createEvent(
          'parley.message.created',
          { message },
          {
            source: MESSAGE_WRITE_SOURCE,
            id: `${message.id}.created`,
            causationid: event.id,
            ...(event.traceparent ? { traceparent: event.traceparent } : {}),
          },
        ),
      );
      log.info(
        { seq: message.seq, messageId: message.id, created },
        created ? 'message stored' : 'retry acknowledged',
      );
    },
  };
}
