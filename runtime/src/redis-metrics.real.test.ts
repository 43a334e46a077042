import { infraEnv, runId } from '@parley/tests/support/infra';
import { type Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createRedis } from './redis';
import { REDIS_COMMAND_SECONDS } from './redis-metrics';

describe('parley_redis_command_duration_seconds, on the real Redis', () => {
  const registry = new Registry();
  const redis = createRedis(infraEnv().REDIS_URL, 'redis-metrics-test', { registry });
  const sub = redis.duplicate();
  const key = `test:redis-metrics:${runId()}`;
  afterAll(async () => {
    await redis.del(key);
    sub.disconnect();
    redis.disconnect();
  });

  /** Observations per command so far. */
  const counts = async () => {
    const metric = await (
      registry.getSingleMetric(REDIS_COMMAND_SECONDS) as Histogram<'command'> | undefined
    )?.get();
    const byCommand: Record<string, number> = {};
    for (const v of metric?.values ?? []) {
      if (v.metricName !== `${REDIS_COMMAND_SECONDS}_count`) continue;
      byCommand[String(v.labels.command)] = v.value;
    }
    return byCommand;
  };
  const total = async () => Object.values(await counts()).reduce((a, b) => a + b, 0);

  it('times each command once, queued before the connection or pipelined, by its lower-case name', async () => {
    const fresh = createRedis(infraEnv().REDIS_URL, 'redis-metrics-test', { registry });
    try {
      // Sent as the client is made, before it connected: ioredis queues them offline, then passes
      // them through sendCommand a second time as it flushes the queue.
      expect(fresh.status).not.toBe('ready');
      await Promise.all([fresh.set(key, '1'), fresh.get(key)]);
      for (let i = 0; i < 4; i++) await fresh.get(key);
      await fresh.pipeline().incr(key).get(key).exec();
      await fresh.call('GET', key);
    } finally {
      fresh.disconnect();
    }
    const c = await counts();
    expect(c.set).toBe(1);
    expect(c.get).toBe(1 + 4 + 1 + 1);
    expect(c.incr).toBe(1);
    expect(c.GET).toBeUndefined();
  });

  it("times a duplicate's (subscriber's) commands, and not the messages it receives", async () => {
    const channel = `test:redis-metrics:${runId()}`;
    const received: string[] = [];
    sub.on('message', (_channel, message) => received.push(message));
    await sub.subscribe(channel);
    expect((await counts()).subscribe).toBe(1);
    const before = await total();
    for (const m of ['a', 'b', 'c']) await redis.publish(channel, m);
    await vi.waitFor(() => expect(received).toEqual(['a', 'b', 'c']));
    // The three publishes, and nothing for the three messages the subscriber received.
    expect((await total()) - before).toBe(3);
    expect((await counts()).publish).toBe(3);
  });
});
