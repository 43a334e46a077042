/**
 * Centrifugo's side of bench:peer: v6.9.1 (Apache-2.0) with its memory engine, one process on
 * 127.0.0.1, clients on its JSON protocol over WebSocket with HMAC tokens, publishes through its
 * HTTP API (`/api/publish`, the API key), the same message object Parley's gateway gets.
 *
 * The binary: CENTRIFUGO_BIN, else /work/tools/bin/centrifugo, else ~/.cache/parley/centrifugo/
 * centrifugo, else built there with `go install …@v6.9.1` through the Go module proxy (a few
 * minutes on 2 cores). Never inside the repository.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@parley/launcher/infra';
import { spawnLogged, stopProcess, waitHttpOk } from '@parley/launcher/processes';
import type { Message } from '@parley/protocol';
import type { PeerServer } from './server';

export const CENTRIFUGO_MODULE = 'github.com/centrifugal/centrifugo/v6';
export const CENTRIFUGO_VERSION = 'v6.9.1';

/** The Centrifugo binary: found, or built once into the cache (progress on `log`). */
export async function centrifugoBinary(log: (line: string) => void): Promise<string> {
  const cacheDir = join(homedir(), '.cache', 'parley', 'centrifugo');
  const candidates = [
    process.env.CENTRIFUGO_BIN,
    '/work/tools/bin/centrifugo',
    join(cacheDir, 'centrifugo'),
  ].filter((p): p is string => !!p);
  for (const p of candidates) if (existsSync(p)) return p;
  log(
    `centrifugo: not found; building ${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION} into ${cacheDir} (minutes)…`,
  );
  await promisify(execFile)('go', ['install', `${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION}`], {
    env: { ...process.env, GOBIN: cacheDir },
    maxBuffer: 64 * 1024 * 1024,
  });
  const built = join(cacheDir, 'centrifugo');
  if (!existsSync(built)) throw new Error(`go install did not produce ${built}`);
  return built;
}

/** The module version the binary was built from (`go version -m`), or 'unknown'. */
function moduleVersion(bin: string): string {
  try {
    const out = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8' });
    const m = out.match(/^\s*mod\s+\S+\s+(\S+)/m);
    const go = out.match(/^\S+: (go\S+)/m);
    return `${m?.[1] ?? 'unknown'}${go ? ` (${go[1]})` : ''}`;
  } catch {
    return 'unknown';
  }
}

export interface CentrifugoOptions {
  bin: string;
  secret: string;
  channel: string;
  logFile: string;
}

export async function startCentrifugo(opts: CentrifugoOptions): Promise<PeerServer> {
  const port = await freePort();
  const apiKey = `peer-${Math.random().toString(36).slice(2)}`;
  const dir = mkdtempSync(join(tmpdir(), 'parley-peer-centrifugo-'));
  const config = {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'error' },
    client: {
      token: { hmac_secret_key: opts.secret },
      // Clients send no Origin (non-browsers), as with Parley's gateway.
      allowed_origins: ['*'],
    },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
    http_api: { key: apiKey },
    health: { enabled: true },
    usage_stats: { disabled: true },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child = spawnLogged(
    opts.bin,
    ['-c', file],
    { PATH: process.env.PATH, HOME: process.env.HOME },
    opts.logFile,
    dir,
  );
  try {
    await waitHttpOk(`http://127.0.0.1:${port}/health`, child, 30_000, 'centrifugo');
  } catch (err) {
    await stopProcess(child, 2_000);
    throw new Error(`${(err as Error).message}; its log: ${opts.logFile}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let published = 0;
  const publish = (message: Message) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ channel: opts.channel, data: message });
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/publish',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-api-key': apiKey,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200 || text.includes('"error"'))
              reject(new Error(`centrifugo publish: ${res.statusCode} ${text.slice(0, 200)}`));
            else {
              published++;
              resolve();
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    kind: 'centrifugo',
    label: `Centrifugo ${moduleVersion(opts.bin)}, memory engine, JSON protocol over WebSocket`,
    pid: child.pid as number,
    host: '127.0.0.1',
    port,
    side: [],
    publish,
    counters: () => ({ published }),
    async stop() {
      agent.destroy();
      await stopProcess(child);
    },
  };
}
