import { createLogger } from '@parley/runtime';
import type { AttemptStore } from '@parley/runtime/attempts/attempt-store';
import { MemoryAttemptStore } from '@parley/runtime/attempts/attempt-store.memory';
import { describe, expect, it } from 'vitest';
import { AuthThrottle, type AuthThrottleLimits, type LoginOutcome } from './index';

const LIMITS: AuthThrottleLimits = {
  LOGIN_FREE_FAILURES: 5,
  LOGIN_ADDRESS_FREE_FAILURES: 20,
  LOGIN_USER_FAILURE_BUDGET: 10,
  SIGNUPS_PER_ADDRESS_PER_HOUR: 3,
};

function setup(
  limits: Partial<AuthThrottleLimits> = {},
  store: AttemptStore = new MemoryAttemptStore(),
) {
  const clock = { now: 1_700_000_000_000 };
  const throttle = new AuthThrottle(
    store,
    { ...LIMITS, ...limits },
    createLogger('test', 'silent'),
    () => clock.now,
  );
  /** One login that the users function answers with `outcome`; the throttle's verdict. */
  const login = async (username: string, address: string, outcome: LoginOutcome = 'failure') => {
    const v = await throttle.login(username, address);
    if (v.ok) await throttle.loginDone(v.ticket, outcome);
    return v.ok ? 'ok' : v.retryAfterMs;
  };
  return { throttle, clock, login };
}

