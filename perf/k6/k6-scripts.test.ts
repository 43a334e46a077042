/**
 * The k6 scripts, checked without k6 (AGPL, not run here): each script is bundled with esbuild as
 * k6 would load it and run in Node against stand-ins for k6's modules — recording metrics, a fake
 * gateway behind k6/http, k6/websockets and k6/ws that validates every request and frame with the
 * protocol's own schemas. So the tests see what a load tester's k6 would: the options a script
 * exports for a given scenario file, what its setup() asks of the target, and what its VUs send and
 * record. Every expectation is computed here from the scenario file, not taken from the scripts,
 * so a script that drifts from perf/scenarios/scenarios.json (or ignores it) fails.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateRoomBodySchema,
  InviteBodySchema,
  SendFrameSchema,
  SignupBodySchema,
} from '@parley/protocol';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { type Scenarios, sentAtOf, timedBody } from '../scenarios/types';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const SCENARIOS_FILE = resolve(HERE, '../scenarios/scenarios.json');
const FILE_SCENARIOS = JSON.parse(readFileSync(SCENARIOS_FILE, 'utf8')) as Scenarios;

/** The scenario file with every number changed: a script that hard-codes one fails against it. */
function perturbed(): Scenarios {
  const s = structuredClone(FILE_SCENARIOS);
  s.chat = { ...s.chat, users: 33, rooms: 4, ratePerSecond: 77, durationSeconds: 12 };
  s.chat = { ...s.chat, warmupSeconds: 3, bodyChars: 50, p99TargetMs: 250, maxErrorRate: 0.05 };
  s.soak = { ...s.soak, sockets: 1234, connectPerSecond: 321, holdSeconds: 7, maxErrorRate: 0.002 };
  s.httpMix = { ...s.httpMix, ratePerSecond: 42, durationSeconds: 9, maxErrorRate: 0.03 };
  s.stress = { ...s.stress, users: 40, startRate: 50, stepRate: 75, maxRate: 400, stepSeconds: 4 };
  s.stress = { ...s.stress, kneeP99Ms: 180, kneeAchievedRatio: 0.9 };
  return s;
}

// ---- k6 stand-ins ---------------------------------------------------------------------------

interface Sample {
  value: number;
  tags: Record<string, string> | undefined;
}

interface HttpRes {
  status: number;
  body: string;
  headers: Record<string, string>;
  error: string;
}

interface HttpCall {
  method: string;
  url: string;
  body: unknown;
  headers: Record<string, string>;
  tags: Record<string, string>;
}

interface FakeUser {
  id: string;
  username: string;
  token: string;
}

interface SentFrame {
  userId: string;
  roomId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
}

/** What the fake gateway does with a valid `send`: store it, or refuse it with an error code. */
type SendPolicy = (frame: SentFrame, index: number) => 'store' | { refuse: string };
/** What the fake gateway does with the n-th WebSocket: accept it, refuse it, or drop it later. */
type SocketPolicy = (index: number) => 'accept' | 'refuse' | { dropAfterMs: number };

type Listener = (event: unknown) => void;

