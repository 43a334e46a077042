/**
 * Cold start and per-event cost of every function bundle.
 *
 * 1. Cold start: for each function of the deployment table, spawn its bundle
 *    (`node functions/<fn>/dist/index.mjs`, what its image runs: Parley's own
 *    host, @hono/node-server, no source-map flag) with only its own
 *    environment, and time, from the spawn: the "function listening" line,
 *    the first `/readyz` 200 (polled every 5 ms, as Knative probes a starting
 *    container), and the first real request or CloudEvent answered 2xx; then
 *    the same request a second time (first − second = what the first event
 *    pays for lazy work). Also the CPU the process used up to its first event
 *    and its RSS then. The floor is a bare node:http server; tsx runs the
 *    sources (perf/bench/cold-start/tsx-entry.ts).
 * 2. A/B variants, run interleaved with the shipped bundle, run by run, so
 *    that the machine's noise hits them alike: `maps`, the shipped bundle
 *    with `--enable-source-maps` (what the images ran until 2026-11-29);
 *    `ff`, the same function served by the Functions Framework as before
 *    (perf/bench/cold-start/serve-ff.ts, bundled here into a temporary folder
 *    with the shipped bundle's options); Node's compile cache (Node ≥ 22.1);
 *    and a probe preload that timestamps boot, module evaluation and listen.
 *    One `--cpu-prof` run per function says where the CPU of a cold start
 *    goes (bundle frames mapped to packages through the bundle's source map).
 * 3. CPU per event under a steady load: each shipped bundle and its `ff` twin
 *    take EVENTS requests at CONCURRENCY after a warm-up; utime+stime of the
 *    process (/proc/<pid>/stat) ÷ events.
 *
 * Other functions a function calls (rooms for membership and room ids, users
 * for the user directory) and K_SINK are answered by a stub in this process,
 * like warm peers, so that only the function under test starts cold. The
 * real services (MariaDB ×2, Redis, Elasticsearch) come from tests/infra/up;
 * rooms, history and search hits are seeded through the write functions.
 * The shipped bundles are copied out of dist/ right after the build, so a
 * concurrent build cannot pull them away mid-run.
 *
 * Usage: npm run bench:cold -- [--runs 20] [--tsx-runs <runs>] [--ab-runs 10]
 *          [--ab-fn users --ab-fn search … | --ab-fn all] [--only <fn> …]
 *          [--events 1000] [--warmup 100] [--concurrency 8] [--rounds 1]
 *          [--no-ab] [--no-tsx] [--no-load] [--no-profile] [--skip-build]
 * PARLEY_NODE=<node binary> runs the bundles (and tsx) on that node, as launcher/src/stack.ts does.
 * Writes a markdown record to perf/results/ and prints the summary.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { SourceMap } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  createEvent,
  type EventData,
  type EventType,
  FUNCTIONS,
  type FunctionName,
  toHttpBinary,
} from '@parley/eventing';
import { BUNDLE_OPTIONS, build as buildBundles, functionEntry } from '@parley/launcher/build';
import { bundleNode, infraEnv, REPO_ROOT } from '@parley/launcher/infra';
import { planStack } from '@parley/launcher/stack';
import { createTokenService } from '@parley/runtime';
import { build as esbuild, type Plugin } from 'esbuild';

const run = promisify(execFile);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const LOAD_AT_START = loadavg();

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'tsx-runs': { type: 'string' },
    'ab-runs': { type: 'string', default: '10' },
    'ab-fn': { type: 'string', multiple: true },
    events: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string', multiple: true },
    'no-ab': { type: 'boolean', default: false },
    'no-tsx': { type: 'boolean', default: false },
    'no-load': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const TSX_RUNS = args['no-tsx'] ? 0 : Number(args['tsx-runs'] ?? RUNS);
const AB_RUNS = args['no-ab'] ? 0 : Number(args['ab-runs']);
const EVENTS = Number(args.events);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = args['no-load'] ? 0 : Number(args.rounds);
const LOG_LEVEL = 'info'; // what knative/base/config.yaml gives every function

const ALL = FUNCTIONS.map((d) => d.name as FunctionName);
const SELECTED: FunctionName[] = args.only?.length ? [] : ALL;
for (const name of args.only ?? []) {
  if (!ALL.includes(name as FunctionName)) {
    throw new Error(`--only ${name}: no such function; known: ${ALL.join(', ')}`);
  }
  SELECTED.push(name as FunctionName);
}
/** Rooms, history and search hits are seeded through the write functions. */
const SEEDERS: FunctionName[] = ['room-ops', 'message-write', 'message-index'];
const NEEDS_SEED = SELECTED.some((f) => f === 'rooms' || f === 'messages' || f === 'search');
/**
 * The A/B variants run on these (default: one HTTP function on MySQL, the one with the
 * Elasticsearch client's 6 MB bundle, and the CloudEvent function on the message path).
 */
const AB_FNS = (
  args['ab-fn']?.includes('all')
    ? SELECTED
    : (args['ab-fn'] ?? ['users', 'search', 'message-write']).filter((f) =>
        SELECTED.includes(f as FunctionName),
      )
) as FunctionName[];
const TO_BUILD = [...new Set([...SELECTED, ...(NEEDS_SEED ? SEEDERS : [])])];

const abs = (p: string) => join(REPO_ROOT, p);
const say = (msg: string) => process.stderr.write(`[cold] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;

// ---------------------------------------------------------------- the node
const NODE = bundleNode();
const NODE_VERSION = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
const [major = 0, minor = 0] = NODE_VERSION.slice(1).split('.').map(Number);
const HAS_COMPILE_CACHE = major > 22 || (major === 22 && minor >= 1);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// ---------------------------------------------------------------- /proc
/** utime + stime of a process, in ms (clock ticks; the kernel scales them to its exact runtime). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
/** CPU time of every live thread of a process in ms, to the ns (schedstat), for short spans. */
function threadCpuMsOf(pid: number): number {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return cpuMsOf(pid);
  }
}
function rssMbOf(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

// ---------------------------------------------------------------- HTTP client
interface Req {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Res {
  status: number;
  body: string;
}
function send(agent: Agent, port: number, r: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        agent,
        headers: {
          ...r.headers,
          ...(r.body !== undefined ? { 'content-length': Buffer.byteLength(r.body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${r.method} ${r.path}: timeout`)));
    req.end(r.body);
  });
}
const ok = (s: number) => s >= 200 && s < 300;