describe('login throttle', () => {
  it('lets five wrong passwords through per (username, address), then waits 1 s, 2 s, 4 s …', async () => {
    const { clock, login } = setup();
    for (let i = 0; i < 5; i++) expect(await login('alice', '203.0.113.7')).toBe('ok');
    expect(await login('alice', '203.0.113.7')).toBe(1000);
    clock.now += 1000;
    expect(await login('alice', '203.0.113.7')).toBe('ok');
    expect(await login('alice', '203.0.113.7')).toBe(2000);
    clock.now += 2000;
    expect(await login('ALICE', '203.0.113.7')).toBe('ok'); // usernames compare lower-cased
    expect(await login('alice', '203.0.113.7')).toBe(4000);
  });

  it('a guesser on one address does not lock the owner out from theirs', async () => {
    const { login } = setup();
    for (let i = 0; i < 8; i++) await login('alice', '203.0.113.7');
    expect(await login('alice', '203.0.113.7')).not.toBe('ok');
    expect(await login('alice', '198.51.100.1', 'success')).toBe('ok');
  });

  it('a success starts the pair over', async () => {
    const { login } = setup();
    for (let i = 0; i < 4; i++) await login('alice', '198.51.100.1');
    expect(await login('alice', '198.51.100.1', 'success')).toBe('ok');
    for (let i = 0; i < 5; i++) expect(await login('alice', '198.51.100.1')).toBe('ok');
  });

  it('password spraying: failures across usernames from one address are limited too', async () => {
    const { login } = setup();
    for (let i = 0; i < 20; i++) expect(await login(`user${i}`, '203.0.113.7')).toBe('ok');
    expect(await login('someone-new', '203.0.113.7')).toBe(1000);
    expect(await login('someone-new', '198.51.100.1')).toBe('ok');
  });

  it('successes are not failures: a busy shared address is not throttled for them', async () => {
    const { login } = setup();
    for (let i = 0; i < 50; i++) expect(await login(`user${i}`, '192.0.2.1', 'success')).toBe('ok');
    expect(await login('another', '192.0.2.1')).toBe('ok');
  });

  it('an answer that is neither success nor failure (400, 503) is given back', async () => {
    const { login } = setup({ LOGIN_FREE_FAILURES: 1 });
    for (let i = 0; i < 5; i++) expect(await login('alice', '203.0.113.7', 'other')).toBe('ok');
  });

  it('a login the users function was too busy to hash stays counted for the pair', async () => {
    const { login } = setup({ LOGIN_FREE_FAILURES: 2 });
    expect(await login('alice', '203.0.113.7', 'busy')).toBe('ok');
    expect(await login('alice', '203.0.113.7', 'busy')).toBe('ok');
    expect(await login('alice', '203.0.113.7', 'busy')).toBe(1000);
  });

  it('says in the ticket whether the address has logged in to the account before', async () => {
    const { throttle, login } = setup();
    const first = await throttle.login('alice', '198.51.100.1');
    expect(first.ok && first.ticket.knownAddress).toBe(false);
    if (first.ok) await throttle.loginDone(first.ticket, 'success');
    const again = await throttle.login('alice', '198.51.100.1');
    expect(again.ok && again.ticket.knownAddress).toBe(true);
    expect(await login('alice', '203.0.113.7')).toBe('ok');
  });

  it('parallel logins cannot all pass before the first failure is counted', async () => {
    const { throttle } = setup();
    const verdicts = await Promise.all(
      Array.from({ length: 50 }, () => throttle.login('alice', '203.0.113.7')),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(5);
  });

  describe('a distributed attack on one username', () => {
    const attack = async (login: ReturnType<typeof setup>['login']) => {
      // 10 failures (the budget) from 10 addresses.
      for (let i = 0; i < 10; i++) await login('alice', `198.18.0.${i + 1}`);
    };

    it('slows new addresses: one attempt at once, then 30 s, 60 s … per address', async () => {
      const { clock, login } = setup();
      await attack(login);
      expect(await login('alice', '198.18.1.1')).toBe('ok');
      expect(await login('alice', '198.18.1.1')).toBe(30_000);
      clock.now += 30_000;
      expect(await login('alice', '198.18.1.1')).toBe('ok');
      expect(await login('alice', '198.18.1.1')).toBe(60_000);
      // The owner on a new address is slowed, not blocked: the first try goes through.
      expect(await login('alice', '198.51.100.99', 'success')).toBe('ok');
    });

    it('leaves the addresses the owner logged in from on the normal rule', async () => {
      const { login } = setup();
      expect(await login('alice', '198.51.100.1', 'success')).toBe('ok');
      await attack(login);
      // A typo or four from home: still the five free attempts.
      for (let i = 0; i < 4; i++) expect(await login('alice', '198.51.100.1')).toBe('ok');
      expect(await login('alice', '198.51.100.1', 'success')).toBe('ok');
    });

    it('never blocks other usernames', async () => {
      const { login } = setup();
      await attack(login);
      expect(await login('bob', '198.18.1.1')).toBe('ok');
      expect(await login('bob', '198.18.1.1')).toBe('ok');
    });
  });

  it('an unreachable store is 503 unavailable, never a login let through unthrottled', async () => {
    const down = new MemoryAttemptStore();
    down.counts = () => Promise.reject(new Error('ECONNREFUSED'));
    const { throttle } = setup({}, down);
    await expect(throttle.login('alice', '203.0.113.7')).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
});

describe('sign-up throttle', () => {
  it('allows SIGNUPS_PER_ADDRESS_PER_HOUR from one address, then one an hour', async () => {
    const { throttle, clock } = setup();
    for (let i = 0; i < 3; i++) expect((await throttle.signup('203.0.113.7')).ok).toBe(true);
    expect(await throttle.signup('203.0.113.7')).toEqual({ ok: false, retryAfterMs: 3_600_000 });
    expect((await throttle.signup('198.51.100.1')).ok).toBe(true);
    clock.now += 3_600_000;
    expect((await throttle.signup('203.0.113.7')).ok).toBe(true);
  });

  it('gives back a sign-up that created nothing', async () => {
    const { throttle } = setup({ SIGNUPS_PER_ADDRESS_PER_HOUR: 1 });
    for (let i = 0; i < 3; i++) {
      const v = await throttle.signup('203.0.113.7');
      expect(v.ok).toBe(true);
      if (v.ok) await throttle.signupDone(v.ticket, false);
    }
  });
});
