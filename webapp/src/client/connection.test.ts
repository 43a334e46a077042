import { describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  Connection,
  type ConnectionOptions,
  type ConnectionStatus,
  DEFAULT_BACKOFF,
} from './connection';
import { defined, fakeWebSocket, ManualClock } from './testing';

function setup(over: Partial<ConnectionOptions> = {}) {
  const { WebSocket, sockets } = fakeWebSocket();
  const clock = new ManualClock();
  const statuses: ConnectionStatus[] = [];
  const frames: unknown[] = [];
  const stops: Array<[string, string]> = [];
  let rooms: Record<string, number> = { r_a: 3, r_b: 0 };
  let random = 0.5;
  const conn = new Connection({
    url: 'ws://parley.test/ws',
    getToken: () => 'tok',
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    syncRooms: () => rooms,
    onStop: (reason, detail) => stops.push([reason, detail]),
    WebSocket,
    timers: clock,
    now: clock.now,
    random: () => random,
    ...over,
  });
  return {
    conn,
    sockets,
    clock,
    statuses,
    frames,
    stops,
    last: () => defined(sockets.at(-1)),
    setRooms: (r: Record<string, number>) => {
      rooms = r;
    },
    setRandom: (r: number) => {
      random = r;
    },
  };
}

describe('backoffDelay (full jitter)', () => {
  it('is anywhere from 0 up to the exponential step', () => {
    expect(backoffDelay(0, () => 0)).toBe(0);
    expect(backoffDelay(0, () => 0.999_999)).toBe(499);
    expect(backoffDelay(1, () => 0.999_999)).toBe(999);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
  });

  it('never waits longer than the cap', () => {
    for (const attempt of [6, 7, 10, 50]) {
      expect(backoffDelay(attempt, () => 0.999_999)).toBeLessThan(DEFAULT_BACKOFF.maxMs);
      expect(backoffDelay(attempt, () => 0.999_999)).toBeGreaterThan(29_000);
    }
  });
});

