/**
 * A hostile client: many parallel loops of wrong-password logins, while a real user logs in with
 * the right password once a second. Prints the real user's login latency (before the flood and
 * during it) and what the flood got back, so a change to the login path can be measured.
 *
 * Traffic goes only to the gateway it starts (or the one `--url` names, which must be on this
 * machine); every loop is bounded by `--seconds`. Addresses are told apart with X-Forwarded-For,
 * so the gateway it starts trusts one proxy hop (TRUSTED_PROXY_HOPS=1); the addresses are
 * documentation ranges (RFC 5737), only header values.
 *
 * Modes:
 * - `one-address`: every loop from 203.0.113.7 against the victim's username;
 * - `many-addresses`: loop i from its own address (198.18.i.j), against the victim's username;
 * - `spray`: loop i from its own address, each attempt a fresh random username.
 *
 * @example npx tsx tests/hostile/login-flood.ts --mode one-address --loops 100 --seconds 20
 * @example npx tsx tests/hostile/login-flood.ts --url http://127.0.0.1:8080 --mode spray
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, REPO_ROOT } from '../support/infra';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'one-address' },
    loops: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
  },
});
const MODE = args.mode as 'one-address' | 'many-addresses' | 'spray';
if (!['one-address', 'many-addresses', 'spray'].includes(MODE)) {
  throw new Error(`--mode must be one-address, many-addresses or spray, not ${MODE}`);
}
const LOOPS = Number(args.loops);
const SECONDS = Number(args.seconds);
const VICTIM_ADDRESS = '198.51.100.1';

async function startEmbedded(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'launcher/src/embedded.ts')],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), TRUSTED_PROXY_HOPS: '1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the embedded mode exited');
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child };
    if (Date.now() > deadline) throw new Error('the embedded mode did not start in 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const started = args.url ? undefined : await startEmbedded();
const base = args.url ?? (started?.url as string);

async function post(path: string, body: unknown, from: string): Promise<Response> {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify(body),
  });
}

const victim = {
  username: `victim_${randomBytes(4).toString('hex')}`,
  password: 'a long and right passphrase',
};
const signedUp = await post('/api/v1/auth/signup', victim, VICTIM_ADDRESS);
if (signedUp.status !== 201)
  throw new Error(`sign-up: ${signedUp.status} ${await signedUp.text()}`);

/** One login of the real user from their own address: latency in ms and status. */
async function realLogin(): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  try {
    const res = await post('/api/v1/auth/login', victim, VICTIM_ADDRESS);
    await res.arrayBuffer();
    return { ms: performance.now() - t0, status: res.status };
  } catch {
    return { ms: performance.now() - t0, status: 0 }; // no answer (the connection was closed)
  }
}

const quiet: { ms: number; status: number }[] = [];
for (let i = 0; i < 5; i++) quiet.push(await realLogin());

const statuses = new Map<number, number>();
let attempts = 0;
let stop = false;
const addressOf = (i: number) =>
  MODE === 'one-address' ? '203.0.113.7' : `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function floodLoop(i: number): Promise<void> {
  while (!stop) {
    const username = MODE === 'spray' ? `spray_${randomBytes(4).toString('hex')}` : victim.username;
    const password = `wrong-${randomBytes(6).toString('hex')}`;
    try {
      const res = await post('/api/v1/auth/login', { username, password }, addressOf(i));
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    } catch {
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
    }
    attempts++;
  }
}

const t0 = performance.now();
const loops = Array.from({ length: LOOPS }, (_, i) => floodLoop(i));
const during: { ms: number; status: number }[] = [];
const until = Date.now() + SECONDS * 1000;
// Let the flood build up for a second, then log in once a second.
await new Promise((r) => setTimeout(r, 1000));
while (Date.now() < until) {
  during.push(await realLogin());
  await new Promise((r) => setTimeout(r, 1000));
}
stop = true;
await Promise.all(loops);
const elapsed = (performance.now() - t0) / 1000;

const summary = (xs: { ms: number; status: number }[]) => {
  const ms = xs.map((x) => x.ms).sort((a, b) => a - b);
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0);
  const byStatus: Record<string, number> = {};
  for (const x of xs) byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
  return { n: xs.length, p50: at(0.5), p90: at(0.9), max: Math.round(ms.at(-1) ?? 0), byStatus };
};

console.log(
  JSON.stringify(
    {
      mode: MODE,
      loops: LOOPS,
      seconds: SECONDS,
      target: args.url ? base : 'embedded (started here, TRUSTED_PROXY_HOPS=1)',
      realUserLoginMs: { quiet: summary(quiet), duringFlood: summary(during) },
      flood: {
        attempts,
        perSecond: Math.round(attempts / elapsed),
        byStatus: Object.fromEntries(statuses),
      },
    },
    null,
    2,
  ),
);
started?.child.kill('SIGTERM');
