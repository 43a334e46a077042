/**
 * Chat load (scenario `chat` of perf/scenarios/scenarios.json): `users` users in `rooms` rooms, one
 * WebSocket each, sending `ratePerSecond` messages all together for warmupSeconds +
 * durationSeconds; latency is send -> `message` frame at every other member of the room, measured
 * after the warm-up. Passes when p99 stays under p99TargetMs and failed sends under maxErrorRate.
 *
 *   k6 run perf/k6/chat-load.ts            (PARLEY_URL=http://host:8080; see perf/k6/README.md)
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { CHAT_METRICS, type ChatPlan, DRAIN_MS, runChatter } from './chat.ts';
import { type RoomsSetup, SETUP_TIMEOUT, scenarios, seconds, setUpRooms } from './lib.ts';

const s = scenarios.chat;

export const options: Options = {
  setupTimeout: SETUP_TIMEOUT,
  scenarios: {
    chat: {
      // One long iteration per user: its socket lives as long as the load (see chat.ts).
      executor: 'per-vu-iterations',
      vus: s.users,
      iterations: 1,
      maxDuration: seconds(s.warmupSeconds + s.durationSeconds + (2 * DRAIN_MS) / 1000),
    },
  },
  thresholds: {
    [CHAT_METRICS.sendDeliver]: [`p(99)<${s.p99TargetMs}`],
    [CHAT_METRICS.sendFailed]: [`rate<${s.maxErrorRate}`],
  },
};

/** The plan every VU follows: one step at the scenario's rate; the warm-up is sent, not measured. */
export function chatPlan(t0: number): ChatPlan {
  return {
    t0,
    steps: [{ rate: s.ratePerSecond, durationMs: (s.warmupSeconds + s.durationSeconds) * 1000 }],
    measureFromMs: s.warmupSeconds * 1000,
    senders: s.users,
    bodyChars: s.bodyChars,
    perStep: false,
  };
}

export function setup(): RoomsSetup {
  return setUpRooms(s.users, s.rooms, 'k6chat');
}

export default function (data: RoomsSetup): void {
  const slot = exec.vu.idInTest - 1;
  const me = data.members[slot];
  if (!me) throw new Error(`VU ${exec.vu.idInTest} has no user (users: ${data.members.length})`);
  runChatter(me, slot, chatPlan(exec.scenario.startTime));
}
