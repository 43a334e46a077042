/**
 * Every deployable's image, without Docker: for each row of the deployment
 * table this reads the Dockerfile (functions/Dockerfile with FUNCTION=<name>,
 * connection-gateway/Dockerfile), lays out exactly the file tree its COPY /
 * WORKDIR lines make (the build context filtered by .dockerignore) in a temp
 * dir, and starts the image's CMD from that tree alone — no node_modules, no
 * repository, no tsx — with only its own environment: the image's ENV, the
 * table's `env` of that deployable (values from the real infra on loopback,
 * fresh databases, HOST=127.0.0.1 and a free PORT in place of the container's)
 * and PATH. A deployable with a migrate step runs `node migrate.mjs` from the
 * same tree first. Then one real request each: sign-up, an authenticated GET,
 * a binary-mode CloudEvent whose emitted event a stand-in K_SINK records, the
 * gateway's readiness, web client and API.
 *
 * Each process runs under a preload (outside the tree) that records the
 * environment variable names it reads; the Parley variables read must be
 * exactly the table's env (the migrate step's for the migrate process).
 *
 * The bundles run on PARLEY_NODE when set (scripts/ensure-node24.sh: the
 * images' Node 24), else on the Node running the tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEPLOYMENTS, type Deployable, ENV, type EnvName } from '@parley/eventing/deployments';
import { build } from '@parley/launcher/build';
import { bundleNode } from '@parley/launcher/infra';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, freshShardSpec, infraEnv, REPO_ROOT, runId } from '../support/infra';

/** The Node that runs the bundles: the images' Node 24 when PARLEY_NODE is set. */
const NODE = bundleNode();

/** One step: build its tree, migrate, start, answer (generous: a loaded 2-core machine is slow). */
const STEP_TIMEOUT = 120_000;

/**
 * Variables outside Parley's table that Node itself and the bundled libraries
 * read (none changes what Parley does; each is listed with who reads it).
 * Anything else read fails the test.
 */
const ALLOWED_FOREIGN: Record<string, string> = {
  NODE_ENV: 'the image sets it; express, finalhandler, functions-framework, kafkajs',
  NODE_DEBUG: 'Node (util.debuglog)',
  NODE_V8_COVERAGE: 'Node',
  NODE_UNIQUE_ID: 'Node (cluster)',
  NODE_CLUSTER_SCHED_POLICY: 'Node (cluster)',
  WATCH_REPORT_DEPENDENCIES: 'Node (--watch support)',
  TZ: 'Node',
  FORCE_COLOR: 'Node (tty colours), picocolors',
  NO_COLOR: 'Node (tty colours)',
  NODE_DISABLE_COLORS: 'Node (tty colours)',
  UNDICI_NO_FG: 'undici (Node’s fetch and the Elasticsearch client’s)',
  JEST_WORKER_ID: 'undici',
  UNDICI_NO_WASM_SIMD: 'undici (Node 24’s fetch)',
  DEBUG: 'debug (express, body-parser, …)',
  NO_DEPRECATION: 'depd (express, body-parser)',
  TRACE_DEPRECATION: 'depd (express, body-parser)',
  OTEL_ELASTICSEARCH_ENABLED: '@elastic/transport',
  KAFKAJS_LOG_LEVEL: 'kafkajs',
  KAFKAJS_DEBUG_PROTOCOL_BUFFERS: 'kafkajs',
  KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS: 'kafkajs',
  WS_NO_BUFFER_UTIL: 'ws',
  WS_NO_UTF_8_VALIDATE: 'ws',
};

