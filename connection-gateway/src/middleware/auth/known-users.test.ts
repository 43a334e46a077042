import { serviceClient } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { KNOWN_USERS_BATCH, KnownUsers } from './known-users';

/** A users function that knows `ids`, counts its lookups, and can be made to fail. */
function fakeUsers(ids: string[]) {
  const state = { calls: 0, status: 200, ids: new Set(ids), asked: [] as string[][] };
  const client = serviceClient('http://users.test', async (req) => {
    state.calls++;
    if (state.status !== 200) return new Response('{}', { status: state.status });
    const asked = (new URL(req.url).searchParams.get('ids') ?? '').split(',');
    state.asked.push(asked);
    const users = asked
      .filter((id) => state.ids.has(id))
      .map((id) => ({ id, username: id, displayName: id }));
    return Response.json({ users });
  });
  return { client, state };
}

describe('KnownUsers', () => {
  it('says whether the users function knows an id, and remembers a yes for the TTL', async () => {
    const { client, state } = fakeUsers(['u_a']);
    let now = 0;
    const known = new KnownUsers(client, { ttlMs: 1000, max: 10 }, () => now);
    expect(await known.exists('u_a')).toBe(true);
    expect(await known.exists('u_a')).toBe(true);
    expect(state.calls).toBe(1);
    now += 1000;
    expect(await known.exists('u_a')).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('does not remember a no: a user who signs up later is found', async () => {
    const { client, state } = fakeUsers([]);
    const known = new KnownUsers(client);
    expect(await known.exists('u_b')).toBe(false);
    state.ids.add('u_b');
    expect(await known.exists('u_b')).toBe(true);
  });

  it('shares one lookup between concurrent checks of one id', async () => {
    const { client, state } = fakeUsers(['u_a']);
    const known = new KnownUsers(client);
    expect(await Promise.all([1, 2, 3].map(() => known.exists('u_a')))).toEqual([true, true, true]);
    expect(state.calls).toBe(1);
  });

  it('is unavailable, not "no such user", when the users function fails or lacks the route', async () => {
    const { client, state } = fakeUsers(['u_a']);
    const known = new KnownUsers(client);
    for (const status of [503, 500, 404]) {
      state.status = status;
      await expect(known.exists('u_a')).rejects.toMatchObject({ code: 'unavailable' });
    }
    const down = new KnownUsers(
      serviceClient('http://users.test', () => Promise.reject(new Error('ECONNREFUSED'))),
    );
    await expect(down.exists('u_a')).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('remembers at most `max` users, forgetting the oldest first', async () => {
    const { client, state } = fakeUsers(['u_1', 'u_2', 'u_3']);
    const known = new KnownUsers(client, { ttlMs: 60_000, max: 2 });
    for (const id of ['u_1', 'u_2', 'u_3']) await known.exists(id);
    expect(state.calls).toBe(3);
    await known.exists('u_3');
    await known.exists('u_2');
    expect(state.calls).toBe(3);
    await known.exists('u_1');
    expect(state.calls).toBe(4);
  });

  it('asks for the ids checked in one turn in one lookup, and answers each its own', async () => {
    const { client, state } = fakeUsers(['u_a', 'u_c']);
    const known = new KnownUsers(client);
    const answers = await Promise.all(['u_a', 'u_b', 'u_c', 'u_a'].map((id) => known.exists(id)));
    expect(answers).toEqual([true, false, true, true]);
    expect(state.asked).toEqual([['u_a', 'u_b', 'u_c']]);
    // The yeses are remembered, the no is asked again.
    expect(await known.exists('u_c')).toBe(true);
    expect(await known.exists('u_b')).toBe(false);
    expect(state.asked).toEqual([['u_a', 'u_b', 'u_c'], ['u_b']]);
  });

  it(`asks for at most ${KNOWN_USERS_BATCH} ids at a time`, async () => {
    const ids = Array.from({ length: 2 * KNOWN_USERS_BATCH + 1 }, (_, i) => `u_${i}`);
    const { client, state } = fakeUsers(ids);
    const known = new KnownUsers(client);
    expect(await Promise.all(ids.map((id) => known.exists(id)))).toEqual(ids.map(() => true));
    expect(state.asked.map((a) => a.length)).toEqual([KNOWN_USERS_BATCH, KNOWN_USERS_BATCH, 1]);
    expect(state.asked.flat()).toEqual(ids);
  });

  it('fails every check of a lookup that failed, and asks again next time', async () => {
    const { client, state } = fakeUsers(['u_a', 'u_b']);
    const known = new KnownUsers(client);
    state.status = 503;
    const checks = ['u_a', 'u_b'].map((id) => known.exists(id));
    for (const c of checks) await expect(c).rejects.toMatchObject({ code: 'unavailable' });
    expect(state.calls).toBe(1);
    state.status = 200;
    expect(await Promise.all(['u_a', 'u_b'].map((id) => known.exists(id)))).toEqual([true, true]);
    expect(state.calls).toBe(2);
  });
});