describe('Connection', () => {
  it('connects to /ws with the token as a subprotocol', () => {
    const t = setup();
    t.conn.start();
    expect(t.last().url).toBe('ws://parley.test/ws');
    expect(t.last().protocols).toEqual(['parley.v1', 'bearer.tok']);
    expect(t.statuses).toEqual(['connecting']);
  });

  it('is open once the gateway says ready, then syncs every known room', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    expect(t.statuses).toEqual(['connecting', 'open']);
    expect(t.last().framesOf('sync')).toEqual([{ type: 'sync', rooms: { r_a: 3, r_b: 0 } }]);
    expect(t.frames).toEqual([{ type: 'ready', userId: 'u_me', sessionId: 's_1' }]);
  });

  it('does not send before ready', () => {
    const t = setup();
    t.conn.start();
    expect(t.conn.send({ type: 'ping' })).toBe(false);
  });

  it('splits a sync of many rooms into frames the gateway accepts', () => {
    const t = setup();
    const rooms: Record<string, number> = {};
    for (let i = 0; i < 1203; i++) rooms[`r_${i}`] = i;
    t.setRooms(rooms);
    t.conn.start();
    t.last().accept();
    const sizes = t
      .last()
      .framesOf('sync')
      .map((f) => Object.keys(f.rooms as object).length);
    expect(sizes).toEqual([500, 500, 203]);
  });

  for (const code of [1001, 1006, 1013, 1000]) {
    it(`reconnects after close ${code} and syncs from the seqs it has by then`, () => {
      const t = setup();
      t.conn.start();
      t.last().accept();
      t.setRooms({ r_a: 9 });
      t.last().drop(code);
      expect(t.conn.state).toBe('reconnecting');
      expect(t.sockets).toHaveLength(1);
      t.clock.advance(DEFAULT_BACKOFF.initialMs);
      expect(t.sockets).toHaveLength(2);
      t.last().accept();
      expect(t.conn.state).toBe('open');
      expect(t.last().framesOf('sync')).toEqual([{ type: 'sync', rooms: { r_a: 9 } }]);
    });
  }

  it('backs off exponentially with jitter while the gateway stays away, up to the cap', () => {
    const t = setup();
    t.setRandom(0.999_999);
    t.conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      t.last().drop(1006);
      const [d] = t.clock.pendingDelays();
      delays.push(d as number);
      t.clock.advance(d as number);
    }
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
  });

  it('jitter spreads the delay over the whole step', () => {
    const t = setup();
    t.setRandom(0.1);
    t.conn.start();
    t.last().drop(1006);
    t.clock.advance(50);
    t.last().drop(1006);
    expect(t.clock.pendingDelays()).toEqual([100]);
  });

  it('starts the backoff over after a stable connection', () => {
    const t = setup();
    t.setRandom(0.999_999);
    t.conn.start();
    for (let i = 0; i < 4; i++) {
      t.last().drop(1006);
      t.clock.advance(30_000);
    }
    t.last().accept();
    t.clock.advance(DEFAULT_BACKOFF.stableMs);
    t.last().drop(1001);
    expect(t.clock.pendingDelays()).toEqual([499]);
  });

  it('a connection that drops right after opening keeps backing off', () => {
    const t = setup();
    t.setRandom(0.999_999);
    t.conn.start();
    t.last().accept();
    t.last().drop(1013);
    t.clock.advance(499);
    t.last().accept();
    t.clock.advance(100);
    t.last().drop(1013);
    expect(t.clock.pendingDelays()).toEqual([999]);
  });

  for (const code of [1008, 1009]) {
    it(`stops for good after close ${code} and says why`, () => {
      const t = setup();
      t.conn.start();
      t.last().accept();
      t.last().drop(code, 'too many refused frames');
      t.clock.advance(120_000);
      expect(t.sockets).toHaveLength(1);
      expect(t.conn.state).toBe('offline');
      expect(t.stops).toEqual([['refused', 'too many refused frames']]);
    });
  }

  it('reports an expired session on close 4001 and does not reconnect', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.last().drop(4001, 'token expired');
    t.clock.advance(120_000);
    expect(t.sockets).toHaveLength(1);
    expect(t.stops).toEqual([['session-expired', 'token expired']]);
  });

  it('does not connect without a valid token', () => {
    const t = setup({ getToken: () => null });
    t.conn.start();
    expect(t.sockets).toHaveLength(0);
    expect(t.stops.map(([r]) => r)).toEqual(['session-expired']);
  });

  it('pings every 25 seconds while open', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.clock.advance(24_999);
    expect(t.last().framesOf('ping')).toHaveLength(0);
    t.last().push({ type: 'pong' });
    t.clock.advance(1);
    t.last().push({ type: 'pong' });
    t.clock.advance(25_000);
    expect(t.last().framesOf('ping')).toHaveLength(2);
  });

  it('treats a socket that stopped answering pings as dropped', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.clock.advance(75_000);
    expect(t.sockets[0]?.closedWith).toBe(4000);
    expect(t.conn.state).toBe('reconnecting');
  });

  it('stop() closes the socket and never reconnects', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.conn.stop();
    expect(t.sockets[0]?.closedWith).toBe(1000);
    expect(t.conn.state).toBe('offline');
    t.clock.advance(120_000);
    expect(t.sockets).toHaveLength(1);
  });

  it('reconnectNow skips the rest of the backoff', () => {
    const t = setup();
    t.setRandom(0.999_999);
    t.conn.start();
    t.last().drop(1006);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(2);
    expect(t.clock.pendingDelays()).toEqual([]);
  });

  it('shows offline as soon as the browser loses the network, and comes back when it returns', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.conn.networkLost();
    expect(t.conn.state).toBe('offline');
    expect(t.sockets[0]?.closedWith).toBe(4000);
    expect(t.conn.send({ type: 'ping' })).toBe(false);
    t.conn.reconnectNow();
    expect(t.sockets).toHaveLength(2);
    t.last().accept();
    expect(t.conn.state).toBe('open');
  });

  it('keeps retrying on its own while the network stays away', () => {
    const t = setup();
    t.conn.start();
    t.last().accept();
    t.conn.networkLost();
    t.clock.advance(DEFAULT_BACKOFF.initialMs);
    expect(t.sockets).toHaveLength(2);
    // Still offline as far as the person can tell, until a socket gets through.
    expect(t.conn.state).toBe('offline');
    t.last().accept();
    expect(t.conn.state).toBe('open');
  });

  it('ignores frames that are not JSON', () => {
    const onFrame = vi.fn();
    const t = setup({ onFrame });
    t.conn.start();
    t.last().onmessage?.({ data: 'not json' });
    expect(onFrame).not.toHaveBeenCalled();
  });
});