/** Code that may list the whole environment: `debug` looks for its DEBUG_* options that way. */
const ALLOWED_ENUMERATORS = [/node_modules\/debug\//];

// ---------------------------------------------------------------------------------------------
// The Dockerfile, read as far as these images use it.

interface Image {
  from: string;
  workdir: string;
  env: Record<string, string>;
  copies: { sources: string[]; dest: string }[];
  user?: string;
  cmd: string[];
}

/** Replaces `${NAME}` and `$NAME` with build args / ENV values; an unknown name is an error. */
function substitute(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    const v = vars[name];
    if (v === undefined) throw new Error(`Dockerfile uses $${name}, which has no value`);
    return v;
  });
}

/** Parses a Dockerfile that only uses FROM, ARG, ENV, WORKDIR, COPY, USER, EXPOSE and CMD. */
function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): Image {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const vars: Record<string, string | undefined> = {};
  const image: Partial<Image> & { env: Record<string, string>; copies: Image['copies'] } = {
    env: {},
    copies: [],
  };
  for (const line of lines) {
    const [, word = '', rest = ''] = line.match(/^(\w+)\s*(.*)$/) ?? [];
    const instr = word.toUpperCase();
    switch (instr) {
      case 'ARG': {
        const [name = '', dflt] = rest.split('=', 2);
        vars[name] = buildArgs[name] ?? dflt;
        break;
      }
      case 'FROM':
        image.from = substitute(rest, vars);
        break;
      case 'ENV': {
        const pairs = [...rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)];
        if (!pairs.length) throw new Error(`ENV ${rest}: only the KEY=value form is read`);
        for (const [, k = '', raw = ''] of pairs) {
          const v = substitute(raw.replace(/^"(.*)"$/, '$1'), vars);
          image.env[k] = v;
          vars[k] = v;
        }
        break;
      }
      case 'WORKDIR':
        image.workdir = posix.resolve(image.workdir ?? '/', substitute(rest, vars));
        break;
      case 'COPY': {
        const words = rest.split(/\s+/).map((w) => substitute(w, vars));
        const flags = words.filter((w) => w.startsWith('--'));
        const bad = flags.filter((f) => !f.startsWith('--chown=') && !f.startsWith('--chmod='));
        if (bad.length) throw new Error(`COPY ${bad.join(' ')} is not emulated`);
        const paths = words.filter((w) => !w.startsWith('--'));
        if (paths.length < 2) throw new Error(`COPY ${rest}: needs a source and a destination`);
        image.copies.push({ sources: paths.slice(0, -1), dest: paths.at(-1) as string });
        break;
      }
      case 'USER':
        image.user = rest;
        break;
      case 'EXPOSE':
        break;
      case 'CMD':
        image.cmd = JSON.parse(rest) as string[];
        break;
      default:
        // RUN, ENTRYPOINT, ADD, … would change what runs: these images have none.
        throw new Error(`Dockerfile instruction ${instr} is not emulated`);
    }
  }
  if (!image.from || !image.cmd) throw new Error('Dockerfile without FROM or CMD');
  return { workdir: '/', ...image } as Image;
}

/** `.dockerignore` as Docker reads it: last matching pattern wins; a match on a parent folder counts. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize(l.slice(negate ? 1 : 0)).replace(/^\/+|\/+$/g, '');
      const re = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '.*'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    let excluded = false;
    for (const { negate, re } of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (re.test(parts.slice(0, i).join('/'))) {
          excluded = !negate;
          break;
        }
      }
    }
    return excluded;
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
  }
  return out.sort();
}

/** Lays out the image's files under `root` (its `/`); returns the WORKDIR on disk. */
async function layOut(image: Image, root: string): Promise<string> {
  const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  const workdir = join(root, image.workdir);
  await mkdir(workdir, { recursive: true });
  for (const { sources, dest } of image.copies) {
    const destDir = join(root, posix.resolve(image.workdir, dest));
    for (const source of sources) {
      const src = posix.normalize(source).replace(/\/$/, '');
      const abs = join(REPO_ROOT, src);
      if (!existsSync(abs)) throw new Error(`COPY ${source}: not in the build context`);
      const files = (await filesUnder(abs).catch(() => [''])).filter(
        (f) => !ignored(f ? `${src}/${f}` : src),
      );
      if (!files.length) throw new Error(`COPY ${source}: everything is in .dockerignore`);
      for (const f of files) {
        const to = f ? join(destDir, f) : join(destDir, posix.basename(src));
        await mkdir(dirname(to), { recursive: true });
        await copyFile(f ? join(abs, f) : abs, to);
      }
    }
  }
  return workdir;
}

