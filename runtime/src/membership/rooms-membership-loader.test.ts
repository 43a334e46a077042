import { serviceClient } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { roomsMembershipLoader } from './rooms-membership-loader';

const rooms = (answer: (path: string) => Response) =>
  roomsMembershipLoader(
    serviceClient('http://rooms.test', async (req) => answer(new URL(req.url).pathname)),
  );

describe('roomsMembershipLoader', () => {
  it('reads the member ids of a room from the rooms function', async () => {
    const load = rooms((path) =>
      path === '/internal/rooms/r_1/member-ids'
        ? Response.json({ memberIds: ['u_a', 'u_b'] })
        : new Response('{}', { status: 404 }),
    );
    expect(await load('r_1')).toEqual(['u_a', 'u_b']);
    expect(await load('r_unknown')).toBeNull();
  });

  it('fails retriably when the rooms function is down or answers nonsense', async () => {
    await expect(rooms(() => new Response('', { status: 503 }))('r_1')).rejects.toMatchObject({
      code: 'unavailable',
      retriable: true,
    });
    await expect(rooms(() => Response.json({ members: 1 }))('r_1')).rejects.toMatchObject({
      code: 'internal',
      retriable: true,
    });
  });
});
