/**
 * Stress ramp (scenario `stress`): the chat load with the offered rate stepped from startRate to
 * maxRate by stepRate, stepSeconds each, to find the knee: the first step whose p99 send -> deliver
 * passes kneeP99Ms, or that acknowledges less than kneeAchievedRatio of what it offered. Each step
 * has its own thresholds (metrics tagged `step`), which abort the run at the knee, so the last step
 * in the summary is the knee and the ones before it the curve up to it.
 *
 *   k6 run perf/k6/stress-ramp.ts          (see perf/k6/README.md for the target's limits)
 */
import exec from 'k6/execution';
import type { Options, Threshold } from 'k6/options';
import type { StressScenario } from '../scenarios/types.ts';
import { CHAT_METRICS, type ChatPlan, CONNECT_LEAD_MS, DRAIN_MS, runChatter } from './chat.ts';
import { type RoomsSetup, SETUP_TIMEOUT, scenarios, seconds, setUpRooms } from './lib.ts';

const s = scenarios.stress;

/** The offered rates, step by step: startRate, + stepRate each step, ending exactly at maxRate. */
export function offeredRates(st: StressScenario): number[] {
  if (st.stepRate <= 0 || st.startRate <= 0 || st.maxRate < st.startRate) {
    throw new Error('stress: needs 0 < startRate <= maxRate and stepRate > 0');
  }
  const rates: number[] = [];
  for (let r = st.startRate; r < st.maxRate; r += st.stepRate) rates.push(r);
  rates.push(st.maxRate);
  return rates;
}

const rates = offeredRates(s);

/** A knee threshold: fails the step, and stops the run (after the first step has had its time). */
function knee(threshold: string): Threshold {
  return { threshold, abortOnFail: true, delayAbortEval: seconds(s.stepSeconds) };
}

// 1 - ratio, rounded so the threshold reads 0.05 and not 0.050000000000000044.
const maxShortfall = Number((1 - s.kneeAchievedRatio).toFixed(6));

export const options: Options = {
  setupTimeout: SETUP_TIMEOUT,
  scenarios: {
    stress: {
      executor: 'per-vu-iterations',
      vus: s.users,
      iterations: 1,
      maxDuration: seconds((CONNECT_LEAD_MS + 2 * DRAIN_MS) / 1000 + rates.length * s.stepSeconds),
    },
  },
  // Per step (tag `step` = its index): a sub-metric without samples yet reads 0, so the thresholds
  // of steps still to come pass until they run.
  thresholds: Object.fromEntries(
    rates.flatMap((_, i) => [
      [`${CHAT_METRICS.sendDeliver}{step:${i}}`, [knee(`p(99)<${s.kneeP99Ms}`)]],
      [`${CHAT_METRICS.stepShortfall}{step:${i}}`, [knee(`avg<=${maxShortfall}`)]],
    ]),
  ),
};

/** The plan every VU follows: the steps from CONNECT_LEAD_MS after the scenario's start. */
export function stressPlan(scenarioStart: number): ChatPlan {
  return {
    t0: scenarioStart + CONNECT_LEAD_MS,
    steps: rates.map((rate) => ({ rate, durationMs: s.stepSeconds * 1000 })),
    measureFromMs: 0,
    senders: s.users,
    bodyChars: s.bodyChars,
    perStep: true,
  };
}

export function setup(): RoomsSetup {
  return setUpRooms(s.users, s.rooms, 'k6ramp');
}

export default function (data: RoomsSetup): void {
  const slot = exec.vu.idInTest - 1;
  const me = data.members[slot];
  if (!me) throw new Error(`VU ${exec.vu.idInTest} has no user (users: ${data.members.length})`);
  runChatter(me, slot, stressPlan(exec.scenario.startTime));
}