/** A fresh world per test: k6's modules, a fake gateway behind them, and what was recorded. */
function makeWorld(
  opts: {
    sendPolicy?: SendPolicy;
    socketPolicy?: SocketPolicy;
    signupPolicy?: (username: string, attempt: number) => HttpRes | undefined;
  } = {},
) {
  const metrics = new Map<string, Sample[]>();
  const sleeps: number[] = [];
  const opened: string[] = [];
  const users = new Map<string, FakeUser>();
  const byToken = new Map<string, FakeUser>();
  const rooms = new Map<string, Set<string>>();
  const memberIdsAtCreation: number[] = [];
  const invites: { by: string; roomId: string; userId: string }[] = [];
  const signupAttempts = new Map<string, number>();
  const reads: HttpCall[] = [];
  const sends: SentFrame[] = [];
  const invalidFrames: unknown[] = [];
  const sockets = new Set<FakeWebSocket>();
  const socketsOfUser = new Map<string, number>();
  let maxSocketsPerUser = 0;
  let socketCount = 0;

  class Metric {
    constructor(readonly name: string) {
      metrics.set(name, []);
    }
    add(value: number | boolean, tags?: Record<string, string>): void {
      metrics.get(this.name)?.push({ value: Number(value), tags });
    }
  }

  const res = (status: number, body: unknown, headers: Record<string, string> = {}): HttpRes => ({
    status,
    body: body === undefined ? '' : JSON.stringify(body),
    headers,
    error: '',
  });
  const err = (status: number, code: string) => res(status, { error: { code, message: code } });
  const userOf = (headers: Record<string, string>) =>
    byToken.get((headers.authorization ?? '').replace(/^Bearer /, ''));

  function http(method: string, url: string, body: string | null, params?: HttpParams): HttpRes {
    const u = new URL(url);
    if (u.origin !== 'http://127.0.0.1:8080') return err(502, 'wrong target');
    const headers = params?.headers ?? {};
    const json: unknown = body ? JSON.parse(body) : undefined;
    const path = u.pathname;
    if (method === 'GET' && path === '/healthz') return res(200, { ok: true });
    if (method === 'POST' && path === '/api/v1/auth/signup') {
      const parsed = SignupBodySchema.safeParse(json);
      if (!parsed.success) return err(400, 'bad_request');
      const { username, password } = parsed.data;
      if (password.toLowerCase().includes(username)) return err(400, 'weak_password');
      const attempt = (signupAttempts.get(username) ?? 0) + 1;
      signupAttempts.set(username, attempt);
      const refused = opts.signupPolicy?.(username, attempt);
      if (refused) return refused;
      if ([...users.values()].some((x) => x.username === username))
        return err(409, 'username_taken');
      const user = { id: `u_${users.size + 1}`, username, token: `tok${users.size + 1}` };
      users.set(user.id, user);
      byToken.set(user.token, user);
      return res(201, {
        user: { id: user.id, username, displayName: username },
        token: user.token,
      });
    }
    const me = userOf(headers);
    if (!me) return err(401, 'unauthorized');
    if (method === 'POST' && path === '/api/v1/rooms') {
      const parsed = CreateRoomBodySchema.safeParse(json);
      if (!parsed.success) return err(400, 'bad_request');
      memberIdsAtCreation.push(parsed.data.memberIds.length);
      const id = `r_${rooms.size + 1}`;
      rooms.set(id, new Set([me.id, ...parsed.data.memberIds.filter((m) => users.has(m))]));
      return res(201, { room: { id, name: parsed.data.name, kind: 'group' } });
    }
    const invite = /^\/api\/v1\/rooms\/([^/]+)\/members$/.exec(path);
    if (method === 'POST' && invite) {
      const room = rooms.get(invite[1] as string);
      const parsed = InviteBodySchema.safeParse(json);
      if (!room || !parsed.success) return err(400, 'bad_request');
      if (!room.has(me.id)) return err(403, 'not_member');
      invites.push({ by: me.id, roomId: invite[1] as string, userId: parsed.data.userId });
      room.add(parsed.data.userId);
      return res(200, { room: { id: invite[1] } });
    }
    if (method === 'GET') {
      reads.push({ method, url, body: json, headers, tags: params?.tags ?? {} });
      return res(200, {});
    }
    return err(404, 'not_found');
  }

  interface HttpParams {
    headers?: Record<string, string>;
    tags?: Record<string, string>;
  }
  const httpModule = {
    request: (m: string, url: string, body?: string | null, p?: HttpParams) =>
      http(m, url, body ?? null, p),
    get: (url: string, p?: HttpParams) => http('GET', url, null, p),
    post: (url: string, body: string, p?: HttpParams) => http('POST', url, body, p),
    batch: (reqs: { method: string; url: string; body?: string; params?: HttpParams }[]) =>
      reqs.map((r) => http(r.method, r.url, r.body ?? null, r.params)),
  };

  /** A `send` as the gateway sees it: validated, then stored (ack + message to the room) or not. */
  function onSend(user: FakeUser, raw: string, reply: (frame: unknown) => void): void {
    const parsed = SendFrameSchema.safeParse(JSON.parse(raw));
    const room = parsed.success ? rooms.get(parsed.data.roomId) : undefined;
    if (!parsed.success || !room?.has(user.id)) {
      invalidFrames.push(raw);
      reply({ type: 'error', code: 'bad_request', message: 'invalid send' });
      return;
    }
    const f = parsed.data;
    const sent = { userId: user.id, ...f, sentAt: sentAtOf(f.body) ?? -1 };
    const policy = opts.sendPolicy?.(sent, sends.length) ?? 'store';
    sends.push(sent);
    if (policy !== 'store') {
      reply({ type: 'error', code: policy.refuse, message: 'refused', ref: f.clientMsgId });
      return;
    }
    const message = { id: `m_${sends.length}`, roomId: f.roomId, senderId: user.id, body: f.body };
    reply({ type: 'ack', clientMsgId: f.clientMsgId, roomId: f.roomId, id: message.id });
    // To every socket of the room, the sender's own included: the script must skip its own.
    for (const s of sockets) if (room.has(s.user?.id ?? '')) s.push({ type: 'message', message });
  }

  /** k6/websockets' WebSocket, on the fake gateway (events on Node's timers). */
  class FakeWebSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readyState = 0;
    user: FakeUser | undefined;
    private readonly listeners = new Map<string, Listener[]>();

    constructor(url: string) {
      const u = new URL(url);
      const index = socketCount++;
      this.user = byToken.get(u.searchParams.get('token') ?? '');
      const policy = opts.socketPolicy?.(index) ?? 'accept';
      sockets.add(this);
      const user = this.user;
      if (
        u.origin !== 'ws://127.0.0.1:8080' ||
        u.pathname !== '/ws' ||
        !user ||
        policy === 'refuse'
      ) {
        setTimeout(() => this.serverClose('error'), 1);
        return;
      }
      const held = (socketsOfUser.get(user.id) ?? 0) + 1;
      socketsOfUser.set(user.id, held);
      maxSocketsPerUser = Math.max(maxSocketsPerUser, held);
      setTimeout(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        this.emit('open', {});
        this.push({ type: 'ready', userId: user.id, sessionId: `s${index}` });
        if (typeof policy === 'object')
          setTimeout(() => this.serverClose('close'), policy.dropAfterMs);
      }, 1);
    }

    addEventListener(type: string, fn: Listener): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
    }

    send(data: string): void {
      if (this.readyState !== 1 || !this.user) throw new Error('send on a socket that is not open');
      onSend(this.user, data, (frame) => this.push(frame));
    }

    close(): void {
      if (this.readyState === 3) return;
      this.gone();
      setTimeout(() => this.emit('close', { code: 1000 }), 0);
    }

    /** A server-side frame, delivered a millisecond later like over a network. */
    push(frame: unknown): void {
      setTimeout(() => {
        if (this.readyState === 1) this.emit('message', { data: JSON.stringify(frame) });
      }, 1);
    }

    private serverClose(how: 'error' | 'close'): void {
      if (this.readyState === 3) return;
      this.gone();
      if (how === 'error') this.emit('error', { error: 'refused' });
      this.emit('close', { code: 1006 });
    }

    private gone(): void {
      if (this.readyState === 1 && this.user) {
        socketsOfUser.set(this.user.id, (socketsOfUser.get(this.user.id) ?? 1) - 1);
      }
      this.readyState = 3;
      sockets.delete(this);
    }

    private emit(type: string, event: unknown): void {
      for (const fn of this.listeners.get(type) ?? []) fn(event);
    }
  }

  /** k6/ws: connect() runs the socket to its end before it returns, so the fake does too. */
  const wsModule = {
    connect(url: string, _params: unknown, run: (socket: unknown) => void) {
      const user = byToken.get(new URL(url).searchParams.get('token') ?? '');
      if (!user) return { status: 401 };
      const inbox: string[] = [JSON.stringify({ type: 'ready', userId: user.id })];
      const handlers = new Map<string, (data: string) => void>();
      let closed = false;
      let timeout: (() => void) | undefined;
      run({
        on: (event: string, fn: (data: string) => void) => handlers.set(event, fn),
        send: (data: string) => onSend(user, data, (f) => inbox.push(JSON.stringify(f))),
        close: () => {
          closed = true;
        },
        setTimeout: (fn: () => void) => {
          timeout = fn;
        },
      });
      while (!closed) {
        const frame = inbox.shift();
        if (frame !== undefined) handlers.get('message')?.(frame);
        else if (timeout) {
          const fire = timeout;
          timeout = undefined;
          fire(); // nothing more came: the script's own deadline
        } else break;
      }
      return { status: 101 };
    },
  };

  // k6/timers, with the timers still to fire counted: k6 ends an iteration when its event loop is
  // empty (no timer left, every socket closed), and so does vusDone below.
  const liveTimers = new Set<ReturnType<typeof setTimeout>>();
  const timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        liveTimers.delete(t);
        fn();
      }, ms);
      liveTimers.add(t);
      return t;
    },
    clearTimeout: (t: ReturnType<typeof setTimeout>) => {
      liveTimers.delete(t);
      clearTimeout(t);
    },
  };

  const exec = { vu: { idInTest: 1 }, scenario: { startTime: Date.now() } };
  const modules: Record<string, unknown> = {
    k6: {
      sleep: (s: number) => sleeps.push(s),
      check: (v: unknown, sets: Record<string, (x: unknown) => boolean>) =>
        Object.values(sets).every((fn) => fn(v)),
    },
    'k6/http': httpModule,
    'k6/execution': exec,
    'k6/metrics': {
      Counter: class extends Metric {},
      Gauge: class extends Metric {},
      Rate: class extends Metric {},
      Trend: class extends Metric {},
    },
    'k6/timers': timers,
    'k6/websockets': { WebSocket: FakeWebSocket },
    'k6/ws': wsModule,
  };

  /** Resolves once the VUs' iterations are over: no timer of theirs left, every socket closed. */
  async function vusDone(timeoutMs = 8_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (sockets.size > 0 || liveTimers.size > 0) {
      if (Date.now() > deadline) {
        throw new Error(`VUs not done: ${sockets.size} sockets, ${liveTimers.size} timers`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 20)); // the last close events
  }

  return {
    modules,
    exec,
    metrics,
    sleeps,
    opened,
    users,
    rooms,
    memberIdsAtCreation,
    invites,
    reads,
    sends,
    invalidFrames,
    signupAttempts,
    vusDone,
    socketsOpened: () => socketCount,
    maxSocketsPerUser: () => maxSocketsPerUser,
    samples: (name: string) => metrics.get(name) ?? [],
  };
}
type World = ReturnType<typeof makeWorld>;

