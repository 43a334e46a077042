/**
 * message-write over its real adapters (MySQL on two physical shards, Redis
 * for membership, recent cache, fan-out and live marks), events delivered as
 * the KafkaSource does: one in flight per room, several rooms at once, so
 * the group commit batches sends of different rooms and shards.
 */
import {
  type AnyParleyEvent,
  cloudEventApp,
  createEvent,
  type EventSink,
  type FanoutPayload,
  type ParleyEvent,
  roomChannel,
  toHttpBinary,
  userChannel,
} from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { roomInHalf } from '@parley/message-store/contract';
import { messageMigrations } from '@parley/message-store/migrations';
import { MysqlMessageStore } from '@parley/message-store/mysql';
import { RedisRecentCache } from '@parley/message-store/recent-cache/redis';
import type { Message } from '@parley/protocol';
import {
  createLogger,
  createRedis,
  membershipWithFallback,
  migrate,
  ShardedMysql,
} from '@parley/runtime';
import { RedisMembershipCache } from '@parley/runtime/membership/membership-cache.redis';
import { freshShardSpec, infraEnv, runId } from '@parley/tests/support/infra';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageWrite } from './handler';
import { RedisLiveMarks } from './live-marks';
import { messageWriteMetrics } from './metrics';

const log = createLogger('message-write-real-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const SENDERS = ['u_alice', 'u_bob'];

describe('message-write on MySQL and Redis', () => {
  const redis = createRedis(infraEnv().REDIS_URL, 'message-write-test');
  const listener = new RedisFanout(createRedis(infraEnv().REDIS_URL, 'message-write-test-sub'));
  const prefix = `t:${runId()}:recent:`;
  const rooms = [
    roomInHalf('lower'),
    roomInHalf('lower'),
    roomInHalf('upper'),
    roomInHalf('upper'),
  ];
  const heard = new Map<string, FanoutPayload[]>();
  const emitted: ParleyEvent[] = [];
  const sink: EventSink = {
    emit: async (event) => {
      emitted.push(event);
    },
  };
  const registry = new Registry();
  let db: ShardedMysql;
  let store: MysqlMessageStore;
  let recent: RedisRecentCache;
  let deliver: (event: AnyParleyEvent) => Promise<number>;

  beforeAll(async () => {
    const spec = freshShardSpec('messages');
    await migrate(spec, await messageMigrations());
    db = ShardedMysql.fromSpec(spec);
    store = new MysqlMessageStore(db);
    recent = new RedisRecentCache(redis, prefix);
    const membership = new RedisMembershipCache(redis);
    for (const room of rooms) await membership.setMembers(room, SENDERS);
    for (const channel of [...rooms.map(roomChannel), ...SENDERS.map(userChannel)]) {
      heard.set(channel, []);
      await listener.subscribe(channel, (c, p) => heard.get(c)?.push(p));
    }
    const app = cloudEventApp(
      createMessageWrite({
        store,
        recent,
        isMember: membershipWithFallback(membership, async () => null),
        fanout: new RedisFanout(redis),
        live: new RedisLiveMarks(redis),
        sink,
        log,
        metrics: messageWriteMetrics(registry),
      }),
      { log, registry },
    );
    deliver = async (event) => {
      const { headers, body } = toHttpBinary(event as ParleyEvent);
      return (await app.request('/', { method: 'POST', headers, body })).status;
    };
  });

  afterAll(async () => {
    const keys = [
      ...(await redis.keys(`${prefix}*`)),
      ...rooms.map((r) => `parley:members:${r}`),
      ...emitted.map((e) => `live:${(e.data as { message: Message }).message.id}`),
    ];
    if (keys.length) await redis.del(...keys);
    await listener.close();
    redis.disconnect();
    await db.close();
  });

  const send = (roomId: string, i: number) =>
    createEvent(
      'parley.message.send',
      {
        actorId: SENDERS[i % 2] as string,
        roomId,
        clientMsgId: `c-${i}`,
        body: `message ${i} 👋`,
        acceptedTs: Date.now(),
      },
      { source: 'gateway' },
    ) as AnyParleyEvent;

  /** Until every room channel has heard `n` messages (pub/sub is asynchronous). */
  async function heardMessages(n: number) {
    const deadline = Date.now() + 5_000;
    const count = () => Math.min(...rooms.map((r) => heard.get(roomChannel(r))?.length ?? 0));
    while (count() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  it('rooms sending at once: each room gap-free in send order, cached, shown live in seq order, emitted', async () => {
    const PER_ROOM = 8;
    const commands = new Map(
      rooms.map((room) => [room, Array.from({ length: PER_ROOM }, (_, i) => send(room, i))]),
    );
    // One event in flight per room (a partition), every room at once.
    const statuses = await Promise.all(
      rooms.map(async (room) => {
        const out: number[] = [];
        for (const command of commands.get(room) ?? []) out.push(await deliver(command));
        return out;
      }),
    );
    expect(statuses.flat()).toEqual(Array(rooms.length * PER_ROOM).fill(202));
    await heardMessages(PER_ROOM);

    for (const room of rooms) {
      const { messages } = await store.page(room, { after: 0, limit: 100 });
      expect(messages.map((m) => `${m.seq}:${m.clientMsgId}`)).toEqual(
        Array.from({ length: PER_ROOM }, (_, i) => `${i + 1}:c-${i}`),
      );
      expect(await store.lastSeq(room)).toBe(PER_ROOM);
      expect(await recent.range(room, { limit: 100, lastSeq: PER_ROOM })).toEqual({
        messages,
        hasMore: false,
      });
      // Each carries its send's acceptance time (for the gateways' send → deliver latency).
      const sent = new Map(
        (commands.get(room) ?? []).map((c) => [
          (c.data as { clientMsgId: string }).clientMsgId,
          new Date((c.data as { acceptedTs: number }).acceptedTs).toISOString(),
        ]),
      );
      expect(heard.get(roomChannel(room))).toEqual(
        messages.map((message) => ({
          kind: 'message',
          message,
          sentAt: sent.get(message.clientMsgId),
        })),
      );
      for (const m of messages) expect(await redis.exists(`live:${m.id}`)).toBe(1);
    }
    expect(emitted).toHaveLength(rooms.length * PER_ROOM);
    const sizes = await registry.getSingleMetricAsString('parley_message_commit_batch_size');
    expect(sizes).toMatch(
      new RegExp(`parley_message_commit_batch_size_sum ${rooms.length * PER_ROOM}$`, 'm'),
    );
  });

  it('redeliveries in one batch store nothing new: each sender is acked again, the rooms see nothing twice', async () => {
    const before = new Map(rooms.map((r) => [r, heard.get(roomChannel(r))?.length ?? 0]));
    const again = rooms.map((room) => send(room, 0));
    // Same clientMsgIds as the first messages: redeliveries (new CloudEvent ids, same sends).
    expect(await Promise.all(again.map(deliver))).toEqual(rooms.map(() => 202));
    const deadline = Date.now() + 5_000;
    const acks = () => (heard.get(userChannel('u_alice')) ?? []).filter((p) => p.kind === 'ack');
    while (acks().length < rooms.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(
      acks()
        .map((p) => (p.kind === 'ack' ? `${p.message.roomId}:${p.message.seq}` : ''))
        .sort(),
    ).toEqual(rooms.map((r) => `${r}:1`).sort());
    // The acks left after any room publish would have (one connection, in order).
    for (const room of rooms) {
      expect(await store.lastSeq(room)).toBe(8);
      expect(heard.get(roomChannel(room))?.length).toBe(before.get(room));
    }
  });
});