// ---------------------------------------------------------------- fixtures
const TAG = Date.now().toString(36);
const JWT_SECRET = randomBytes(32).toString('base64url');
const tokens = createTokenService(JWT_SECRET);
/** The user whose rooms, history and searches are read. */
const U = { id: `u_cb${TAG}`, username: `cb${TAG}` };
/** The actor of the room commands under load (its room list grows; nobody reads it). */
const U_OPS = `u_cb${TAG}_ops`;
const ROOM = `r_cb${TAG}_main`;
const TOKEN = await tokens.sign(U);
const auth = { authorization: `Bearer ${TOKEN}` };
let serial = 0;
const ce = <T extends EventType>(type: T, data: EventData<T>): Req => {
  const { headers, body } = toHttpBinary(createEvent(type, data, { source: 'bench-cold-start' }));
  return { method: 'POST', path: '/', headers, body };
};
const BODY = 'hello from the cold start bench 안녕하세요';
const created = (): Req => {
  const n = ++serial;
  return ce('parley.message.created', {
    message: {
      id: `m_cb${TAG}_${n}`,
      roomId: ROOM,
      seq: n,
      senderId: U.id,
      body: `${BODY} ${n}`,
      ts: Date.now(),
      clientMsgId: `cb-${TAG}-${n}`,
    },
  });
};
const readMarker = (): Req => {
  const n = ++serial;
  return ce('parley.notify.read', { actorId: U.id, roomId: ROOM, seq: n, lastSeq: n });
};
const sendMessage = (): Req =>
  ce('parley.message.send', {
    actorId: U.id,
    roomId: ROOM,
    clientMsgId: `cb-${TAG}-${++serial}`,
    body: BODY,
    acceptedTs: Date.now(),
  });
const createRoom = (actorId: string, roomId = `r_cb${TAG}_${++serial}`): Req =>
  ce('parley.room.create', { actorId, roomId, name: 'cold start bench', memberIds: [] });

interface Workload {
  /** The request a cold start is timed to (first) and then repeated (second). */
  cold: () => Req;
  coldDoc: string;
  /** The request of the steady load. */
  load: () => Req;
  loadDoc: string;
  /** Runs once per load run before the warm-up (e.g. a sign-up whose token the load uses). */
  before?: (agent: Agent, port: number) => Promise<void>;
}
let meToken = TOKEN;
const WORKLOADS: Record<FunctionName, Workload> = {
  users: {
    cold: () => ({
      method: 'POST',
      path: '/api/v1/auth/signup',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `cb${TAG}_${++serial}`, password: 'cold-start-bench' }),
    }),
    coldDoc: 'POST /api/v1/auth/signup (scrypt N=2^15: ~50–100 ms of CPU on the thread pool)',
    load: () => ({
      method: 'GET',
      path: '/api/v1/me',
      headers: { authorization: `Bearer ${meToken}` },
    }),
    loadDoc: 'GET /api/v1/me (token check + one MySQL read; sign-up would measure scrypt)',
    async before(agent, port) {
      const res = await send(agent, port, WORKLOADS.users.cold());
      if (!ok(res.status)) throw new Error(`users: sign-up ${res.status} ${res.body}`);
      meToken = (JSON.parse(res.body) as { token: string }).token;
    },
  },
  rooms: {
    cold: () => ({ method: 'GET', path: '/api/v1/rooms', headers: auth }),
    coldDoc: 'GET /api/v1/rooms (the seeded user is in 10 rooms)',
    load: () => ({ method: 'GET', path: '/api/v1/rooms', headers: auth }),
    loadDoc: 'GET /api/v1/rooms',
  },
  messages: {
    cold: () => ({ method: 'GET', path: `/api/v1/rooms/${ROOM}/messages?limit=50`, headers: auth }),
    coldDoc: 'GET /api/v1/rooms/:id/messages?limit=50 (20+ seeded messages, recent cache in Redis)',
    load: () => ({ method: 'GET', path: `/api/v1/rooms/${ROOM}/messages?limit=50`, headers: auth }),
    loadDoc: 'GET /api/v1/rooms/:id/messages?limit=50',
  },
  search: {
    cold: () => ({ method: 'GET', path: '/api/v1/search?q=hello', headers: auth }),
    coldDoc: 'GET /api/v1/search?q=hello (room ids from the stub, then Elasticsearch)',
    load: () => ({ method: 'GET', path: '/api/v1/search?q=hello', headers: auth }),
    loadDoc: 'GET /api/v1/search?q=hello (20 hits)',
  },
  'room-ops': {
    cold: () => createRoom(U_OPS),
    coldDoc: 'CloudEvent parley.room.create (users stub, 2 MySQL shards, Redis, K_SINK stub)',
    load: () => createRoom(U_OPS),
    loadDoc: 'CloudEvent parley.room.create, a new room each',
  },
  'message-write': {
    cold: sendMessage,
    coldDoc: 'CloudEvent parley.message.send (membership in Redis, MySQL, Redis, K_SINK stub)',
    load: sendMessage,
    loadDoc: 'CloudEvent parley.message.send, all into one room',
  },
  notifications: {
    cold: () => ({ method: 'GET', path: '/api/v1/notifications', headers: auth }),
    coldDoc:
      'GET /api/v1/notifications (token check, the inbox page and its unread total in MySQL)',
    load: () => ({ method: 'GET', path: `/internal/users/${U.id}/markers` }),
    loadDoc: 'GET /internal/users/:id/markers (what every WebSocket connect asks)',
  },
  notify: {
    cold: readMarker,
    coldDoc: 'CloudEvent parley.notify.read (one MySQL upsert, Redis fan-out)',
    load: readMarker,
    loadDoc: 'CloudEvent parley.notify.read, a growing seq each',
  },
  'message-index': {
    cold: created,
    coldDoc: 'CloudEvent parley.message.created (one Elasticsearch bulk)',
    load: created,
    loadDoc: `CloudEvent parley.message.created (at concurrency ${CONCURRENCY} they share bulks)`,
  },
};

