import { createServer, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { physicalShardNames, poolCounts, shardUp } from './pool-metrics';

describe('physicalShardNames', () => {
  it('names each shard by the database of its URL, never with its credentials', () => {
    const a = 'mysql://parley:secret@messages-a:3306/parley_messages_0';
    const b = 'mysql://parley:secret@messages-b:3306/parley_messages_1';
    expect([...physicalShardNames([a, b])]).toEqual([
      [a, 'parley_messages_0'],
      [b, 'parley_messages_1'],
    ]);
  });

  it('adds host and port when two shards share a database name', () => {
    const a = 'mysql://u:secret@10.0.0.1:3307/parley';
    const b = 'mysql://u:secret@10.0.0.2:3307/parley';
    const names = physicalShardNames([a, b]);
    expect([names.get(a), names.get(b)]).toEqual(['10.0.0.1:3307/parley', '10.0.0.2:3307/parley']);
    expect([...names.values()].join()).not.toContain('secret');
  });
});

describe('shardUp against a server that accepts and never answers', () => {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads 0 after its timeout, and keeps one ping in flight however often it is asked', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const pool = mysql.createPool({ uri: `mysql://u:p@127.0.0.1:${port}/db`, connectionLimit: 4 });
    expect(await shardUp(pool, 50)).toBe(false);
    expect(await shardUp(pool, 50)).toBe(false);
    // The second scrape waited on the first ping: one connection opening, not one per scrape.
    expect(poolCounts(pool)).toEqual({ used: 1, idle: 0, queued: 0 });
    await vi.waitFor(() => expect(sockets.length).toBeGreaterThan(0));
    for (const s of sockets) s.destroy();
    await pool.end().catch(() => undefined);
  });
});