// ---- loading a script as k6 would ----------------------------------------------------------

const k6Modules: Plugin = {
  name: 'k6-modules',
  setup(b) {
    b.onResolve({ filter: /^k6(\/.*)?$/ }, (a) => ({ path: a.path, namespace: 'k6' }));
    b.onLoad({ filter: /.*/, namespace: 'k6' }, (a) => ({
      contents: `module.exports = __k6[${JSON.stringify(a.path)}];`,
      loader: 'js',
    }));
  },
};

const bundles = new Map<string, Promise<string>>();
function bundle(script: string): Promise<string> {
  let code = bundles.get(script);
  if (!code) {
    code = build({
      entryPoints: [join(HERE, script)],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      plugins: [k6Modules],
      logLevel: 'silent',
    }).then((r) => (r.outputFiles[0] as { text: string }).text);
    bundles.set(script, code);
  }
  return code;
}

// biome-ignore lint/suspicious/noExplicitAny: a script's exports, as loosely typed as k6 sees them
type Exports = Record<string, any>;

/**
 * A script's init context: its module code run with k6's globals (`open` reads relative to the
 * script's folder; the scenario file can be swapped) and the world's modules.
 */
async function load(script: string, world: World, scenarios: Scenarios): Promise<Exports> {
  const code = await bundle(script);
  const module = { exports: {} as Exports };
  const open = (path: string) => {
    const file = resolve(HERE, path);
    world.opened.push(file);
    return file === SCENARIOS_FILE ? JSON.stringify(scenarios) : readFileSync(file, 'utf8');
  };
  new Function('module', 'exports', '__k6', 'open', '__ENV', code)(
    module,
    module.exports,
    world.modules,
    open,
    {},
  );
  return module.exports;
}

