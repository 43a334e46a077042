/**
 * `parley_redis_command_duration_seconds{command}`: how long each Redis command of a client takes,
 * from the moment ioredis is handed it to its reply (or error) — so a command queued while the
 * connection is down counts its wait, as its caller sees it.
 *
 * ioredis has no public per-command hook, so the client's own `sendCommand` is wrapped (every
 * command passes there, pipelined ones and those of `duplicate()`d clients — the fan-out's
 * subscriber — included). Messages a subscriber receives are not commands and are not timed.
 * Cost per command: one `performance.now()` pair, a map lookup for the command's cached child, and
 * one `then` on the command's promise.
 */
import type { Command, Redis } from 'ioredis';
import { Histogram, type Registry } from 'prom-client';
import { metricOnce } from './metric-once';

export const REDIS_COMMAND_SECONDS = 'parley_redis_command_duration_seconds';

/** Sub-millisecond to a second: a local Redis answers in ~0.1-1 ms; past 250 ms something is wrong. */
export const REDIS_COMMAND_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

type Observe = (seconds: number) => void;

/** Each histogram's child per command name as ioredis spells it (lower-cased once, here). */
const childrenOf = new WeakMap<Histogram<'command'>, Map<string, Observe>>();

/**
 * Commands already being timed: ioredis sends a command through `sendCommand` again when it
 * flushes its offline queue or resends after a reconnect; only the first pass starts the clock.
 */
const timed = new WeakSet<Command>();

/**
 * Times every command of `redis` (and of its duplicates) in `registry`; returns `redis`.
 * @example const redis = instrumentRedis(new Redis(url), registry);
 */
export function instrumentRedis(redis: Redis, registry: Registry): Redis {
  const histogram = metricOnce(
    registry,
    REDIS_COMMAND_SECONDS,
    () =>
      new Histogram({
        name: REDIS_COMMAND_SECONDS,
        help: 'Redis commands from being handed to the client to their reply, by command (lower-case)',
        labelNames: ['command'],
        buckets: REDIS_COMMAND_BUCKETS,
        registers: [registry],
      }),
  );
  let children = childrenOf.get(histogram);
  if (!children) {
    children = new Map();
    childrenOf.set(histogram, children);
  }
  const cache = children;
  const observerOf = (name: string): Observe => {
    let observe = cache.get(name);
    if (!observe) {
      const child = histogram.labels(name.toLowerCase());
      observe = (seconds) => child.observe(seconds);
      cache.set(name, observe);
    }
    return observe;
  };

  const send = redis.sendCommand;
  redis.sendCommand = function (this: Redis, command, stream) {
    if (timed.has(command)) return send.call(this, command, stream);
    timed.add(command);
    const observe = observerOf(command.name);
    const start = performance.now();
    const done = () => observe((performance.now() - start) / 1000);
    const result = send.call(this, command, stream);
    command.promise.then(done, done);
    return result;
  };
  const duplicate = redis.duplicate;
  redis.duplicate = function (this: Redis, override) {
    return instrumentRedis(duplicate.call(this, override), registry);
  };
  return redis;
}
