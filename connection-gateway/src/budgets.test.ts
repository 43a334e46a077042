import { describe, expect, it } from 'vitest';
import { type BudgetLimits, UserBudgets } from './budgets';
import { GatewayLimitsSchema } from './config';

const limits = (over: Partial<BudgetLimits> = {}): BudgetLimits => ({
  ...GatewayLimitsSchema.parse({}),
  ...over,
});

describe('UserBudgets', () => {
  it('has the documented defaults', () => {
    const l = limits();
    expect([l.RATE_SEND_PER_SEC, l.RATE_SEND_BURST]).toEqual([10, 200]);
    expect([l.RATE_SYNC_PER_SEC, l.RATE_SYNC_BURST]).toEqual([5, 50]);
    expect([l.RATE_HISTORY_BYTES_PER_SEC, l.RATE_HISTORY_BYTES_BURST]).toEqual([2 ** 20, 2 ** 22]);
  });

  it('refuses a user past the burst of a kind, says how long to wait, and leaves other users alone', () => {
    let now = 0;
    const budgets = new UserBudgets(
      limits({ RATE_SEND_PER_SEC: 10, RATE_SEND_BURST: 3 }),
      () => now,
    );
    expect([1, 2, 3].map(() => budgets.take('u_a', 'send').ok)).toEqual([true, true, true]);
    expect(budgets.take('u_a', 'send')).toEqual({ ok: false, retryAfterMs: 100 });
    expect(budgets.take('u_b', 'send').ok).toBe(true);
    expect(budgets.take('u_a', 'sync').ok).toBe(true);
    now += 100;
    expect(budgets.take('u_a', 'send').ok).toBe(true);
  });

  it('grants history bytes while enough are left, and a larger answer than the burst once it is full', () => {
    let now = 0;
    const budgets = new UserBudgets(
      limits({ RATE_HISTORY_BYTES_PER_SEC: 1000, RATE_HISTORY_BYTES_BURST: 4000 }),
      () => now,
    );
    expect(budgets.takeBytes('u_a', 3000).ok).toBe(true);
    expect(budgets.bytesAvailable('u_a')).toBe(1000);
    expect(budgets.takeBytes('u_a', 2000)).toEqual({ ok: false, retryAfterMs: 1000 });
    now += 3000;
    // 10,000 bytes in one answer: granted with a full bucket, which is then 6,000 in debt.
    expect(budgets.takeBytes('u_a', 10_000).ok).toBe(true);
    expect(budgets.bytesAvailable('u_a')).toBe(0);
    expect(budgets.msUntilBytes('u_a', 1)).toBe(6001);
  });

  it('keeps a used-up budget after its sockets are gone, and drops it once it has refilled', () => {
    let now = 0;
    const budgets = new UserBudgets(
      limits({ RATE_SEND_PER_SEC: 1, RATE_SEND_BURST: 1 }),
      () => now,
    );
    budgets.take('u_a', 'send');
    budgets.take('u_b', 'frames');
    expect(budgets.size).toBe(2);
    now += 500; // a reconnect half a second later: the same, used-up budget
    expect(budgets.take('u_a', 'send').ok).toBe(false);
    now += 20_000; // every bucket full again: the states are as good as new and go
    budgets.take('u_c', 'frames');
    expect(budgets.size).toBe(1); // u_c only
    now += 500;
    expect(budgets.take('u_a', 'send').ok).toBe(true); // a new, full budget
  });
});