/** Runs the script's default function as VUs 1 … vus, then waits for their sockets to close. */
async function runVus(mod: Exports, world: World, data: unknown, vus: number): Promise<void> {
  for (let vu = 1; vu <= vus; vu++) {
    world.exec.vu.idInTest = vu;
    mod.default(data);
  }
  await world.vusDone();
}

const durationS = (d: string) => {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(d);
  if (!m) throw new Error(`not a duration in seconds: ${d}`);
  return Number(m[1]);
};

/** The offered rates of a stress ramp, computed here on their own: start, +step, …, max. */
function expectedRates(s: Scenarios['stress']): number[] {
  const rates: number[] = [];
  for (let r = s.startRate; r < s.maxRate; r += s.stepRate) rates.push(r);
  return [...rates, s.maxRate];
}

// ---- the tests ------------------------------------------------------------------------------

describe('the scenario body convention (perf/scenarios/types.ts)', () => {
  it('timedBody carries its send time through sentAtOf, padded to the scenario size', () => {
    const t = 1_764_400_000_123;
    for (const chars of [1, 16, 80, 4000]) {
      const body = timedBody(t, chars);
      expect(sentAtOf(body)).toBe(t);
      expect(body.length).toBe(Math.max(chars, `t=${t};`.length));
    }
    expect(sentAtOf('hello t=5;')).toBeUndefined();
    expect(sentAtOf('t=soon;')).toBeUndefined();
    expect(sentAtOf('t=12')).toBeUndefined();
  });
});