// ---------------------------------------------------------------- the stub of the peers
/** Answers what the functions ask of their peers: rooms (member ids, room ids), users (directory), K_SINK. */
const stub = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://stub');
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  req.resume();
  if (req.method === 'POST') {
    req.on('end', () => {
      res.writeHead(202);
      res.end();
    });
    return;
  }
  if (/^\/internal\/rooms\/[^/]+\/member-ids$/.test(url.pathname)) {
    return json(200, { memberIds: [U.id] });
  }
  if (/^\/internal\/users\/[^/]+\/room-ids$/.test(url.pathname)) {
    return json(200, { roomIds: [ROOM] });
  }
  if (url.pathname === '/internal/users') {
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
    return json(200, {
      users: ids.map((id) => ({ id, username: id.toLowerCase(), displayName: id })),
    });
  }
  json(404, { error: { code: 'not_found', message: url.pathname } });
});
await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
const STUB_URL = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;

// ---------------------------------------------------------------- infra, build, migrations
say(`node ${NODE_VERSION} (${NODE}); functions: ${SELECTED.join(', ')}`);
say('bringing up MariaDB ×2, Redis, Kafka, Elasticsearch (tests/infra/up)…');
await run('bash', [join(REPO_ROOT, 'tests/infra/up')], {
  cwd: REPO_ROOT,
  maxBuffer: 16 * 1024 * 1024,
});
const WORK = join(tmpdir(), 'parley-cold-start');
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
/** WORK as esbuild's metafile names it (relative to the repository root). */
const relWork = relative(REPO_ROOT, WORK);
/**
 * The shipped bundles, copied out of functions/<fn>/dist right after the build: others may
 * rebuild (which empties dist/) while this runs. A bundle is self-contained, so the copy starts
 * exactly as the original does.
 */
const SHIPPED = join(WORK, 'shipped');
const distOf = (fn: FunctionName, file = 'index.mjs') => join(SHIPPED, fn, file);
for (let attempt = 1; ; attempt++) {
  if (!args['skip-build']) {
    const built = await buildBundles({ only: TO_BUILD });
    say(`built ${built.outputs.length} outputs in ${built.ms} ms`);
  }
  try {
    for (const fn of TO_BUILD) {
      cpSync(abs(`functions/${fn}/dist`), join(SHIPPED, fn), { recursive: true });
      if (!existsSync(distOf(fn))) throw new Error(`functions/${fn}/dist/index.mjs is missing`);
    }
    break;
  } catch (err) {
    if (attempt >= 3 || args['skip-build']) throw err;
    say(`${(err as Error).message} (a concurrent build?); building again`);
  }
}
const PORT = 19_181;
const plan = planStack(
  { portBase: 19_100, dbPrefix: 'parley_coldbench', jwtSecret: JWT_SECRET, env: { LOG_LEVEL } },
  infraEnv(),
);
const migrations = plan.steps.filter((s) =>
  TO_BUILD.some((f) => s.name === `${f}-migrate`),
) as typeof plan.steps;
say(`migrations: ${migrations.map((s) => s.name).join(', ') || 'none'}`);
await Promise.all(
  migrations.map((s) =>
    run(
      NODE,
      [
        '--enable-source-maps',
        distOf(s.name.replace(/-migrate$/, '') as FunctionName, 'migrate.mjs'),
      ],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...s.env },
      },
    ),
  ),
);

/** A function's own environment from the plan, with its peers and K_SINK on the stub. */
function envOf(fn: FunctionName): Record<string, string> {
  const p = plan.processes.find((x) => x.name === fn);
  if (!p) throw new Error(`no process ${fn} in the plan`);
  const env: Record<string, string> = { ...p.env, PORT: String(PORT) };
  for (const k of ['ROOMS_URL', 'USERS_URL', 'MESSAGES_URL', 'K_SINK'])
    if (k in env) env[k] = STUB_URL;
  return env;
}

// ---------------------------------------------------------------- variants
/** The bundle's entry as launcher/src/build.ts writes it. */
const shippedEntry = (fn: FunctionName) => functionEntry(fn, `functions/${fn}`);
/** The same function served by the Functions Framework, as before (perf/bench/cold-start/serve-ff.ts). */
const ffEntry = (fn: FunctionName) =>
  `import * as m from ${JSON.stringify(abs(`functions/${fn}/src/function.ts`))};\n` +
  `import { serveUnderFunctionsFramework } from ${JSON.stringify(abs('perf/bench/cold-start/serve-ff.ts'))};\n` +
  `serveUnderFunctionsFramework(m, ${JSON.stringify(fn)});\n`;
const entries = (entry: (fn: FunctionName) => string): Plugin => ({
  name: 'bench-entries',
  setup(b) {
    b.onResolve({ filter: /^bench-entry:/ }, (a) => ({
      path: a.path.slice('bench-entry:'.length),
      namespace: 'bench-entry',
    }));
    b.onLoad({ filter: /.*/, namespace: 'bench-entry' }, (a) => ({
      contents: entry(a.path as FunctionName),
      resolveDir: abs(`functions/${a.path}`),
      loader: 'ts',
    }));
  },
});
/** Bundles every function of `fns` into WORK/<tag>/<fn>/index.mjs with build.ts's options plus `extra`. */
async function rebuild(
  tag: string,
  fns: readonly FunctionName[],
  opts: { ff?: boolean } = {},
): Promise<Record<string, number>> {
  if (!fns.length) return {};
  const entryPoints: Record<string, string> = {};
  for (const fn of fns) entryPoints[`${tag}/${fn}/index`] = `bench-entry:${fn}`;
  const plugins: Plugin[] = [entries(opts.ff ? ffEntry : shippedEntry)];
  const result = await esbuild({ ...BUNDLE_OPTIONS, entryPoints, outdir: WORK, plugins });
  const bytes: Record<string, number> = {};
  for (const fn of fns) {
    bytes[fn] = result.metafile.outputs[`${relWork}/${tag}/${fn}/index.mjs`]?.bytes ?? Number.NaN;
  }
  return bytes;
}

