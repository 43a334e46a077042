import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { fixKafkajsIdleLoop } from './kafkajs-idle-fix';

const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const queues: RequestQueue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
});
const queue = () => {
  const q = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    clientId: 'test',
    broker: 'b:9092',
    logger,
  });
  queues.push(q);
  return q;
};
const request = (correlationId: number, sent: number[]) => ({
  entry: { correlationId },
  expectResponse: true,
  sendRequest: () => sent.push(correlationId),
});

describe("kafkajs' request queue, fixed", () => {
  fixKafkajsIdleLoop();

  it('arms no timer once nothing waits (kafkajs re-armed a 1 ms timer forever)', () => {
    const q = queue();
    const sent: number[] = [];
    q.push(request(1, sent));
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.checkPendingRequests(); // what every response does
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request that waited behind the in-flight limit', async () => {
    const q = queue();
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent)); // over maxInFlightRequests 1: queued, a recheck armed
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    q.inflight.delete(1); // request 1 answered
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toEqual([1, 2]);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a throttled request when the throttle ends', async () => {
    const q = queue();
    const sent: number[] = [];
    q.maybeThrottle(20);
    q.push(request(1, sent));
    expect(sent).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(sent).toEqual([1]);
  });
});
