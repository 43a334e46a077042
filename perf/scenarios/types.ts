/**
 * The shape of perf/scenarios/scenarios.json: the one file of load scenarios that the k6 scripts
 * (perf/k6, for load testers with their own k6) and the Node harness (perf/harness, run here)
 * both read. Types and two small helpers, no imports, so a k6 script can import them as they are.
 */

/** Users chatting in rooms at a set aggregate rate (open loop). */
export interface ChatScenario {
  description: string;
  users: number;
  rooms: number;
  ratePerSecond: number;
  durationSeconds: number;
  warmupSeconds: number;
  bodyChars: number;
  /** Pass mark: p99 send -> deliver of the measured messages stays under this (ms). */
  p99TargetMs: number;
  /** Pass mark: the fraction of measured sends refused, unacknowledged or not sent stays under this. */
  maxErrorRate: number;
}

export interface SoakScenario {
  description: string;
  sockets: number;
  connectPerSecond: number;
  holdSeconds: number;
  /** Pass mark: the fraction of sockets that failed their handshake or were dropped (at most). */
  maxErrorRate: number;
}

export interface HttpMixScenario {
  description: string;
  users: number;
  rooms: number;
  seedMessages: number;
  ratePerSecond: number;
  durationSeconds: number;
  weights: { rooms: number; history: number; search: number; notifications: number };
  /** Pass mark: the fraction of failed requests (non-2xx, rate limits included) stays under this. */
  maxErrorRate: number;
}

export interface StressScenario {
  description: string;
  users: number;
  rooms: number;
  startRate: number;
  stepRate: number;
  stepSeconds: number;
  maxRate: number;
  kneeP99Ms: number;
  kneeAchievedRatio: number;
  bodyChars: number;
}

export interface FanoutScenario {
  description: string;
  sockets: number;
  ratePerSecond: number;
  durationSeconds: number;
  bodyChars: number;
}

export interface HandshakeScenario {
  description: string;
  sockets: number;
  concurrency: number;
}

export interface IdleScenario {
  description: string;
  sockets: number;
  settleSeconds: number;
}

export interface Scenarios {
  chat: ChatScenario;
  soak: SoakScenario;
  httpMix: HttpMixScenario;
  stress: StressScenario;
  fanout: FanoutScenario;
  handshakes: HandshakeScenario;
  idle: IdleScenario;
}

/**
 * How a load message carries its send time, so any receiver can compute send → deliver without
 * a side channel: the body starts with `t=<epoch ms>;` and is padded to the scenario's bodyChars.
 * Only meaningful when sender and receiver read the same clock (one machine, or synced hosts).
 */
export const SENT_AT_PREFIX = 't=';

/** A load message's body: the send time, then padding up to `chars` characters. */
export function timedBody(sentAtMs: number, chars: number): string {
  const head = `${SENT_AT_PREFIX}${sentAtMs};`;
  return head.length >= chars ? head : head + 'x'.repeat(chars - head.length);
}

/** The send time a load message's body carries, or undefined for any other body. */
export function sentAtOf(body: string): number | undefined {
  if (!body.startsWith(SENT_AT_PREFIX)) return undefined;
  const end = body.indexOf(';');
  const ms = Number(body.slice(SENT_AT_PREFIX.length, end));
  return end > 0 && Number.isFinite(ms) ? ms : undefined;
}