const PROBE = join(WORK, 'probe.mjs');
// A preload that reports, on stderr, when it ran and when the server listens (ms since the process's timeOrigin).
writeFileSync(
  PROBE,
  `import http from 'node:http';
const t = performance.now();
const emit = (k, v) => process.stderr.write('@@probe ' + k + ' ' + v.toFixed(3) + '\\n');
emit('origin', performance.timeOrigin);
emit('preload', t);
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...a) {
  emit('listen', performance.now());
  this.once('listening', () => emit('listening', performance.now()));
  return listen.apply(this, a);
};
`,
);
const FLOOR = join(WORK, 'floor.mjs');
// The floor: a bare node:http server that prints the listening line and answers everything.
writeFileSync(
  FLOOR,
  `import http from 'node:http';
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }); });
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log(JSON.stringify({ msg: 'function listening' })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
);

interface Variant {
  id: string;
  doc: string;
  runs: number;
  /** The functions it runs on (default all selected). */
  fns?: readonly FunctionName[];
  cmd: (fn: FunctionName) => { args: string[]; env?: Record<string, string> };
  bytes?: Record<string, number>;
}
const fileBytes = (p: string) => (existsSync(p) ? readFileSync(p).length : Number.NaN);

say('building the A/B bundles…');
const shippedBytes = Object.fromEntries(SELECTED.map((fn) => [fn, fileBytes(distOf(fn))]));
const ab = AB_RUNS > 0 && AB_FNS.length > 0;
/** The FF twin runs in the A/B (AB_FNS) and under load (every selected function). */
const FF_FNS = SELECTED.filter((fn) => ROUNDS > 0 || (ab && AB_FNS.includes(fn)));
const [rebuiltBytes, ffBytes] = await Promise.all([
  rebuild('rebuilt', SELECTED),
  rebuild('ff', FF_FNS, { ff: true }),
]);
const workOf = (tag: string, fn: FunctionName) => join(WORK, tag, fn, 'index.mjs');

const VARIANTS: Variant[] = [
  {
    id: 'bundle',
    doc: "`node functions/<fn>/dist/index.mjs`: what the image runs (Parley's host, @hono/node-server; no source-map flag)",
    runs: RUNS,
    cmd: (fn) => ({ args: [distOf(fn)] }),
    bytes: shippedBytes,
  },
];
if (TSX_RUNS) {
  VARIANTS.push({
    id: 'tsx',
    doc: '`node --import tsx perf/bench/cold-start/tsx-entry.ts <fn>`: the sources, transpiled on the fly (tsx caches its transforms, so only its first start ever transpiles everything)',
    runs: TSX_RUNS,
    cmd: (fn) => ({ args: ['--import', 'tsx', abs('perf/bench/cold-start/tsx-entry.ts'), fn] }),
  });
}
if (ab) {
  const abVariants: Variant[] = [
    {
      id: 'maps',
      doc: 'the shipped bundle with `--enable-source-maps` (what the images ran until 2026-11-29)',
      runs: AB_RUNS,
      cmd: (fn) => ({ args: ['--enable-source-maps', distOf(fn)] }),
      bytes: shippedBytes,
    },
    {
      id: 'ff',
      doc: 'the same function served by the Functions Framework as before (`functions.http` + `getTestServer`, perf/bench/cold-start/serve-ff.ts), bundled with the shipped options, no source-map flag',
      runs: AB_RUNS,
      cmd: (fn) => ({ args: [workOf('ff', fn)] }),
      bytes: ffBytes,
    },
    {
      id: 'probe',
      doc: 'the shipped bundle with a preload that timestamps boot, module evaluation and listen (for the breakdown)',
      runs: AB_RUNS,
      cmd: (fn) => ({ args: ['--import', `file://${PROBE}`, distOf(fn)] }),
    },
  ];
  if (HAS_COMPILE_CACHE) {
    abVariants.push({
      id: 'compile-cache',
      doc: 'the shipped bundle with `NODE_COMPILE_CACHE` (Node ≥ 22.1) filled by one earlier start',
      runs: AB_RUNS,
      cmd: (fn) => ({
        args: [distOf(fn)],
        env: { NODE_COMPILE_CACHE: join(WORK, 'compile-cache', fn) },
      }),
    });
  }
  VARIANTS.push(...abVariants.map((v) => ({ ...v, fns: AB_FNS })));
}

