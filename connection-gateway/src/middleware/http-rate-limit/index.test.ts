import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { KeyedBuckets, rateLimit } from './index';

describe('KeyedBuckets', () => {
  it('keeps one bucket per key: one key running dry does not touch another', () => {
    let now = 0;
    const buckets = new KeyedBuckets(2, 2, () => now);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([{ ok: true }, { ok: true }]);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    expect(buckets.take('b')).toEqual({ ok: true });
    now += 500;
    expect(buckets.take('a')).toEqual({ ok: true });
  });

  it('drops the buckets that are full again', () => {
    let now = 0;
    const buckets = new KeyedBuckets(10, 5, () => now);
    for (let i = 0; i < 100; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(100);
    now += 10_000;
    buckets.take('fresh');
    expect(buckets.size).toBe(1);
  });
});

describe('rateLimit', () => {
  it('answers 429 rate_limited with Retry-After and retryAfterMs once the key is over its rate', async () => {
    let now = 0;
    const app = new Hono();
    app.use(
      '*',
      rateLimit(new KeyedBuckets(0.5, 2, () => now), () => 'me', 'from this address'),
    );
    app.get('/x', (c) => c.json({ ok: true }));
    expect((await app.request('/x')).status).toBe(200);
    expect((await app.request('/x')).status).toBe(200);
    const refused = await app.request('/x');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: 'too many requests from this address; slow down',
        retryAfterMs: 2000,
      },
    });
    now += 2000;
    expect((await app.request('/x')).status).toBe(200);
  });
});
