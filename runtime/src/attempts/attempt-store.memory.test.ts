import { describe, expect, it } from 'vitest';
import { describeAttemptStoreContract } from './attempt-store.contract';
import { MemoryAttemptStore } from './attempt-store.memory';

describeAttemptStoreContract('memory', () => new MemoryAttemptStore());

describe('MemoryAttemptStore', () => {
  it('drops expired counters, so a flood of distinct keys does not pile up', async () => {
    const store = new MemoryAttemptStore();
    const policy = { free: 5, baseMs: 1000, maxMs: 1000, ttlMs: 1000 };
    for (let i = 0; i < 1000; i++) await store.attempt([{ key: `a${i}`, policy }], 0);
    expect(store.size).toBe(1000);
    for (let i = 0; i < 1000; i++) await store.attempt([{ key: `b${i}`, policy }], 5000);
    expect(store.size).toBe(1000);
  });
});