// ---------------------------------------------------------------- one process
const live = new Set<ChildProcess>();
// Whatever ends this process (an error, Ctrl-C) ends the function it was timing too.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));
interface Started {
  child: ChildProcess;
  t0: number;
  listening: Promise<number>;
  probe: Record<string, number>;
  tail: string[];
  spawnEpoch: number;
}
function start(args: string[], env: Record<string, string>): Started {
  const tail: string[] = [];
  const probe: Record<string, number> = {};
  const spawnEpoch = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  const child = spawn(NODE, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const listening = new Promise<number>((resolve, reject) => {
    const onLine = (line: string) => {
      if (line.startsWith('@@probe ')) {
        const [, k, v] = line.split(' ');
        probe[k as string] = Number(v);
        return;
      }
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (line.includes('"function listening"')) resolve(performance.now() - t0);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.on('data', (d: Buffer) => {
        buf += d.toString();
        let i = buf.indexOf('\n');
        while (i >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
        }
      });
    }
    child.once('exit', (code, signal) =>
      reject(new Error(`exited (${code ?? signal}) before listening:\n${tail.join('\n')}`)),
    );
    setTimeout(() => reject(new Error(`not listening after 60 s:\n${tail.join('\n')}`)), 60_000);
  });
  listening.catch(() => undefined);
  return { child, t0, listening, probe, tail, spawnEpoch };
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
/** Polls /readyz every 5 ms until 200; the first answer's latency tells what readiness waits for. */
async function waitReady(
  agent: Agent,
  s: Started,
): Promise<{ firstReadyz: number; polls: number }> {
  let firstReadyz = Number.NaN;
  for (let polls = 1; ; polls++) {
    const t = performance.now();
    const res = await send(agent, PORT, { method: 'GET', path: '/readyz' });
    if (Number.isNaN(firstReadyz)) firstReadyz = performance.now() - t;
    if (res.status === 200) return { firstReadyz, polls };
    if (performance.now() - s.t0 > 60_000) throw new Error(`not ready after 60 s: ${res.body}`);
    await sleep(5);
  }
}

interface ColdSample {
  listening: number;
  ready: number;
  first: number;
  /** Latency of the first /readyz answer (200 or not). */
  firstReadyz: number;
  readyPolls: number;
  firstReq: number;
  secondReq: number;
  cpuMs: number;
  rssMb: number;
  /** From the probe preload: ms since the spawn. */
  exec?: number;
  preload?: number;
  listenCall?: number;
  listenDone?: number;
}
async function coldRun(v: Variant, fn: FunctionName | 'floor'): Promise<ColdSample> {
  const { args: argv, env: extra } = fn === 'floor' ? { args: [FLOOR], env: undefined } : v.cmd(fn);
  const env = fn === 'floor' ? { PORT: String(PORT), HOST: '127.0.0.1' } : envOf(fn);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const s = start(argv, { ...env, ...extra });
  try {
    const listening = await s.listening;
    const { firstReadyz, polls } = await waitReady(agent, s);
    const ready = performance.now() - s.t0;
    const work = fn === 'floor' ? () => ({ method: 'GET', path: '/' }) as Req : WORKLOADS[fn].cold;
    const r1 = await send(agent, PORT, work());
    const first = performance.now() - s.t0;
    const pid = s.child.pid as number;
    const cpuMs = threadCpuMsOf(pid);
    const rssMb = rssMbOf(pid);
    if (!ok(r1.status)) throw new Error(`${fn} first request: ${r1.status} ${r1.body}`);
    const t2 = performance.now();
    const r2 = await send(agent, PORT, work());
    const secondReq = performance.now() - t2;
    if (!ok(r2.status)) throw new Error(`${fn} second request: ${r2.status} ${r2.body}`);
    const sample: ColdSample = {
      listening,
      ready,
      first,
      firstReadyz,
      readyPolls: polls,
      firstReq: first - ready,
      secondReq,
      cpuMs,
      rssMb,
    };
    if (s.probe.origin !== undefined) {
      const exec = (s.probe.origin as number) - s.spawnEpoch;
      sample.exec = exec;
      sample.preload = exec + (s.probe.preload as number);
      sample.listenCall = exec + (s.probe.listen as number);
      sample.listenDone = exec + (s.probe.listening as number);
    }
    return sample;
  } catch (err) {
    throw new Error(`${v.id} ${fn}: ${(err as Error).message}\n${s.tail.slice(-15).join('\n')}`);
  } finally {
    agent.destroy();
    await stop(s.child);
  }
}

// ---------------------------------------------------------------- seeding
async function withFunction<T>(
  fn: FunctionName,
  body: (agent: Agent, pid: number) => Promise<T>,
  variant: 'bundle' | 'ff' = 'bundle',
): Promise<T> {
  const argv = variant === 'bundle' ? [distOf(fn)] : [workOf('ff', fn)];
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const s = start(argv, envOf(fn));
  try {
    await s.listening;
    await waitReady(agent, s);
    return await body(agent, s.child.pid as number);
  } catch (err) {
    throw new Error(`${fn}: ${(err as Error).message}\n${s.tail.slice(-15).join('\n')}`);
  } finally {
    agent.destroy();
    await stop(s.child);
  }
}
async function sendAll(agent: Agent, reqs: Req[]): Promise<void> {
  for (const r of reqs) {
    const res = await send(agent, PORT, r);
    if (!ok(res.status)) throw new Error(`seed ${r.method} ${r.path}: ${res.status} ${res.body}`);
  }
}
if (NEEDS_SEED) {
  say(
    `seeding: 10 rooms of ${U.id} (room-ops), 20 messages in ${ROOM} (message-write, message-index)…`,
  );
  await withFunction('room-ops', async (agent) => {
    await sendAll(agent, [
      createRoom(U.id, ROOM),
      ...Array.from({ length: 9 }, () => createRoom(U.id)),
    ]);
    return {};
  });
  await withFunction('message-write', async (agent) => {
    await sendAll(
      agent,
      Array.from({ length: 20 }, () => sendMessage()),
    );
    return {};
  });
  await withFunction('message-index', async (agent) => {
    await sendAll(
      agent,
      Array.from({ length: 20 }, () => created()),
    );
    return {};
  });
}
if (VARIANTS.some((v) => v.id === 'compile-cache')) {
  say('filling the compile caches (one start each)…');
  const cc = VARIANTS.find((v) => v.id === 'compile-cache') as Variant;
  for (const fn of AB_FNS) await coldRun(cc, fn);
}

// ---------------------------------------------------------------- 1. cold starts
const samples = new Map<string, ColdSample[]>(); // `${fn}|${variant}`
const key = (fn: string, v: string) => `${fn}|${v}`;
const coldStarted = performance.now();
const maxRuns = Math.max(...VARIANTS.map((v) => v.runs));
const floorVariant: Variant = {
  id: 'floor',
  doc: 'a bare node:http server',
  runs: RUNS,
  cmd: () => ({ args: [FLOOR] }),
};
for (const fn of ['floor' as const, ...SELECTED]) {
  const variants =
    fn === 'floor' ? [floorVariant] : VARIANTS.filter((v) => !v.fns || v.fns.includes(fn));
  say(`cold starts: ${fn} (${variants.map((v) => `${v.id} ×${v.runs}`).join(', ')})…`);
  for (let i = 0; i < maxRuns; i++) {
    // Rotate the order every run, so no variant always follows the same one.
    const order = variants.map((_, j) => variants[(i + j) % variants.length] as Variant);
    for (const v of order) {
      if (i >= v.runs) continue;
      const sample = await coldRun(v, fn);
      const k = key(fn, v.id);
      samples.set(k, [...(samples.get(k) ?? []), sample]);
      await sleep(50);
    }
  }
}
const coldSeconds = (performance.now() - coldStarted) / 1000;

// ---------------------------------------------------------------- where a cold start's CPU goes
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
  /** Self samples by line (1-based) of the function's script. */
  positionTicks?: { line: number; ticks: number }[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
/** Bundle code the map does not cover: esbuild's helpers and the bundle's own top level. */
function unmapped(n: { callFrame: { functionName: string } }): string {
  return /^__(require|init|esm|commonJS)/.test(n.callFrame.functionName)
    ? "esbuild's module wrappers (and the lazy compile of the modules they start)"
    : 'bundle top level (unmapped lines, banner, esbuild helpers)';
}
/** The package (or Parley workspace) a source file of the bundle's map belongs to. */
function ownerOf(source: string): string {
  if (source.startsWith('unmapped:'))
    return unmapped({ callFrame: { functionName: source.slice(9) } });
  const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return `package ${pkg[1]}`;
  const ws = source.match(
    /(?:^|\/)(protocol|eventing|runtime|stores\/[^/]+|functions\/[^/]+)\/src\//,
  );
  if (ws) return `Parley: ${ws[1]}`;
  // The map lies beside the bundle in functions/<fn>/dist/: `../src/…` is the function's own code.
  return source.startsWith('../src/') ? 'Parley: the function itself' : 'bundle: other';
}
/**
 * What a sample's stack was doing, decided by its innermost telling frame: source maps, the
 * compile of the bundle, node builtins being loaded, or the package / Parley workspace whose code
 * it was (bundle frames mapped to their sources through the bundle's own source map).
 */
function categorize(stack: ProfileNode[], sourceOf: (n: ProfileNode) => string | undefined) {
  const leaf = stack[0]?.callFrame.functionName ?? '';
  if (leaf === '(garbage collector)') return 'garbage collection';
  if (leaf === '(program)') return 'V8 and native code outside JS ((program))';
  for (const n of stack) {
    const { functionName: f, url } = n.callFrame;
    if (url.includes('source_map')) return 'source maps (--enable-source-maps)';
    if (f === 'compileSourceTextModule') return 'compiling the bundle (V8 parse + compile)';
    if (f === 'compileForInternalLoader')
      return 'loading node builtins (undici for fetch, domain, …)';
    const source = sourceOf(n);
    if (source) return ownerOf(source);
  }
  return 'node itself (bootstrap, ESM loader, I/O)';
}
/** Spawns the shipped bundle under --cpu-prof, serves its first event, stops it; CPU ms per category. */
async function profileColdStart(fn: FunctionName): Promise<Record<string, number>> {
  const dir = join(WORK, 'cpu-prof', fn);
  mkdirSync(dir, { recursive: true });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const s = start(
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250', distOf(fn)],
    envOf(fn),
  );
  try {
    await s.listening;
    await waitReady(agent, s);
    const res = await send(agent, PORT, WORKLOADS[fn].cold());
    if (!ok(res.status)) throw new Error(`${fn} (profiled) first request: ${res.status}`);
  } finally {
    agent.destroy();
    await stop(s.child);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return {};
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const map = new SourceMap(JSON.parse(readFileSync(`${distOf(fn)}.map`, 'utf8')));
  const sourceOf = (n: ProfileNode): string | undefined => {
    if (!n.callFrame.url.endsWith('.mjs')) return undefined;
    const entry = map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber) as {
      originalSource?: string;
    };
    return entry.originalSource ?? `unmapped:${n.callFrame.functionName}`;
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node, then one owner per node, except a bundle function's own samples, which
  // V8 attributes to lines (positionTicks): the module bodies all run in the bundle's one top-level
  // function, so its lines tell which package's top level was running.
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const ms: Record<string, number> = {};
  const add = (c: string, us: number) => {
    ms[c] = (ms[c] ?? 0) + us / 1000;
  };
  for (const [id, us] of self) {
    const node = byId.get(id) as ProfileNode;
    if (node.callFrame.functionName === '(idle)') continue;
    const ticks = node.positionTicks ?? [];
    const total = ticks.reduce((a, t) => a + t.ticks, 0);
    if (node.callFrame.url.endsWith('.mjs') && total > 0) {
      for (const t of ticks) {
        const entry = map.findEntry(t.line - 1, 0) as { originalSource?: string };
        add(
          entry.originalSource ? ownerOf(entry.originalSource) : unmapped(node),
          (us * t.ticks) / total,
        );
      }
      continue;
    }
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      stack.push(byId.get(cur) as ProfileNode);
    }
    add(categorize(stack, sourceOf), us);
  }
  return ms;
}
const profiles = new Map<FunctionName, Record<string, number>>();
if (!args['no-profile']) {
  for (const fn of SELECTED) {
    say(`cpu profile of one cold start: ${fn}…`);
    profiles.set(fn, await profileColdStart(fn));
  }
}

// ---------------------------------------------------------------- 2. CPU per event under load
interface LoadSample {
  host: 'functions-framework' | 'hono-node-server';
  events: number;
  cpuMs: number;
  cpuMsPerEvent: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}
const loads = new Map<string, LoadSample[]>();
async function loadRun(fn: FunctionName, host: LoadSample['host']): Promise<LoadSample> {
  const w = WORKLOADS[fn];
  return withFunction(
    fn,
    async (agent, pid) => {
      await w.before?.(agent, PORT);
      const drive = async (n: number, lat?: number[]) => {
        let next = 0;
        let errors = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < n) {
              next++;
              const t = performance.now();
              const res = await send(agent, PORT, w.load());
              lat?.push(performance.now() - t);
              if (!ok(res.status)) {
                errors++;
                if (errors === 1) say(`${fn}: ${res.status} ${res.body.slice(0, 200)}`);
              }
            }
          }),
        );
        return errors;
      };
      await drive(WARMUP);
      const cpu0 = cpuMsOf(pid);
      const t0 = performance.now();
      const lat: number[] = [];
      const errors = await drive(EVENTS, lat);
      const seconds = (performance.now() - t0) / 1000;
      const cpuMs = cpuMsOf(pid) - cpu0;
      lat.sort((a, b) => a - b);
      return {
        host,
        events: EVENTS,
        cpuMs,
        cpuMsPerEvent: cpuMs / EVENTS,
        perSecond: EVENTS / seconds,
        p50: quantile(lat, 0.5),
        p99: quantile(lat, 0.99),
        errors,
      };
    },
    host === 'functions-framework' ? 'ff' : 'bundle',
  );
}
const loadStarted = performance.now();
if (ROUNDS) {
  for (const fn of SELECTED) {
    say(`load: ${fn}, ${ROUNDS} × (hono, FF) × ${EVENTS} at concurrency ${CONCURRENCY}…`);
    for (let r = 0; r < ROUNDS; r++) {
      const hosts: LoadSample['host'][] =
        r % 2
          ? ['hono-node-server', 'functions-framework']
          : ['functions-framework', 'hono-node-server'];
      for (const host of hosts) {
        const s = await loadRun(fn, host);
        loads.set(key(fn, host), [...(loads.get(key(fn, host)) ?? []), s]);
      }
    }
  }
}
const loadSeconds = (performance.now() - loadStarted) / 1000;
stub.close();