// ---------------------------------------------------------------------------------------------
// Processes, each under the env probe.

/**
 * A preload that records each environment variable name the process reads, one per line. Each
 * new name is appended as it is first read, so the file is complete however the process ends
 * (exit, a signal it handles or not, a crash); the probe installs no signal handler of its own,
 * which would change how the process reacts to SIGTERM.
 */
const probeSource = (out: string) => `
import { appendFileSync } from 'node:fs';
const out = ${JSON.stringify(out)};
const seen = new Set();
const note = (line) => {
  if (seen.has(line)) return;
  seen.add(line);
  appendFileSync(out, line + '\\n');
};
// Copying or listing the whole environment (spread, Object.keys, for-in) is noted once, with
// where it happened. The engine then visits the listed names in order (descriptor, maybe value),
// and those visits are the enumeration's, not reads of a variable; any other access ends it.
let listed = [];
let at = 0;
const visit = (k, trap) => {
  if (typeof k !== 'string') return;
  if (listed.length) {
    if (trap === 'get' && at > 0 && listed[at - 1] === k) {
      if (at === listed.length) listed = [];
      return;
    }
    if (trap === 'getOwnPropertyDescriptor' && listed[at] === k) {
      at++;
      return;
    }
    listed = [];
  }
  note(k);
};
const real = process.env;
process.env = new Proxy(real, {
  get(t, k) { visit(k, 'get'); return Reflect.get(t, k); },
  has(t, k) { visit(k, 'has'); return Reflect.has(t, k); },
  getOwnPropertyDescriptor(t, k) { visit(k, 'getOwnPropertyDescriptor'); return Reflect.getOwnPropertyDescriptor(t, k); },
  set(t, k, v) { t[k] = v; return true; },
  deleteProperty(t, k) { delete t[k]; return true; },
  ownKeys(t) {
    const keys = Reflect.ownKeys(t);
    const where = (new Error().stack ?? '').split('\\n').slice(2, 5).map((l) => l.trim()).join(' < ');
    note('*enumerated ' + where);
    listed = keys.filter((k) => typeof k === 'string');
    at = 0;
    return keys;
  },
});
`;

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The names the process read so far (and enumerations, starting with `*`). */
  reads: () => string[];
}

const procs: Proc[] = [];

