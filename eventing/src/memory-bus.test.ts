import { createLogger, fnv1a32, ParleyError } from '@parley/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterTopic, TOPICS } from './catalog';
import type { AnyParleyEvent } from './cloudevent';
import { MemoryBus } from './memory-bus';
import { deferred, messageSend, seqOf } from './testing';

const log = createLogger('memory-bus-test', 'silent');
const topic = TOPICS.messageCommands;
const partitionOf = (key: string) => fnv1a32(key) % 6;
const fast = { backoffDelayMs: 1, backoffMaxMs: 4 };
const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

let bus: MemoryBus;
afterEach(async () => {
  await bus?.close();
});

describe('MemoryBus', () => {
  it('delivers each key in emit order under many concurrent emits across keys', async () => {
    bus = new MemoryBus({ log });
    const seen = new Map<string, number[]>();
    bus.subscribe({
      topic,
      group: 'g',
      handler: async (e) => {
        // Uneven handler times: order must come from the bus, not from luck.
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        const list = seen.get(e.partitionkey) ?? [];
        list.push(seqOf(e));
        seen.set(e.partitionkey, list);
      },
    });
    const keys = Array.from({ length: 20 }, (_, i) => `r_${i}`);
    const sent = new Map<string, number[]>(keys.map((k) => [k, []]));
    const emits: Promise<void>[] = [];
    for (let n = 0; n < 600; n++) {
      const key = keys[n % keys.length] as string;
      sent.get(key)?.push(n);
      emits.push(bus.emit(messageSend(key, n)));
    }
    await Promise.all(emits);
    await bus.idle();
    for (const key of keys) expect(seen.get(key)).toEqual(sent.get(key));
  });

  it('a slow partition does not hold up the others', async () => {
    bus = new MemoryBus({ log, partitions: 6 });
    const release = deferred();
    const delivered: string[] = [];
    bus.subscribe({
      topic,
      group: 'g',
      handler: async (e) => {
        if (e.partitionkey === 'r_slow') await release.promise;
        delivered.push(e.partitionkey);
      },
    });
    const other = ['r_a', 'r_b', 'r_c', 'r_d', 'r_e', 'r_f', 'r_g'].find(
      (k) => partitionOf(k) !== partitionOf('r_slow'),
    ) as string;
    await bus.emit(messageSend('r_slow'));
    await bus.emit(messageSend(other));
    await ticks();
    const deliveredWhileSlowBlocked = [...delivered];
    release.resolve();
    await bus.idle();
    expect(deliveredWhileSlowBlocked).toEqual([other]);
    expect(delivered.sort()).toEqual([other, 'r_slow'].sort());
  });

  it('retries a failing handler until it succeeds (at least once)', async () => {
    bus = new MemoryBus({ log });
    let calls = 0;
    bus.subscribe({
      topic,
      group: 'g',
      retry: 5,
      ...fast,
      handler: async () => {
        calls++;
        if (calls < 3) throw new ParleyError('unavailable', 'db down');
      },
    });
    await bus.emit(messageSend('r_1'));
    await bus.idle();
    expect(calls).toBe(3);
    expect(bus.deadLetters(topic)).toEqual([]);
  });

  it('dead-letters an event after 1 + retry attempts and goes on with the partition', async () => {
    bus = new MemoryBus({ log });
    const attempts = new Map<number, number>();
    const delivered: number[] = [];
    bus.subscribe({
      topic,
      group: 'writer',
      retry: 3,
      ...fast,
      handler: async (e) => {
        const n = seqOf(e);
        attempts.set(n, (attempts.get(n) ?? 0) + 1);
        if (n === 1) throw new Error('bug: always fails');
        delivered.push(n);
      },
    });
    for (const n of [0, 1, 2]) await bus.emit(messageSend('r_same', n));
    await bus.idle();
    expect(attempts.get(1)).toBe(4);
    expect(delivered).toEqual([0, 2]);
    const dead = bus.deadLetters(topic);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ topic, group: 'writer', code: 'internal', attempts: 4 });
    expect(seqOf(dead[0]?.event as AnyParleyEvent)).toBe(1);
  });

  it('dead-letters a non-retriable refusal at once', async () => {
    bus = new MemoryBus({ log });
    let calls = 0;
    bus.subscribe({
      topic,
      group: 'g',
      retry: 5,
      ...fast,
      handler: async () => {
        calls++;
        throw new ParleyError('not_member', 'not a member');
      },
    });
    await bus.emit(messageSend('r_1'));
    await bus.idle();
    expect(calls).toBe(1);
    expect(bus.deadLetters(topic)).toMatchObject([{ code: 'not_member', attempts: 1 }]);
  });

  it('a dead-letter topic can be subscribed like any topic', async () => {
    bus = new MemoryBus({ log });
    const dlq: AnyParleyEvent[] = [];
    bus.subscribe({
      topic: deadLetterTopic(topic),
      group: 'triage',
      handler: async (e) => void dlq.push(e),
    });
    bus.subscribe({
      topic,
      group: 'g',
      handler: async () => {
        throw new ParleyError('bad_request', 'no');
      },
    });
    const event = messageSend('r_1');
    await bus.emit(event);
    await bus.idle();
    expect(dlq.map((e) => e.id)).toEqual([event.id]);
  });

  it('gives every group every event, independently of the others', async () => {
    bus = new MemoryBus({ log });
    const a: number[] = [];
    const b: number[] = [];
    bus.subscribe({ topic, group: 'a', handler: async (e) => void a.push(seqOf(e)) });
    bus.subscribe({
      topic,
      group: 'b',
      ...fast,
      retry: 1,
      handler: async (e) => {
        if (seqOf(e) === 1) throw new ParleyError('unavailable', 'b is sick');
        b.push(seqOf(e));
      },
    });
    for (const n of [0, 1, 2]) await bus.emit(messageSend('r_1', n));
    await bus.idle();
    expect(a).toEqual([0, 1, 2]);
    expect(b).toEqual([0, 2]);
    expect(bus.deadLetters(topic)).toMatchObject([{ group: 'b' }]);
  });

  it('a group that joins later starts from the earliest retained event; a returning group resumes', async () => {
    bus = new MemoryBus({ log });
    for (const n of [0, 1]) await bus.emit(messageSend('r_1', n));
    const seen: number[] = [];
    const sub = bus.subscribe({
      topic,
      group: 'late',
      handler: async (e) => void seen.push(seqOf(e)),
    });
    await bus.idle();
    expect(seen).toEqual([0, 1]);
    await sub.close();
    await bus.emit(messageSend('r_1', 2));
    bus.subscribe({ topic, group: 'late', handler: async (e) => void seen.push(seqOf(e)) });
    await bus.idle();
    expect(seen).toEqual([0, 1, 2]);
  });

  it('members of one group share the work: each event is handled once by the group', async () => {
    bus = new MemoryBus({ log });
    const handledBy: string[] = [];
    bus.subscribe({ topic, group: 'g', handler: async () => void handledBy.push('one') });
    bus.subscribe({ topic, group: 'g', handler: async () => void handledBy.push('two') });
    for (let n = 0; n < 60; n++) await bus.emit(messageSend(`r_${n}`, n));
    await bus.idle();
    expect(handledBy).toHaveLength(60);
    expect(new Set(handledBy)).toEqual(new Set(['one', 'two']));
  });

  it('close() waits for the in-flight delivery', async () => {
    bus = new MemoryBus({ log });
    const started = deferred();
    const release = deferred();
    let finished = false;
    const sub = bus.subscribe({
      topic,
      group: 'g',
      handler: async () => {
        started.resolve();
        await release.promise;
        finished = true;
      },
    });
    await bus.emit(messageSend('r_1'));
    await started.promise;
    let closed = false;
    const closing = sub.close().then(() => {
      closed = true;
    });
    await ticks();
    expect(closed).toBe(false);
    release.resolve();
    await closing;
    expect(finished).toBe(true);
  });

  it('an event whose retry was pending at close is redelivered to the group later', async () => {
    bus = new MemoryBus({ log });
    const failedOnce = deferred();
    const sub = bus.subscribe({
      topic,
      group: 'g',
      backoffDelayMs: 60_000,
      backoffMaxMs: 60_000,
      handler: async () => {
        failedOnce.resolve();
        throw new ParleyError('unavailable', 'down');
      },
    });
    const event = messageSend('r_1');
    await bus.emit(event);
    await failedOnce.promise;
    await sub.close();
    const seen: string[] = [];
    bus.subscribe({ topic, group: 'g', handler: async (e) => void seen.push(e.id) });
    await bus.idle();
    expect(seen).toEqual([event.id]);
  });

  it('refuses an invalid event at emit', async () => {
    bus = new MemoryBus({ log });
    const bad = { ...messageSend('r_1'), data: { roomId: 'r_1' } } as unknown as AnyParleyEvent;
    await expect(bus.emit(bad)).rejects.toMatchObject({ code: 'bad_request' });
    const unknown = { ...messageSend('r_1'), type: 'parley.nope' } as unknown as AnyParleyEvent;
    await expect(bus.emit(unknown)).rejects.toMatchObject({ code: 'bad_request' });
    expect(bus.retained(topic)).toBe(0);
  });

  it('bounds retention by dropping consumed events, never unconsumed ones', async () => {
    bus = new MemoryBus({ log, retainPerTopic: 10 });
    const gate = deferred();
    const seen: number[] = [];
    bus.subscribe({ topic, group: 'fast', handler: async () => {} });
    bus.subscribe({
      topic,
      group: 'slow',
      handler: async (e) => {
        await gate.promise;
        seen.push(seqOf(e));
      },
    });
    for (let n = 0; n < 50; n++) await bus.emit(messageSend('r_1', n));
    await ticks();
    expect(bus.retained(topic)).toBeGreaterThan(10);
    gate.resolve();
    await bus.idle();
    expect(seen).toEqual(Array.from({ length: 50 }, (_, n) => n));
    await bus.emit(messageSend('r_1', 50));
    await bus.idle();
    expect(bus.retained(topic)).toBeLessThanOrEqual(10);
  });

  it('handlers get their own copy of the event', async () => {
    bus = new MemoryBus({ log });
    const bodies: string[] = [];
    bus.subscribe({
      topic,
      group: 'mutator',
      handler: async (e) => {
        (e.data as { body: string }).body = 'mutated';
      },
    });
    bus.subscribe({
      topic,
      group: 'reader',
      handler: async (e) => void bodies.push((e.data as { body: string }).body),
    });
    await bus.emit(messageSend('r_1', 7));
    await bus.idle();
    expect(bodies).toEqual(['hello 7']);
  });
});

describe('backoff policies', () => {
  it('waits like Knative: exponential doubles, linear adds the delay each retry, both capped', async () => {
    const { backoffMs, retryWindowMs } = await import('./delivery-policy');
    const exp = { retry: 5, backoffDelayMs: 200, backoffMaxMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, exp))).toEqual([200, 400, 800, 1600, 3200]);
    expect(retryWindowMs(exp)).toBe(6_200);
    const lin = {
      retry: 20,
      backoffPolicy: 'linear' as const,
      backoffDelayMs: 1_000,
      backoffMaxMs: 20_000,
    };
    expect([1, 2, 3, 20].map((n) => backoffMs(n, lin))).toEqual([1_000, 2_000, 3_000, 20_000]);
    // An index outage of over three minutes is ridden out before a fact is dead-lettered.
    expect(retryWindowMs(lin)).toBe(210_000);
    expect(backoffMs(30, { ...lin, backoffMaxMs: 5_000 })).toBe(5_000);
  });
});
