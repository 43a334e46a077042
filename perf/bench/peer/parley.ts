/**
 * Parley's side of bench:peer: the connection gateway's bundle (`src/main.ts` built with the
 * build's own esbuild options, launcher/src/build.ts) in a process of its own, in real mode —
 * Redis fan-out and presence, a Kafka producer for commands (connected, never used here) — with
 * the HTTP functions it calls replaced by stubs this process serves:
 *
 * - users `/internal/users?ids=`: every id exists;
 * - rooms `/internal/users/:id/room-ids`: the one room, with `roomSize` members (over 100, so the
 *   gateway treats it as large: no presence, typing or receipts; unread frames coalesced);
 * - notifications `/internal/users/:id/markers`: marker 0 in the room (404 with `unread: false`:
 *   no unread frames);
 * - messages, search: 404 (not called by these scenarios).
 *
 * Messages reach the gateway as message-write publishes them: RedisFanout on the room's channel,
 * `{ kind: 'message', message }`. Presence keys go to a Redis database of the bench's own
 * (PEER_REDIS_DB, default 9), so the real stack's gateways (database 0) never see, or sweep, the
 * bench's gateway; fan-out channels are global to Redis, and the bench's room and user ids are
 * its own. The bench's presence keys are deleted at the end.
 */

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, relative } from 'node:path';
import { roomChannel } from '@parley/eventing';
import { RedisFanout } from '@parley/eventing/fanout/fanout.redis';
import { BUNDLE_OPTIONS } from '@parley/launcher/build';
import { bundleNode, freePort, infraDir, infraEnv, REPO_ROOT } from '@parley/launcher/infra';
import { spawnLogged, stopProcess, waitHttpOk } from '@parley/launcher/processes';
import { createRedis } from '@parley/runtime';
import { build } from 'esbuild';
import { UNTHROTTLED_GATEWAY_ENV } from '../../src/bench-env';
import type { PeerServer } from './server';

export interface ParleyOptions {
  /** The gateway bundle to run (see bundleGateway). */
  bundle: string;
  secret: string;
  room: string;
  /** The member count the rooms stub gives the room. */
  roomSize: number;
  /** Whether the members' read markers load (then `unread` frames follow the messages). */
  unread: boolean;
  /** Connections the gateway takes (MAX_CONNECTIONS). */
  maxConnections: number;
  logFile: string;
  /** Extra gateway environment (overrides). */
  env?: Record<string, string>;
  /** Node flags before the bundle (`--cpu-prof`, which NODE_OPTIONS may not carry on Node 20). */
  nodeArgs?: string[];
}

/** The Redis database the bench's gateway keeps its presence keys in. */
const redisDb = () => Number(process.env.PEER_REDIS_DB ?? 9);

/** Builds the gateway bundle (as `npm run build` does) into .parley/peer/gateway/index.mjs. */
export async function bundleGateway(): Promise<string> {
  const outdir = join(infraDir(), 'peer', 'gateway');
  await build({
    ...BUNDLE_OPTIONS,
    metafile: false,
    entryPoints: { index: join(REPO_ROOT, 'connection-gateway/src/main.ts') },
    outdir,
  });
  return join(outdir, 'index.mjs');
}

/** The pid of the Redis of tests/infra/up (its pid file), for its CPU; undefined if unknown. */
function redisPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(infraDir(), 'redis', 'redis.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the stubs and the gateway; resolves once its /readyz answers. */
export async function startParley(opts: ParleyOptions): Promise<PeerServer> {
  const infra = infraEnv();
  const calls = { users: 0, roomIds: 0, markers: 0, other: 0 };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const stub = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const ids = url.startsWith('/internal/users?ids=')
      ? decodeURIComponent(url.slice('/internal/users?ids='.length)).split(',')
      : undefined;
    if (ids) {
      calls.users++;
      return json(res, 200, { users: ids.map((id) => ({ id, username: id, displayName: id })) });
    }
    if (/^\/internal\/users\/[^/]+\/room-ids$/.test(url)) {
      calls.roomIds++;
      return json(res, 200, {
        roomIds: [opts.room],
        memberCounts: { [opts.room]: opts.roomSize },
      });
    }
    if (/^\/internal\/users\/[^/]+\/markers$/.test(url)) {
      calls.markers++;
      if (opts.unread) return json(res, 200, { markers: { [opts.room]: 0 } });
      return json(res, 404, { error: { code: 'not_found', message: 'no markers' } });
    }
    calls.other++;
    return json(res, 404, { error: { code: 'not_found', message: 'not stubbed' } });
  });
  stub.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const sa = stub.address();
  const stubUrl = `http://127.0.0.1:${typeof sa === 'object' && sa ? sa.port : 0}`;

  const port = await freePort();
  const redisUrl = `${infra.REDIS_URL.replace(/\/\d*$/, '')}/${redisDb()}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...UNTHROTTLED_GATEWAY_ENV,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: opts.secret,
    REDIS_URL: redisUrl,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    USERS_URL: stubUrl,
    ROOMS_URL: stubUrl,
    MESSAGES_URL: stubUrl,
    SEARCH_URL: stubUrl,
    NOTIFICATIONS_URL: stubUrl,
    MAX_CONNECTIONS: String(opts.maxConnections),
    // The default per-address cap stays: the clients spread over 127.1.x.y, 100 to an address.
    MAX_SOCKETS_PER_ADDRESS: '100',
    HANDSHAKE_TIMEOUT_MS: '30000',
    DRAIN_TIMEOUT_MS: '3000',
    ...opts.env,
  };
  const child = spawnLogged(
    bundleNode(),
    [...(opts.nodeArgs ?? []), opts.bundle],
    env,
    opts.logFile,
    REPO_ROOT,
  );
  const stopStub = () => new Promise<void>((r) => stub.close(() => r()));
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/readyz`, child, 30_000, 'the gateway');
  } catch (err) {
    await stopProcess(child, 2_000);
    stub.closeAllConnections();
    await stopStub();
    throw new Error(`${(err as Error).message}; its log: ${opts.logFile}`);
  }
  const redis = createRedis(infra.REDIS_URL, 'peer-bench');
  const fanout = new RedisFanout(redis);
  const channel = roomChannel(opts.room);
  const pid = child.pid as number;
  const rp = redisPid();
  return {
    kind: 'parley',
    label: `Parley connection-gateway bundle ${relative(REPO_ROOT, opts.bundle)} (Node ${bundleNode() === process.execPath ? process.version : bundleNode()}), Redis fan-out`,
    pid,
    host: '127.0.0.1',
    port,
    side: rp ? [{ name: 'redis', pid: rp }] : [],
    publish: (message) => fanout.publish(channel, { kind: 'message', message }),
    counters: () => ({ ...calls }),
    async stop() {
      await stopProcess(child);
      redis.disconnect();
      // The bench's presence keys (its own database): nothing of them may outlive the run.
      const own = createRedis(redisUrl, 'peer-bench-cleanup');
      try {
        let cursor = '0';
        do {
          const [next, keys] = await own.scan(cursor, 'MATCH', 'parley:presence:*', 'COUNT', 1000);
          cursor = next;
          if (keys.length) await own.del(...keys);
        } while (cursor !== '0');
      } finally {
        own.disconnect();
      }
      stub.closeAllConnections();
      await stopStub();
    },
  };
}