function run(
  name: string,
  cwd: string,
  cmd: string[],
  env: Record<string, string>,
  probeDir: string,
): Proc {
  const [program, ...args] = cmd;
  if (program !== 'node') throw new Error(`${name}: CMD starts with ${program}, not node`);
  const readsFile = join(probeDir, `${name}.env-reads`);
  const probe = join(probeDir, `${name}.probe.mjs`);
  // Written synchronously so that the process cannot start before its probe exists.
  writeFileSync(probe, probeSource(readsFile));
  const child = spawn(NODE, ['--import', pathToFileURL(probe).href, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: Proc = {
    name,
    child,
    output: () => output,
    exited,
    reads: () =>
      existsSync(readsFile) ? readFileSync(readsFile, 'utf8').split('\n').filter(Boolean) : [],
  };
  procs.push(proc);
  return proc;
}

async function stop(p: Proc): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return p.exited;
}

// ---------------------------------------------------------------------------------------------

describe('images: every deployable runs from its image tree alone', () => {
  const id = runId();
  const infra = infraEnv();
  const jwtSecret = randomBytes(32).toString('base64url');
  let work: string;
  let nodeVersion: string;
  /** What each started deployable answers at. */
  const urls: Partial<Record<string, string>> = {};
  const ports: Partial<Record<string, number>> = {};
  /** Each deployable's private METRICS_PORT. */
  const metricsPorts: Partial<Record<string, number>> = {};
  /** The environment variable values of this run, by name (every variable of the table). */
  let values: Record<EnvName, string>;
  /** Events the functions emitted to K_SINK. */
  const emitted: { headers: IncomingHttpHeaders; body: string }[] = [];
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      emitted.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  /** Processes by deployable (and `<name>-migrate`), for the env checks at the end. */
  const started = new Map<string, { proc: Proc; env: readonly EnvName[] }>();
  let session: { token: string; userId: string };
  let roomId: string;
  let message: { id: string; body: string };
  const word = `zebrafish${id}`;

  beforeAll(async () => {
    const { outputs } = await build({ only: DEPLOYMENTS.map((d) => d.name) });
    expect(outputs.length).toBeGreaterThan(0);
    work = await mkdtemp(join(tmpdir(), 'parley-images-'));
    // Nothing above the trees may hold packages a bundle could fall back on.
    for (let d = work; d !== dirname(d); d = dirname(d)) {
      expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
    }
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkPort = (sink.address() as { port: number }).port;
    for (const d of DEPLOYMENTS) ports[d.name] = await freePort();
    for (const d of DEPLOYMENTS) metricsPorts[d.name] = await freePort();
    const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
    values = {
      PORT: '', // per process
      HOST: '127.0.0.1', // the images say 0.0.0.0; nothing here binds beyond loopback
      METRICS_PORT: '', // per process
      LOG_LEVEL: 'info',
      // Tracing off (every bundle still reads both; the observability test runs them traced).
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_TRACES_SAMPLER_ARG: '1',
      JWT_SECRET: jwtSecret,
      USERS_DB_SHARDS: freshShardSpec('img_users'),
      ROOMS_DB_SHARDS: freshShardSpec('img_rooms'),
      MESSAGE_DB_SHARDS: freshShardSpec('img_messages'),
      NOTIFY_DB_SHARDS: freshShardSpec('img_notify'),
      REDIS_URL: infra.REDIS_URL,
      ES_URL: infra.ES_URL,
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      K_SINK: `http://127.0.0.1:${sinkPort}/`,
      USERS_URL: url('users'),
      ROOMS_URL: url('rooms'),
      MESSAGES_URL: url('messages'),
      SEARCH_URL: url('search'),
      NOTIFICATIONS_URL: url('notifications'),
      PRESENCE_TTL_MS: '30000',
      SEARCH_INDEX_ALIAS: `t-images-${id}`,
      SEARCH_INDEX_SHARDS: '1',
      SEARCH_INDEX_REPLICAS: '0',
      SEARCH_REFRESH_INTERVAL: '1s',
      ALLOWED_ORIGINS: url('connection-gateway'),
      RATE_FRAMES_PER_SEC: '20',
      RATE_BURST: '200',
      ABUSE_STRIKES: '20',
      COMMAND_TIMEOUT_MS: '10000',
      DRAIN_TIMEOUT_MS: '2000',
      TRUSTED_PROXY_HOPS: '0',
      RATE_USER_FRAMES_PER_SEC: '60',
      RATE_USER_BURST: '400',
      RATE_SEND_PER_SEC: '10',
      RATE_SEND_BURST: '200',
      RATE_SYNC_PER_SEC: '5',
      RATE_SYNC_BURST: '50',
      RATE_TYPING_READ_PER_SEC: '5',
      RATE_TYPING_READ_BURST: '50',
      RATE_HISTORY_BYTES_PER_SEC: '1048576',
      RATE_HISTORY_BYTES_BURST: '4194304',
      RATE_LIMITED_STRIKES: '300',
      MAX_SOCKETS_PER_USER: '20',
      MAX_SOCKETS_PER_ADDRESS: '100',
      MAX_CONNECTIONS: '10000',
      HEARTBEAT_INTERVAL_MS: '30000',
      HTTP_HEADERS_TIMEOUT_MS: '10000',
      HTTP_REQUEST_TIMEOUT_MS: '30000',
      HANDSHAKE_TIMEOUT_MS: '10000',
      RATE_HTTP_ADDRESS_PER_SEC: '20',
      RATE_HTTP_ADDRESS_BURST: '100',
      RATE_HTTP_USER_PER_SEC: '10',
      RATE_HTTP_USER_BURST: '50',
      LOGIN_FREE_FAILURES: '5',
      LOGIN_ADDRESS_FREE_FAILURES: '50',
      LOGIN_USER_FAILURE_BUDGET: '20',
      // Redis keeps sign-up counts per address for an hour, across runs of this test.
      SIGNUPS_PER_ADDRESS_PER_HOUR: '1000',
      KDF_CONCURRENCY: '2',
      KDF_QUEUE_MAX: '16',
    };
    nodeVersion = await new Promise<string>((resolve, reject) => {
      const c = spawn(NODE, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let v = '';
      c.stdout.on('data', (d) => (v += d));
      c.once('exit', (code) => (code === 0 ? resolve(v.trim()) : reject(new Error(`${NODE}`))));
    });
    process.stderr.write(`[images] bundles run on ${NODE} ${nodeVersion}\n`);
  });

  afterAll(async () => {
    await Promise.all(procs.map(stop));
    await new Promise((resolve) => sink.close(resolve));
    // Drop this run's databases and search index.
    if (values) {
      for (const spec of [
        values.USERS_DB_SHARDS,
        values.ROOMS_DB_SHARDS,
        values.MESSAGE_DB_SHARDS,
        values.NOTIFY_DB_SHARDS,
      ]) {
        for (const part of spec.split(';')) {
          const u = new URL(part.slice(part.indexOf('=') + 1));
          const db = u.pathname.slice(1);
          u.pathname = '/';
          const conn = await mysql.createConnection(u.toString()).catch(() => undefined);
          await conn?.query(`DROP DATABASE IF EXISTS \`${db}\``);
          await conn?.end();
        }
      }
      // Elasticsearch refuses wildcard deletes: ask the alias for its indices, delete them by name.
      const aliased = await fetch(`${infra.ES_URL}/_alias/${values.SEARCH_INDEX_ALIAS}`)
        .then((r) => (r.ok ? (r.json() as Promise<Record<string, unknown>>) : {}))
        .catch(() => ({}));
      for (const index of Object.keys(aliased)) {
        await fetch(`${infra.ES_URL}/${index}`, { method: 'DELETE' }).catch(() => undefined);
      }
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Reads the deployable's Dockerfile and lays out its image tree; returns the image and its WORKDIR. */
  async function imageOf(d: Deployable): Promise<{ image: Image; cwd: string }> {
    const isGateway = d.kind === 'gateway';
    const dockerfile = isGateway ? 'connection-gateway/Dockerfile' : 'functions/Dockerfile';
    const image = parseDockerfile(
      await readFile(join(REPO_ROOT, dockerfile), 'utf8'),
      isGateway ? {} : { FUNCTION: d.name },
    );
    expect(image.from).toMatch(/^node:24[.-]/);
    expect(image.user, 'runs as a non-root user').toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(image.env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080' });
    expect(image.cmd).toEqual(['node', 'index.mjs']);
    const root = join(work, d.name, 'rootfs');
    const cwd = await layOut(image, root);

    // Exactly the bundle, its map, and what the deployable needs beside it.
    const expected = ['index.mjs', 'index.mjs.map'];
    const migrate = 'migrate' in d ? d.migrate : undefined;
    if (migrate) expected.push('migrate.mjs', 'migrate.mjs.map');
    if (migrate?.sql) {
      for (const f of await readdir(join(REPO_ROOT, migrate.sql))) {
        if (f.endsWith('.sql')) expected.push(`migrations/${f}`);
      }
    }
    const files = await filesUnder(root);
    const prefix = `${image.workdir.replace(/^\//, '')}/`;
    expect(files.every((f) => f.startsWith(prefix))).toBe(true);
    const inWorkdir = files.map((f) => f.slice(prefix.length));
    if (isGateway) {
      const client = (await filesUnder(join(REPO_ROOT, 'webapp/dist'))).filter(
        (f) => f !== '.source-hash',
      );
      expected.push(...client.map((f) => `public/${f}`));
      expect(inWorkdir).toContain('public/index.html');
    }
    expect(inWorkdir).toEqual(expected.sort());
    return { image, cwd };
  }

  /** The process's environment: the image's ENV, then the table's variables for it, then PATH. */
  function envOf(
    image: Image,
    names: readonly EnvName[],
    ports: { port?: number; metricsPort?: number } = {},
  ) {
    const env: Record<string, string> = { ...image.env, PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const own: Partial<Record<EnvName, number | undefined>> = {
      PORT: ports.port,
      METRICS_PORT: ports.metricsPort,
    };
    for (const n of names) env[n] = n in own ? String(own[n]) : values[n];
    return env;
  }

  async function migrateStep(d: Deployable, image: Image, cwd: string): Promise<void> {
    if (!('migrate' in d) || !d.migrate) return;
    const name = `${d.name}-migrate`;
    const cmd = ['node', ...image.cmd.slice(1, -1), 'migrate.mjs'];
    const p = run(name, cwd, cmd, envOf(image, d.migrate.env), work);
    started.set(name, { proc: p, env: d.migrate.env });
    const { code } = await p.exited;
    expect(code, `${name} failed:\n${p.output()}`).toBe(0);
  }

  async function startDeployable(name: string): Promise<string> {
    const d = DEPLOYMENTS.find((x) => x.name === name) as Deployable;
    const { image, cwd } = await imageOf(d);
    await migrateStep(d, image, cwd);
    const port = ports[name] as number;
    const metricsPort = metricsPorts[name] as number;
    const p = run(name, cwd, image.cmd, envOf(image, d.env, { port, metricsPort }), work);
    started.set(name, { proc: p, env: d.env });
    const base = `http://127.0.0.1:${port}`;
    const state = await vi.waitFor(
      async () => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return 'exited';
        const res = await fetch(`${base}/readyz`);
        if (res.status !== 200) throw new Error(`${name} /readyz ${res.status}:\n${p.output()}`);
        return 'ready';
      },
      { timeout: 60_000, interval: 100 },
    );
    if (state === 'exited') throw new Error(`${name} exited ${p.child.exitCode}:\n${p.output()}`);
    // /metrics on the private METRICS_PORT only; the serving port (what a Service exposes) has none.
    const metrics = await vi.waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        expect(res.status, `${name} /metrics on METRICS_PORT`).toBe(200);
        return res.text();
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(metrics).toContain(`service="${name}"`);
    const publicMetrics = await fetch(`${base}/metrics`);
    expect(publicMetrics.status, `${name} /metrics on PORT`).toBe(404);
    expect(await publicMetrics.json()).toMatchObject({ error: { code: 'not_found' } });
    urls[name] = base;
    return base;
  }

  /** POSTs one CloudEvent in HTTP binary content mode (`ce-` headers, the data as JSON body). */
  function postCloudEvent(base: string, type: string, data: unknown, partitionkey: string) {
    return fetch(`${base}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': randomUUID(),
        'ce-source': '/parley/images-test',
        'ce-type': type,
        'ce-time': new Date().toISOString(),
        'ce-partitionkey': partitionkey,
      },
      body: JSON.stringify(data),
    });
  }

  const auth = () => ({ authorization: `Bearer ${session.token}` });

  async function waitEmitted(type: string) {
    return vi.waitFor(
      () => {
        const e = emitted.find((x) => x.headers['ce-type'] === type);
        if (!e) throw new Error(`nothing of type ${type} reached K_SINK`);
        return e;
      },
      { timeout: 30_000, interval: 50 },
    );
  }

  it(
    'users: migrates, starts, and signs a user up (201)',
    async () => {
      const base = await startDeployable('users');
      const res = await fetch(`${base}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `img${id}`, password: 'correct horse battery' }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { token: string; user: { id: string } };
      session = { token: body.token, userId: body.user.id };
      expect(session.token).toBeTruthy();
    },
    STEP_TIMEOUT,
  );

  it(
    'room-ops: migrates the room DB, takes parley.room.create (202), emits parley.room.created',
    async () => {
      const base = await startDeployable('room-ops');
      roomId = `rimg${id}`;
      const res = await postCloudEvent(
        base,
        'parley.room.create',
        { actorId: session.userId, roomId, name: 'images', memberIds: [] },
        roomId,
      );
      expect(res.status, await res.clone().text()).toBe(202);
      const e = await waitEmitted('parley.room.created');
      expect(e.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(e.body)).toMatchObject({ room: { id: roomId } });
    },
    STEP_TIMEOUT,
  );

  it(
    'rooms: lists the caller’s rooms (200)',
    async () => {
      const base = await startDeployable('rooms');
      const res = await fetch(`${base}/api/v1/rooms`, { headers: auth() });
      expect(res.status).toBe(200);
      const { rooms } = (await res.json()) as { rooms: { id: string }[] };
      expect(rooms.map((r) => r.id)).toContain(roomId);
    },
    STEP_TIMEOUT,
  );

  it(
    'message-write: migrates the message DB, takes parley.message.send (202), emits parley.message.created',
    async () => {
      const base = await startDeployable('message-write');
      const res = await postCloudEvent(
        base,
        'parley.message.send',
        {
          actorId: session.userId,
          roomId,
          clientMsgId: `c-${id}`,
          body: `hello ${word}`,
          acceptedTs: Date.now(),
        },
        roomId,
      );
      expect(res.status, await res.clone().text()).toBe(202);
      const e = await waitEmitted('parley.message.created');
      message = (JSON.parse(e.body) as { message: { id: string; body: string } }).message;
      expect(message.body).toBe(`hello ${word}`);
    },
    STEP_TIMEOUT,
  );

  it(
    'messages: returns the room’s history (200)',
    async () => {
      const base = await startDeployable('messages');
      const res = await fetch(`${base}/api/v1/rooms/${roomId}/messages`, { headers: auth() });
      expect(res.status).toBe(200);
      expect(JSON.stringify(await res.json())).toContain(message.id);
    },
    STEP_TIMEOUT,
  );

  it(
    'message-index: creates the index, takes parley.message.created (202)',
    async () => {
      const base = await startDeployable('message-index');
      const created = emitted.find((x) => x.headers['ce-type'] === 'parley.message.created');
      const res = await postCloudEvent(
        base,
        'parley.message.created',
        JSON.parse(created?.body ?? '{}'),
        roomId,
      );
      expect(res.status, await res.clone().text()).toBe(202);
    },
    STEP_TIMEOUT,
  );

  it(
    'search: finds the indexed message (200)',
    async () => {
      const base = await startDeployable('search');
      await vi.waitFor(
        async () => {
          const res = await fetch(`${base}/api/v1/search?q=${word}`, { headers: auth() });
          expect(res.status).toBe(200);
          const { hits } = (await res.json()) as { hits: { message: { id: string } }[] };
          expect(hits.map((h) => h.message.id)).toContain(message.id);
        },
        { timeout: 30_000, interval: 200 },
      );
    },
    STEP_TIMEOUT,
  );

  it(
    'notify: migrates the notification DB, takes a read and a mention (202), stores them',
    async () => {
      const base = await startDeployable('notify');
      const read = await postCloudEvent(
        base,
        'parley.notify.read',
        { actorId: session.userId, roomId, seq: 1, lastSeq: 1 },
        session.userId,
      );
      expect(read.status, await read.clone().text()).toBe(202);
      const created = emitted.find((x) => x.headers['ce-type'] === 'parley.message.created');
      const res = await postCloudEvent(
        base,
        'parley.message.created',
        JSON.parse(created?.body ?? '{}'),
        roomId,
      );
      expect(res.status, await res.clone().text()).toBe(202);
    },
    STEP_TIMEOUT,
  );

  it(
    'notifications: answers the read marker and the inbox (200)',
    async () => {
      const base = await startDeployable('notifications');
      const markers = await fetch(`${base}/internal/users/${session.userId}/markers`);
      expect(markers.status).toBe(200);
      expect(await markers.json()).toEqual({ markers: { [roomId]: 1 } });
      const inbox = await fetch(`${base}/api/v1/notifications`, { headers: auth() });
      expect(inbox.status).toBe(200);
      expect(await inbox.json()).toMatchObject({ notifications: [], unreadTotal: 0 });
    },
    STEP_TIMEOUT,
  );

  it(
    'connection-gateway: ready, serves the web client and the API',
    async () => {
      const base = await startDeployable('connection-gateway');
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toBe(
        readFileSync(join(REPO_ROOT, 'webapp/dist/index.html'), 'utf8'),
      );
      const rooms = await fetch(`${base}/api/v1/rooms`, { headers: auth() });
      expect(rooms.status).toBe(200);
      expect(JSON.stringify(await rooms.json())).toContain(roomId);
    },
    STEP_TIMEOUT,
  );

  it(
    'each process stops on SIGTERM and read exactly its table env',
    async () => {
      expect([...started.keys()].sort()).toEqual(
        [
          ...DEPLOYMENTS.map((d) => d.name),
          ...DEPLOYMENTS.filter((d) => 'migrate' in d).map((d) => `${d.name}-migrate`),
        ].sort(),
      );
      const exits = await Promise.all([...started.values()].map(({ proc }) => stop(proc)));
      const report = [...started].map(([name, { proc, env }], i) => {
        const reads = proc.reads();
        const names = reads.filter((r) => !r.startsWith('*'));
        return {
          name,
          exit: exits[i],
          output: proc.output(),
          table: [...env].sort(),
          parley: names.filter((n) => Object.hasOwn(ENV, n)).sort(),
          foreign: names.filter((n) => !Object.hasOwn(ENV, n)).sort(),
          enumerations: reads.filter((r) => r.startsWith('*')),
        };
      });
      process.stderr.write(
        `[images] env reads:\n${report
          .map(
            (r) =>
              `  ${r.name}: ${r.parley.join(' ')} | others: ${r.foreign.join(' ') || '-'}${r.enumerations.length ? ` | ${r.enumerations.join('; ')}` : ''}`,
          )
          .join('\n')}\n`,
      );
      for (const r of report) {
        expect(r.exit, `${r.name} exit:\n${r.output.slice(-2000)}`).toEqual({
          code: 0,
          signal: null,
        });
        // The Parley variables it read are exactly the table's.
        expect({ name: r.name, read: r.parley }).toEqual({ name: r.name, read: r.table });
        expect({
          name: r.name,
          foreign: r.foreign.filter((n) => !Object.hasOwn(ALLOWED_FOREIGN, n)),
        }).toEqual({
          name: r.name,
          foreign: [],
        });
        expect({
          name: r.name,
          enumerations: r.enumerations.filter((e) => !ALLOWED_ENUMERATORS.some((re) => re.test(e))),
        }).toEqual({ name: r.name, enumerations: [] });
      }
    },
    STEP_TIMEOUT,
  );
});
