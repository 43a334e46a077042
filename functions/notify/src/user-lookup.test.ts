import { serviceClient } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { httpUserLookup } from './user-lookup';

const bob = { id: 'u_bob', username: 'bob', displayName: 'Bob' };

/** A users function stand-in answering `status` with `body`; records the paths asked. */
function usersAnswering(status: number, body: unknown) {
  const asked: string[] = [];
  const client = serviceClient('http://users.test', async (req) => {
    const url = new URL(req.url);
    asked.push(url.pathname + url.search);
    return Response.json(body, { status });
  });
  return { lookup: httpUserLookup(client), asked };
}

describe('httpUserLookup', () => {
  it('asks /internal/users?usernames= once, names deduplicated', async () => {
    const { lookup, asked } = usersAnswering(200, { users: [bob] });
    expect(await lookup.byUsernames(['bob', 'a.b-c', 'bob'])).toEqual([bob]);
    expect(asked).toEqual(['/internal/users?usernames=bob,a.b-c']);
  });

  it('asks nothing for no names', async () => {
    const { lookup, asked } = usersAnswering(200, { users: [] });
    expect(await lookup.byUsernames([])).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('a 5xx is unavailable (retried); a malformed body is internal', async () => {
    await expect(
      usersAnswering(503, { error: { code: 'unavailable', message: 'x' } }).lookup.byUsernames([
        'bob',
      ]),
    ).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    await expect(
      usersAnswering(200, { users: [{ id: 'bad id' }] }).lookup.byUsernames(['bob']),
    ).rejects.toMatchObject({ code: 'internal' });
  });
});
