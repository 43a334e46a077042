/**
 * Connection soak (scenario `soak`): open `sockets` idle WebSockets at connectPerSecond, hold them
 * all for holdSeconds (k6 answers the server's pings by itself), then close them. Counts handshake
 * failures (refused, or no `ready`), unexpected closes after `ready` (drops), and the time from
 * opening a socket to its `ready`. Passes when the failed share stays within maxErrorRate.
 *
 * One VU holds many sockets (k6/websockets runs them all on the VU's event loop): a VU per socket
 * would cost a JavaScript runtime per socket in k6 itself.
 *
 *   k6 run perf/k6/connection-soak.ts      (see perf/k6/README.md for the target's limits)
 */
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import {
  type Account,
  checkTarget,
  SETUP_TIMEOUT,
  scenarios,
  seconds,
  signUpMany,
  wsUrl,
} from './lib.ts';

const s = scenarios.soak;

/** Sockets one VU holds (`PARLEY_SOCKETS_PER_VU`). */
const SOCKETS_PER_VU = Number(__ENV.PARLEY_SOCKETS_PER_VU || 100);
/**
 * Sockets per load user (`PARLEY_SOCKETS_PER_USER`): the gateway's MAX_SOCKETS_PER_USER, 20 by
 * default, so the soak signs up sockets / 20 users rather than one per socket.
 */
const SOCKETS_PER_USER = Number(__ENV.PARLEY_SOCKETS_PER_USER || 20);

/** The soak's shape: how many VUs and users, and when the sockets close (ms after the start). */
export function soakPlan(sockets: number, connectPerSecond: number, holdSeconds: number) {
  const vus = Math.ceil(sockets / SOCKETS_PER_VU);
  const users = Math.ceil(sockets / SOCKETS_PER_USER);
  const connectMs = (sockets / connectPerSecond) * 1000;
  return { vus, users, connectMs, closeAtMs: connectMs + holdSeconds * 1000 };
}

const plan = soakPlan(s.sockets, s.connectPerSecond, s.holdSeconds);

export const SOAK_METRICS = {
  /** Rate, one sample per socket: it failed its handshake or was dropped. */
  failed: 'parley_soak_socket_failed',
  /** Counter: handshakes refused, or sockets closed before `ready`. */
  handshakeFailures: 'parley_soak_handshake_failures',
  /** Counter: sockets closed after `ready` while the soak held them. */
  drops: 'parley_soak_drops',
  /** Trend: socket opened -> `ready` (ms). */
  ready: 'parley_soak_ready_ms',
} as const;

const failedRate = new Rate(SOAK_METRICS.failed);
const handshakeFailures = new Counter(SOAK_METRICS.handshakeFailures);
const drops = new Counter(SOAK_METRICS.drops);
const readyTime = new Trend(SOAK_METRICS.ready, true);

export const options: Options = {
  setupTimeout: SETUP_TIMEOUT,
  scenarios: {
    soak: {
      executor: 'per-vu-iterations',
      vus: plan.vus,
      iterations: 1,
      maxDuration: seconds(plan.closeAtMs / 1000 + 30),
    },
  },
  thresholds: {
    [SOAK_METRICS.failed]: [`rate<=${s.maxErrorRate}`],
  },
};

export interface SoakSetup {
  tokens: string[];
}

export function setup(): SoakSetup {
  checkTarget();
  return { tokens: signUpMany(plan.users, 'k6soak').map((a: Account) => a.token) };
}

/** One socket of the soak: opened at `openAtMs`, closed by the soak at plan.closeAtMs. */
function holdSocket(token: string, t0: number, openAtMs: number): void {
  let ready = false;
  let failed = false;
  let closing = false;
  let openedAt = 0;
  let ws: WebSocket | undefined;

  const fail = () => {
    if (closing || failed) return;
    failed = true;
    if (ready) drops.add(1);
    else handshakeFailures.add(1);
  };

  setTimeout(
    () => {
      openedAt = Date.now();
      const socket = new WebSocket(wsUrl(token));
      ws = socket;
      socket.addEventListener('message', (event) => {
        const data = (event as { data?: unknown }).data;
        if (ready || typeof data !== 'string') return;
        if ((JSON.parse(data) as { type?: string }).type === 'ready') {
          ready = true;
          readyTime.add(Date.now() - openedAt);
        }
      });
      socket.addEventListener('error', fail);
      socket.addEventListener('close', fail);
    },
    Math.max(0, t0 + openAtMs - Date.now()),
  );

  setTimeout(
    () => {
      if (!ready) fail(); // never got `ready` while held: a handshake that did not complete
      closing = true;
      failedRate.add(failed);
      if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
        ws.close();
      }
    },
    Math.max(0, t0 + plan.closeAtMs - Date.now()),
  );
}

export default function (data: SoakSetup): void {
  const vu = exec.vu.idInTest - 1;
  const t0 = exec.scenario.startTime;
  const first = vu * SOCKETS_PER_VU;
  const last = Math.min(s.sockets, first + SOCKETS_PER_VU);
  // Socket j of the whole soak opens at j / connectPerSecond: together, connectPerSecond sockets
  // a second, and user j mod users holds it (at most SOCKETS_PER_USER sockets per user).
  for (let j = first; j < last; j++) {
    holdSocket(data.tokens[j % data.tokens.length] as string, t0, (j * 1000) / s.connectPerSecond);
  }
}
