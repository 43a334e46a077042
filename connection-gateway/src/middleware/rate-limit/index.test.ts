import { describe, expect, it } from 'vitest';
import { TokenBucket } from './index';

describe('TokenBucket', () => {
  it('allows a burst, then refuses until tokens refill at the given rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 100; // 10/s → one token per 100 ms
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });
  it('never holds more than the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });
});

describe('TokenBucket, several tokens at a time', () => {
  it('takes n tokens only when n are there, and says how long until they are', () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 4000, () => now); // bytes: 1000/s, burst 4000
    expect(bucket.takeMany(3000)).toBe(true);
    expect(bucket.takeMany(2000)).toBe(false);
    expect(bucket.available()).toBe(1000);
    expect(bucket.msUntil(2000)).toBe(1000);
    expect(bucket.msUntil(10_000)).toBe(3000); // never more than the burst is waited for
    now += 1000;
    expect(bucket.takeMany(2000)).toBe(true);
    expect(bucket.msUntil(0)).toBe(0);
  });
  it('is full again once it has refilled', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    expect(bucket.isFull()).toBe(true);
    bucket.take();
    expect(bucket.isFull()).toBe(false);
    now += 100;
    expect(bucket.isFull()).toBe(true);
  });
});

describe('TokenBucket, a debt', () => {
  it('spends more than is there, and refills from below zero', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 100, () => now);
    bucket.spend(150);
    expect(bucket.available()).toBe(-50);
    expect(bucket.msUntil(1)).toBe(510);
    now += 1500;
    expect(bucket.available()).toBe(100);
  });
});