// ---------------------------------------------------------------- report
function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}
const stat = (xs: number[], q: number) =>
  quantile(
    [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b),
    q,
  );
const pick = (fn: string, v: string, f: keyof ColdSample) =>
  (samples.get(key(fn, v)) ?? []).map((s) => s[f] as number);
const p = (fn: string, v: string, f: keyof ColdSample, q = 0.5) => stat(pick(fn, v, f), q);
const fmt = (n: number) => (Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
const mb = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '–' : `${(n / 1024 / 1024).toFixed(2)} MB`;

const lines: string[] = [];
const out = (s = '') => lines.push(s);

out('### Cold start: spawn → first handled event (ms)');
out();
out(
  `p50 / p95 over the runs of each variant; "bundle" is what the image runs. Target: p50 < 150 ms.`,
);
out();
out(
  '| function | bundle p50 | p95 | tsx p50 | p95 | tsx ÷ bundle | listening p50 | ready p50 | CPU to first event p50 | RSS p50 |',
);
out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const fn of ['floor', ...SELECTED]) {
  const v = fn === 'floor' ? 'floor' : 'bundle';
  const tsx = fn === 'floor' ? Number.NaN : p(fn, 'tsx', 'first');
  out(
    `| ${fn === 'floor' ? 'node:http alone (floor)' : fn} | ${fmt(p(fn, v, 'first'))} | ${fmt(p(fn, v, 'first', 0.95))} | ${fmt(tsx)} | ${fmt(p(fn, 'tsx', 'first', 0.95))} | ${Number.isNaN(tsx) ? '–' : `${(tsx / p(fn, v, 'first')).toFixed(1)}×`} | ${fmt(p(fn, v, 'listening'))} | ${fmt(p(fn, v, 'ready'))} | ${fmt(p(fn, v, 'cpuMs'))} ms | ${fmt(p(fn, v, 'rssMb'))} MB |`,
  );
}
out();
out('### Every variant (ms from the spawn; p50 / p95)');
out();
out(
  '| function | variant | runs | bundle size | listening | ready | first event | first /readyz took | first request | second request | CPU to first event |',
);
out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const fn of SELECTED) {
  for (const v of VARIANTS) {
    const n = samples.get(key(fn, v.id))?.length ?? 0;
    if (!n) continue;
    const pp = (f: keyof ColdSample) => `${fmt(p(fn, v.id, f))} / ${fmt(p(fn, v.id, f, 0.95))}`;
    out(
      `| ${fn} | ${v.id} | ${n} | ${mb(v.bytes?.[fn])} | ${pp('listening')} | ${pp('ready')} | ${pp('first')} | ${fmt(p(fn, v.id, 'firstReadyz'))} | ${fmt(p(fn, v.id, 'firstReq'))} | ${fmt(p(fn, v.id, 'secondReq'))} | ${fmt(p(fn, v.id, 'cpuMs'))} |`,
    );
  }
}
out();
const starts = [...samples.entries()]
  .filter(([k]) => !k.startsWith('floor|'))
  .flatMap(([, xs]) => xs);