describe.each([
  ['the scenario file', FILE_SCENARIOS],
  ['a scenario file with other numbers', perturbed()],
])('options derived from %s', (_, sc) => {
  it('chat-load: one VU per user, long enough for warm-up and run, the chat pass marks', async () => {
    const world = makeWorld();
    const { options } = await load('chat-load.ts', world, sc);
    expect(world.opened).toEqual([SCENARIOS_FILE]);
    const run = options.scenarios.chat;
    expect(run).toMatchObject({ executor: 'per-vu-iterations', vus: sc.chat.users, iterations: 1 });
    expect(durationS(run.maxDuration)).toBeGreaterThanOrEqual(
      sc.chat.warmupSeconds + sc.chat.durationSeconds,
    );
    expect(options.thresholds).toEqual({
      parley_send_deliver_ms: [`p(99)<${sc.chat.p99TargetMs}`],
      parley_send_failed: [`rate<${sc.chat.maxErrorRate}`],
    });
  });

  it('stress-ramp: the steps cover startRate … maxRate by stepRate, each with knee thresholds', async () => {
    const world = makeWorld();
    const mod = await load('stress-ramp.ts', world, sc);
    const rates = expectedRates(sc.stress);
    expect(mod.offeredRates(sc.stress)).toEqual(rates);
    expect(rates[0]).toBe(sc.stress.startRate);
    expect(rates.at(-1)).toBe(sc.stress.maxRate);
    const run = mod.options.scenarios.stress;
    expect(run).toMatchObject({
      executor: 'per-vu-iterations',
      vus: sc.stress.users,
      iterations: 1,
    });
    expect(durationS(run.maxDuration)).toBeGreaterThanOrEqual(rates.length * sc.stress.stepSeconds);
    const plan = mod.stressPlan(1_000);
    expect(plan.steps).toEqual(
      rates.map((rate) => ({ rate, durationMs: sc.stress.stepSeconds * 1000 })),
    );
    const thresholds = mod.options.thresholds as Record<
      string,
      { threshold: string; abortOnFail: boolean }[]
    >;
    expect(Object.keys(thresholds).sort()).toEqual(
      rates
        .flatMap((_, i) => [
          `parley_send_deliver_ms{step:${i}}`,
          `parley_step_shortfall{step:${i}}`,
        ])
        .sort(),
    );
    rates.forEach((_, i) => {
      const [p99] = thresholds[`parley_send_deliver_ms{step:${i}}`] ?? [];
      expect(p99).toMatchObject({ threshold: `p(99)<${sc.stress.kneeP99Ms}`, abortOnFail: true });
      const [short] = thresholds[`parley_step_shortfall{step:${i}}`] ?? [];
      expect(short?.abortOnFail).toBe(true);
      const m = /^avg<=([\d.]+)$/.exec(short?.threshold ?? '');
      expect(Number(m?.[1])).toBeCloseTo(1 - sc.stress.kneeAchievedRatio, 9);
    });
  });

  it('connection-soak: enough VUs for every socket, held past connecting, the soak pass mark', async () => {
    const world = makeWorld();
    const { options } = await load('connection-soak.ts', world, sc);
    const run = options.scenarios.soak;
    expect(run).toMatchObject({ executor: 'per-vu-iterations', iterations: 1 });
    expect(durationS(run.maxDuration)).toBeGreaterThanOrEqual(
      sc.soak.sockets / sc.soak.connectPerSecond + sc.soak.holdSeconds,
    );
    expect(options.thresholds).toEqual({
      parley_soak_socket_failed: [`rate<=${sc.soak.maxErrorRate}`],
    });
  });

  it('http-mix: the scenario rate for its duration (open loop), its error pass mark', async () => {
    const world = makeWorld();
    const { options } = await load('http-mix.ts', world, sc);
    expect(options.scenarios.httpMix).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: sc.httpMix.ratePerSecond,
      timeUnit: '1s',
    });
    expect(durationS(options.scenarios.httpMix.duration)).toBe(sc.httpMix.durationSeconds);
    expect(options.thresholds['http_req_failed{scenario:httpMix}']).toEqual([
      `rate<${sc.httpMix.maxErrorRate}`,
    ]);
  });
});

describe('setup against a fake gateway', () => {
  it('signs users up (waiting out 429s), puts each in one room, names ≤ 100 at creation', async () => {
    const sc = structuredClone(FILE_SCENARIOS);
    sc.chat = { ...sc.chat, users: 250, rooms: 2 };
    // Every 7th sign-up is refused once, as an over-budget target would.
    const world = makeWorld({
      signupPolicy: (name, attempt) =>
        attempt === 1 && Number(name.split('_').at(-1)) % 7 === 0
          ? { status: 429, body: '{}', headers: { 'Retry-After': '1' }, error: '' }
          : undefined,
    });
    const mod = await load('chat-load.ts', world, sc);
    const data = mod.setup() as { members: { userId: string; roomId: string; token: string }[] };
    expect(world.users.size).toBe(250);
    expect(world.sleeps.length).toBeGreaterThan(0);
    expect(data.members).toHaveLength(250);
    expect(new Set(data.members.map((m) => m.userId)).size).toBe(250);
    expect([...world.rooms.values()].map((r) => r.size)).toEqual([125, 125]);
    // Creator + 100 named at creation; the other 24 of each room invited by a member.
    expect(world.memberIdsAtCreation).toEqual([100, 100]);
    expect(world.invites).toHaveLength(48);
    for (const inv of world.invites) expect(world.rooms.get(inv.roomId)?.has(inv.by)).toBe(true);
    for (const m of data.members) {
      const inRooms = [...world.rooms.entries()].filter(([, r]) => r.has(m.userId));
      expect(inRooms.map(([id]) => id)).toEqual([m.roomId]);
    }
  });

  it('fails at once, naming the limits, when the target asks to wait for an hour', async () => {
    const world = makeWorld({
      signupPolicy: () => ({
        status: 429,
        body: '{"error":{"code":"rate_limited"}}',
        headers: { 'Retry-After': '3600' },
        error: '',
      }),
    });
    const mod = await load('chat-load.ts', world, FILE_SCENARIOS);
    expect(() => mod.setup()).toThrow(/raise the target's limits/);
    expect(world.sleeps).toEqual([]);
  });
});

describe('the VUs against a fake gateway', () => {
  it('chat-load sends its schedule exactly and records latency for every other member', async () => {
    const sc = structuredClone(FILE_SCENARIOS);
    // 6 users in 2 rooms, 40 msg/s for 0.25 s warm-up + 0.5 s: 30 sends, 5 per user.
    sc.chat = { ...sc.chat, users: 6, rooms: 2, ratePerSecond: 40, bodyChars: 40 };
    sc.chat = { ...sc.chat, warmupSeconds: 0.25, durationSeconds: 0.5 };
    const world = makeWorld({
      sendPolicy: (_, i) => (i % 4 === 3 ? { refuse: 'rate_limited' } : 'store'),
    });
    const mod = await load('chat-load.ts', world, sc);
    const data = mod.setup();
    // The scenario starts a moment from now, so every socket is ready before the first send.
    const t0 = Date.now() + 400;
    world.exec.scenario.startTime = t0;
    await runVus(mod, world, data, sc.chat.users);

    expect(world.invalidFrames).toEqual([]);
    expect(world.sends).toHaveLength(30);
    const perUser = new Map<string, number>();
    for (const s of world.sends) perUser.set(s.userId, (perUser.get(s.userId) ?? 0) + 1);
    expect([...perUser.values()]).toEqual([5, 5, 5, 5, 5, 5]);
    for (const s of world.sends) {
      expect(s.body).toHaveLength(sc.chat.bodyChars);
      expect(world.rooms.get(s.roomId)?.has(s.userId)).toBe(true);
    }
    expect(new Set(world.sends.map((s) => `${s.userId}/${s.clientMsgId}`)).size).toBe(30);

    const refusedAt = new Set([3, 7, 11, 15, 19, 23, 27]);
    const measured = world.sends
      .map((s, i) => ({ ...s, refused: refusedAt.has(i) }))
      .filter((s) => s.sentAt - t0 >= sc.chat.warmupSeconds * 1000);
    const stored = measured.filter((s) => !s.refused);
    // Each stored message reaches the 2 other members of its 3-member room; never its sender.
    expect(world.samples('parley_send_deliver_ms')).toHaveLength(2 * stored.length);
    for (const x of world.samples('parley_send_deliver_ms'))
      expect(x.value).toBeGreaterThanOrEqual(0);
    expect(world.samples('parley_send_ack_ms')).toHaveLength(stored.length);
    const failed = world.samples('parley_send_failed');
    expect(failed.filter((x) => x.value === 1)).toHaveLength(measured.length - stored.length);
    expect(failed.filter((x) => x.value === 0)).toHaveLength(stored.length);
    expect(world.samples('parley_error_frames').map((x) => x.tags?.code)).toEqual(
      Array(7).fill('rate_limited'),
    );
    expect(world.samples('parley_ws_failures')).toEqual([]);
  });

  it("stress-ramp: a step the gateway refuses shows as that step's shortfall, with no latency", async () => {
    const sc = structuredClone(FILE_SCENARIOS);
    sc.stress = { ...sc.stress, users: 4, rooms: 2, startRate: 40, stepRate: 40, maxRate: 100 };
    sc.stress = { ...sc.stress, stepSeconds: 0.25, bodyChars: 30 };
    let stepsStart = Number.POSITIVE_INFINITY;
    // The third step (from 500 ms on, by the send time in the body) is refused.
    const world = makeWorld({
      sendPolicy: (f) => (f.sentAt - stepsStart >= 500 ? { refuse: 'unavailable' } : 'store'),
    });
    const mod = await load('stress-ramp.ts', world, sc);
    const data = mod.setup();
    const start = Date.now() + 400;
    const lead = mod.stressPlan(0).t0;
    world.exec.scenario.startTime = start - lead;
    stepsStart = start;
    await runVus(mod, world, data, sc.stress.users);

    expect(world.sends).toHaveLength(55);
    const refused = world.sends.filter((s) => s.sentAt - start >= 500);
    expect(refused.length).toBeGreaterThan(0);
    // Latency only for what was stored, each tagged with the step it was sent in (2-member rooms).
    const deliver = world.samples('parley_send_deliver_ms');
    expect(deliver).toHaveLength(55 - refused.length);
    expect(new Set(deliver.map((x) => x.tags?.step))).toEqual(new Set(['0', '1']));
    // The refused step acknowledged nothing it offered, apart from acks of late sends before it.
    const avg = (step: string) => {
      const xs = world.samples('parley_step_shortfall').filter((x) => x.tags?.step === step);
      expect(xs).toHaveLength(4);
      return xs.reduce((a, x) => a + x.value, 0) / xs.length;
    };
    expect(avg('2')).toBeGreaterThan(0.5);
    expect(avg('0')).toBeLessThan(0.5);
  });

  it('connection-soak opens every socket once, at most 20 per user, and counts what failed', async () => {
    const sc = structuredClone(FILE_SCENARIOS);
    sc.soak = { ...sc.soak, sockets: 250, connectPerSecond: 2500, holdSeconds: 0.3 };
    // Socket 7 is refused at the handshake; socket 11 is dropped 20 ms after `ready`.
    const world = makeWorld({
      socketPolicy: (i) => (i === 7 ? 'refuse' : i === 11 ? { dropAfterMs: 20 } : 'accept'),
    });
    const mod = await load('connection-soak.ts', world, sc);
    const data = mod.setup();
    expect(world.users.size).toBe(Math.ceil(250 / 20));
    world.exec.scenario.startTime = Date.now();
    await runVus(mod, world, data, mod.options.scenarios.soak.vus);

    expect(world.socketsOpened()).toBe(250);
    expect(world.maxSocketsPerUser()).toBeLessThanOrEqual(20);
    expect(world.samples('parley_soak_handshake_failures')).toHaveLength(1);
    expect(world.samples('parley_soak_drops')).toHaveLength(1);
    expect(world.samples('parley_soak_ready_ms')).toHaveLength(249);
    const failed = world.samples('parley_soak_socket_failed');
    expect(failed).toHaveLength(250);
    expect(failed.filter((x) => x.value === 1)).toHaveLength(2);
  });

  it('http-mix seeds searchable messages with mentions, then reads by the weights', async () => {
    const sc = structuredClone(FILE_SCENARIOS);
    sc.httpMix = { ...sc.httpMix, users: 6, rooms: 2, seedMessages: 10 };
    const world = makeWorld();
    const mod = await load('http-mix.ts', world, sc);
    const data = mod.setup() as { members: { userId: string; username: string; roomId: string }[] };

    expect(world.invalidFrames).toEqual([]);
    expect(world.sends).toHaveLength(10);
    const words: readonly string[] = mod.SEARCH_WORDS;
    for (const s of world.sends) expect(words.some((w) => s.body.includes(w))).toBe(true);
    const mentions = world.sends.filter((s) => /@\S+/.test(s.body));
    expect(mentions.length).toBeGreaterThan(0);
    for (const s of mentions) {
      const name = /@(\S+)/.exec(s.body)?.[1];
      const mate = data.members.find((m) => m.username === name);
      expect(mate?.roomId).toBe(s.roomId);
      expect(mate?.userId).not.toBe(s.userId);
    }

    // The weights: each kind takes its share of [0, 1).
    const w = sc.httpMix.weights;
    const total = w.rooms + w.history + w.search + w.notifications;
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) {
      const k = mod.kindFor(w, (i + 0.5) / 1000);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const k of Object.keys(w) as (keyof typeof w)[]) {
      expect(counts[k] ?? 0).toBeCloseTo((1000 * w[k]) / total, -1);
    }

    for (let i = 0; i < 200; i++) mod.default(data);
    expect(world.reads).toHaveLength(200);
    const seen = new Set<string>();
    for (const r of world.reads) {
      const me = data.members.find(
        (m) => r.headers.authorization === `Bearer ${tokenOf(world, m.userId)}`,
      );
      expect(me).toBeDefined();
      const u = new URL(r.url);
      const kind = r.tags.kind as string;
      seen.add(kind);
      const expected = {
        rooms: '/api/v1/rooms',
        history: `/api/v1/rooms/${me?.roomId}/messages`,
        search: '/api/v1/search',
        notifications: '/api/v1/notifications',
      }[kind];
      expect(u.pathname).toBe(expected);
      if (kind === 'history') expect(u.searchParams.get('limit')).toBe('50');
      if (kind === 'search') expect(words).toContain(u.searchParams.get('q'));
    }
    expect(seen).toEqual(new Set(Object.keys(w)));
  });
});

function tokenOf(world: World, userId: string): string | undefined {
  return world.users.get(userId)?.token;
}

describe('type-checking', () => {
  it('tsc -p perf/k6/tsconfig.json passes (k6 types only, no Node or DOM)', async () => {
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const run = promisify(execFile)(process.execPath, [tsc, '-p', 'perf/k6/tsconfig.json'], {
      cwd: REPO,
    });
    await expect(run).resolves.toMatchObject({ stdout: '' });
  }, 120_000);
});