out(
  `\`/readyz\` answered 200 at its first poll in ${starts.filter((x) => x.readyPolls === 1).length} of ${starts.length} starts (the most polls: ${Math.max(...starts.map((x) => x.readyPolls))}): readiness holds the first probe until MySQL, Redis or Elasticsearch answer rather than saying 503. "first /readyz took" is that probe: the first request through the host plus the connections it waits for (mysql2 opens its pools on it; ioredis has been connecting since the adapters were built). "first request" / "second request": the same request twice in a row once ready; the difference is what the first event pays for lazy work.`,
);
out();
const abIds = VARIANTS.filter((v) => !['bundle', 'tsx', 'probe'].includes(v.id)).map((v) => v.id);
if (abIds.length) {
  out(
    '### A/B against the shipped bundle: change of the p50 spawn → first event (and of the CPU to it)',
  );
  out();
  out(`| function | bundle p50 | ${abIds.join(' | ')} |`);
  out(`| --- | --- | ${abIds.map(() => '---').join(' | ')} |`);
  for (const fn of AB_FNS) {
    const base = p(fn, 'bundle', 'first');
    const baseCpu = p(fn, 'bundle', 'cpuMs');
    const cells = abIds.map((id) => {
      const d = p(fn, id, 'first') - base;
      const dc = p(fn, id, 'cpuMs') - baseCpu;
      return Number.isNaN(d)
        ? '–'
        : `${d > 0 ? '+' : ''}${fmt(d)} ms (${d > 0 ? '+' : ''}${((d / base) * 100).toFixed(0)} %), CPU ${dc > 0 ? '+' : ''}${fmt(dc)}`;
    });
    out(`| ${fn} | ${fmt(base)} ms | ${cells.join(' | ')} |`);
  }
  out();
  out("### Where the shipped bundle's start goes (probe preload; p50, ms)");
  out();
  out(
    '| function | spawn → process start | → preload ran (node boot) | → listen() called (module evaluation, host setup) | → listening | → ready | → first event answered |',
  );
  out('| --- | --- | --- | --- | --- | --- | --- |');
  for (const fn of AB_FNS) {
    const q = (f: keyof ColdSample) => p(fn, 'probe', f);
    const exec = q('exec');
    const pre = q('preload');
    const call = q('listenCall');
    const done = q('listenDone');
    const ready = q('ready');
    const first = q('first');
    out(
      `| ${fn} | ${fmt(exec)} | +${fmt(pre - exec)} | +${fmt(call - pre)} | +${fmt(done - call)} | +${fmt(ready - done)} | +${fmt(first - ready)} (total ${fmt(first)}) |`,
    );
  }
  out();
}
if (profiles.size) {
  out(
    '### Where the CPU of a cold start goes (one `--cpu-prof` run of the shipped bundle, spawn → first event answered; ms)',
  );
  out();
  const cats = new Map<string, number>();
  for (const ms of profiles.values()) {
    for (const [c, v] of Object.entries(ms)) cats.set(c, (cats.get(c) ?? 0) + v);
  }
  const order = [...cats.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  const shown = order.slice(0, 16);
  const fns = [...profiles.keys()];
  out(`| where | ${fns.join(' | ')} |`);
  out(`| --- | ${fns.map(() => '---').join(' | ')} |`);
  for (const c of shown) {
    out(`| ${c} | ${fns.map((fn) => fmt(profiles.get(fn)?.[c] ?? 0)).join(' | ')} |`);
  }
  const rest = (fn: FunctionName) =>
    Object.entries(profiles.get(fn) ?? {})
      .filter(([c]) => !shown.includes(c))
      .reduce((a, [, v]) => a + v, 0);
  out(`| everything else | ${fns.map((fn) => fmt(rest(fn))).join(' | ')} |`);
  const sumOf = (fn: FunctionName, prefix: string) =>
    Object.entries(profiles.get(fn) ?? {})
      .filter(([c]) => c.startsWith(prefix))
      .reduce((a, [, v]) => a + v, 0);
  out(
    `| *of which npm packages' code, all together* | ${fns.map((fn) => fmt(sumOf(fn, 'package '))).join(' | ')} |`,
  );
  out(
    `| *of which Parley's code, all together* | ${fns.map((fn) => fmt(sumOf(fn, 'Parley'))).join(' | ')} |`,
  );
  const total = (fn: FunctionName) =>
    Object.values(profiles.get(fn) ?? {}).reduce((a, v) => a + v, 0);
  out(`| **total (not idle)** | ${fns.map((fn) => `**${fmt(total(fn))}**`).join(' | ')} |`);
  out();
  out(
    'The main thread only, sampled every 250 µs (the profiler slows the start a little); "CPU to first event" above counts every thread (GC helpers, the thread pool). Bundle code is attributed to its package or Parley workspace through the bundle\'s source map; the lazy compile of a function is charged to its caller.',
  );
  out();
}
if (ROUNDS) {
  out(
    `### CPU per handled event under a steady load (${EVENTS} events at concurrency ${CONCURRENCY}, after ${WARMUP} warm-up; ${ROUNDS} rounds, alternating)`,
  );
  out();
  out(
    '| function | request | shipped (@hono/node-server): CPU ms/event | FF: CPU ms/event | FF costs more | hono events/s | FF events/s | hono p50 / p99 | FF p50 / p99 |',
  );
  out('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const fn of SELECTED) {
    const ff = loads.get(key(fn, 'functions-framework')) ?? [];
    const hn = loads.get(key(fn, 'hono-node-server')) ?? [];
    const mean = (xs: LoadSample[], f: keyof LoadSample) =>
      xs.reduce((a, s) => a + (s[f] as number), 0) / xs.length;
    const each = (xs: LoadSample[]) => xs.map((s) => s.cpuMsPerEvent.toFixed(2)).join(', ');
    const a = mean(ff, 'cpuMsPerEvent');
    const b = mean(hn, 'cpuMsPerEvent');
    out(
      `| ${fn} | ${WORKLOADS[fn].loadDoc} | ${b.toFixed(2)} (${each(hn)}) | ${a.toFixed(2)} (${each(ff)}) | +${(a - b).toFixed(2)} ms (${(((a - b) / a) * 100).toFixed(0)} % of FF's) | ${fmt(mean(hn, 'perSecond'))} | ${fmt(mean(ff, 'perSecond'))} | ${fmt(mean(hn, 'p50'))} / ${fmt(mean(hn, 'p99'))} | ${fmt(mean(ff, 'p50'))} / ${fmt(mean(ff, 'p99'))} |`,
    );
  }
  out();
  const errs = [...loads.values()].flat().reduce((a, s) => a + s.errors, 0);
  out(`Non-2xx answers under load: ${errs}.`);
  out();
}

const summary = lines.join('\n');
console.log(summary);

const cmd = `npm run bench:cold -- ${process.argv.slice(2).join(' ')}`.trim();
const when = new Date().toISOString();
const file = join(
  REPO_ROOT,
  'perf',
  'results',
  `${when.slice(0, 10)}-${when.slice(11, 16).replace(':', '')}-cold-start-node${major}.md`,
);
const raw = Object.fromEntries(
  [...samples.entries()].map(([k, xs]) => [k, xs.map((s) => round1(s.first))]),
);
writeFileSync(
  file,
  `# Cold start and CPU per event of the function bundles\n\n` +
    `- when: ${when}\n` +
    `- command: \`${process.env.PARLEY_NODE ? `PARLEY_NODE=${process.env.PARLEY_NODE} ` : ''}${cmd}\`\n` +
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; load average (1, 5, 15 min) at the start ${LOAD_AT_START}, at the end ${loadavg()}\n` +
    `- node running the functions: ${NODE_VERSION} (${process.env.PARLEY_NODE ? 'PARLEY_NODE' : "this process's"}); the benchmark itself: ${process.version}\n` +
    `- time: cold starts ${coldSeconds.toFixed(0)} s, load ${loadSeconds.toFixed(0)} s\n` +
    `- each function runs alone with only its own environment (LOG_LEVEL=${LOG_LEVEL}); its peers (rooms, users) and K_SINK are a stub in the benchmark process; MariaDB ×2, Redis, Elasticsearch from tests/infra/up; the client shares the 2 cores\n` +
    `- first event per function: ${SELECTED.map((fn) => `${fn}: ${WORKLOADS[fn].coldDoc}`).join('; ')}\n` +
    `- CPU to first event: all threads of the process (schedstat) at the moment the first answer arrived; CPU per event: utime+stime (/proc/<pid>/stat, CLK_TCK ${CLK_TCK}) over the measured events ÷ events\n` +
    `- a rebuild with launcher/src/build.ts's options gives ${SELECTED.map((fn) => `${fn} ${rebuiltBytes[fn]} B`).join(', ')} (shipped: ${SELECTED.map((fn) => `${shippedBytes[fn]} B`).join(', ')}), so the A/B bundles differ from the shipped ones only by their change\n\n` +
    `Variants:\n\n${[floorVariant, ...VARIANTS].map((v) => `- \`${v.id}\`: ${v.doc}`).join('\n')}\n\n` +
    `${summary}\n\n` +
    `Raw spawn → first event (ms) per run, in run order:\n\n\`\`\`json\n${JSON.stringify(raw)}\n\`\`\`\n`,
);
say(`recorded ${file}`);
// The bundles built here go; the CPU profiles stay for a closer look.
for (const entry of readdirSync(WORK)) {
  if (entry !== 'cpu-prof') rmSync(join(WORK, entry), { recursive: true, force: true });
}
if (profiles.size) say(`cpu profiles: ${join(WORK, 'cpu-prof')}/<function>/*.cpuprofile`);
process.exit(0);
