/**
 * One chatting user, shared by chat-load.ts (a constant rate) and stress-ramp.ts (rates stepped
 * up): a VU holds one WebSocket, sends on an open-loop schedule (at fixed times, whether or not
 * the server keeps up, so a slow server shows as latency and failures, not as a politely lower
 * rate), and measures send -> deliver from the send time each body carries (timedBody).
 *
 * Why not an arrival-rate executor: k6 starts one iteration per arrival, and a k6/websockets
 * iteration lasts as long as its socket, so an arrival per message would mean a handshake per
 * message. Instead each VU runs one long iteration and paces its own share of the rate with
 * k6/timers, against one clock every VU shares (the scenario's start time).
 */
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { sentAtOf, timedBody } from '../scenarios/types.ts';
import { type Member, wsUrl } from './lib.ts';

/** The names of the chat metrics, for the scripts' thresholds. */
export const CHAT_METRICS = {
  /** Trend: send -> `message` frame at each other member of the room (ms). */
  sendDeliver: 'parley_send_deliver_ms',
  /** Trend: send -> `ack` at the sender (ms): stored durably. */
  sendAck: 'parley_send_ack_ms',
  /** Rate: measured sends refused (error frame), never acknowledged, or not sent (no socket). */
  sendFailed: 'parley_send_failed',
  /** Trend, per step and VU: 1 - acks received in the step / sends offered in it (never < 0). */
  stepShortfall: 'parley_step_shortfall',
  sent: 'parley_sent',
  acked: 'parley_acked',
  delivered: 'parley_delivered',
  /** Counter of `error` frames, tagged with their code. */
  errorFrames: 'parley_error_frames',
  /** Counter of sockets that failed (tag `phase`: handshake, or dropped after `ready`). */
  socketFailures: 'parley_ws_failures',
  /** Trend: socket opened -> `ready` (ms). */
  ready: 'parley_ws_ready_ms',
} as const;

const sendDeliver = new Trend(CHAT_METRICS.sendDeliver, true);
const sendAck = new Trend(CHAT_METRICS.sendAck, true);
const sendFailed = new Rate(CHAT_METRICS.sendFailed);
const stepShortfall = new Trend(CHAT_METRICS.stepShortfall);
const sent = new Counter(CHAT_METRICS.sent);
const acked = new Counter(CHAT_METRICS.acked);
const delivered = new Counter(CHAT_METRICS.delivered);
const errorFrames = new Counter(CHAT_METRICS.errorFrames);
const socketFailures = new Counter(CHAT_METRICS.socketFailures);
const readyTime = new Trend(CHAT_METRICS.ready, true);

/**
 * After the plan's end, how long a VU stays connected at least (so the last messages of the others
 * reach it) and at most (waiting for its own outstanding acks, which then count as failed).
 */
export const SETTLE_MS = 1_000;
export const DRAIN_MS = 5_000;

/**
 * The time every VU of the stress ramp gets to connect before the first step starts (the chat
 * load has its scenario's warm-up for that).
 */
export const CONNECT_LEAD_MS = 5_000;

/** One stretch of constant offered load. */
export interface OfferedStep {
  /** Messages per second, all senders together. */
  rate: number;
  durationMs: number;
}

/** What every chatting VU of a run follows. */
export interface ChatPlan {
  /** The shared clock's zero (epoch ms): every VU's schedule and step boundaries count from it. */
  t0: number;
  /** The offered load, step after step from t0. */
  steps: OfferedStep[];
  /** Sends before t0 + this are warm-up: sent, but not measured. */
  measureFromMs: number;
  /** How many VUs share the rate. */
  senders: number;
  bodyChars: number;
  /** Tag latencies with their step and record each step's shortfall (the stress ramp). */
  perStep: boolean;
}

/** Where each step starts, relative to t0, and where the last one ends. */
export function stepStarts(steps: OfferedStep[]): number[] {
  const starts = [0];
  for (const s of steps) starts.push((starts[starts.length - 1] as number) + s.durationMs);
  return starts;
}

/**
 * The step an offset from t0 falls in: -1 before t0, the last step from its end on (a send the
 * client let slip past the end still belongs to the run).
 */
export function stepAt(starts: number[], offsetMs: number): number {
  if (offsetMs < 0) return -1;
  for (let i = 1; i < starts.length - 1; i++) {
    if (offsetMs < (starts[i] as number)) return i - 1;
  }
  return starts.length - 2;
}

/** One planned send: when (ms after t0) and in which step. */
export interface PlannedSend {
  atMs: number;
  step: number;
}

/**
 * The sends of sender `slot` (0 … senders - 1). In a step of rate R every sender sends every
 * senders/R seconds, sender s shifted by s/R, so together they send evenly at R: the n-th send of
 * the step (n = slot + k·senders) goes at n/R seconds into it, and a step of D seconds holds
 * exactly ceil(R·D) sends in all.
 */
export function plannedSends(
  plan: Pick<ChatPlan, 'steps' | 'senders'>,
  slot: number,
): PlannedSend[] {
  const starts = stepStarts(plan.steps);
  const out: PlannedSend[] = [];
  plan.steps.forEach((step, i) => {
    // Integer arithmetic for the boundary (n·1000 < R·D), so no send falls in or out by rounding.
    for (let n = slot; n * 1000 < step.rate * step.durationMs; n += plan.senders) {
      out.push({ atMs: (starts[i] as number) + (n * 1000) / step.rate, step: i });
    }
  });
  return out;
}

interface Frame {
  type: string;
  clientMsgId?: string;
  code?: string;
  ref?: string | number;
  message?: { senderId: string; body: string };
}

interface Pending {
  sentAt: number;
  measured: boolean;
  step: number;
}

/**
 * Runs one chatting user for the whole plan: connects, sends its share on schedule, records what
 * it receives, and closes after the plan's end (SETTLE_MS … DRAIN_MS, see there). Returns at once;
 * k6 ends the iteration when the socket is closed and no timer is left.
 */
export function runChatter(me: Member, slot: number, plan: ChatPlan): void {
  const starts = stepStarts(plan.steps);
  const sends = plannedSends(plan, slot);
  const pending = new Map<string, Pending>();
  // Per step: sends offered and acks that arrived while it ran (for the shortfall).
  const offered = plan.steps.map(() => 0);
  const acksIn = plan.steps.map(() => 0);
  const timers: ReturnType<typeof setTimeout>[] = [];
  let next = 0;
  let ready = false;
  let finished = false;
  let lingered = false;
  let sendTimer: ReturnType<typeof setTimeout> | undefined;
  const openedAt = Date.now();
  const ws = new WebSocket(wsUrl(me.token));

  // Sender and receivers judge a message by the same number, the send time its body carries.
  const isMeasured = (sentAt: number) => sentAt - plan.t0 >= plan.measureFromMs;
  const tagsOf = (step: number): Record<string, string> | undefined =>
    plan.perStep ? { step: String(step) } : undefined;

  const failed = (p: Pending) => {
    if (p.measured) sendFailed.add(true, tagsOf(p.step));
  };

  // At a step's end: the share of what this VU offered in it that was not acknowledged in it.
  const reported = plan.steps.map(() => false);
  const reportStep = (i: number) => {
    if (!plan.perStep || reported[i]) return;
    reported[i] = true;
    const o = offered[i] as number;
    if (o > 0) stepShortfall.add(Math.max(0, 1 - (acksIn[i] as number) / o), tagsOf(i));
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    if (sendTimer !== undefined) clearTimeout(sendTimer);
    for (const t of timers) clearTimeout(t);
    for (let i = 0; i < plan.steps.length; i++) reportStep(i);
    for (const p of pending.values()) failed(p);
    pending.clear();
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
  };

  const sendDue = () => {
    sendTimer = undefined;
    while (!finished && next < sends.length) {
      const due = sends[next] as PlannedSend;
      const wait = plan.t0 + due.atMs - Date.now();
      if (wait > 0) {
        sendTimer = setTimeout(sendDue, wait);
        return;
      }
      next++;
      // Late sends go out at once (the schedule is open loop: falling behind is the client's lag,
      // and catching up keeps the offered count exact).
      const now = Date.now();
      const p: Pending = { sentAt: now, measured: isMeasured(now), step: due.step };
      offered[due.step] = (offered[due.step] as number) + 1;
      if (!ready) {
        failed(p); // offered but not sent: no socket (yet, or any more)
        continue;
      }
      const clientMsgId = `k${slot}-${next}`;
      pending.set(clientMsgId, p);
      sent.add(1);
      ws.send(
        JSON.stringify({
          type: 'send',
          roomId: me.roomId,
          clientMsgId,
          body: timedBody(now, plan.bodyChars),
        }),
      );
    }
    // Every send is out. Stay until the others' last messages can have arrived (SETTLE_MS after
    // the plan's end), then close once the last ack is in, or at DRAIN_MS whatever is missing.
    if (finished) return;
    const end = plan.t0 + (starts[starts.length - 1] as number);
    timers.push(
      setTimeout(
        () => {
          lingered = true;
          if (pending.size === 0) finish();
          else timers.push(setTimeout(finish, DRAIN_MS - SETTLE_MS));
        },
        Math.max(0, end + SETTLE_MS - Date.now()),
      ),
    );
  };

  const settled = () => {
    if (lingered && pending.size === 0) finish();
  };

  ws.addEventListener('message', (event) => {
    const data = (event as { data?: unknown }).data;
    if (typeof data !== 'string') return;
    const frame = JSON.parse(data) as Frame;
    const now = Date.now();
    switch (frame.type) {
      case 'ready':
        ready = true;
        readyTime.add(now - openedAt);
        return;
      case 'ack': {
        const p = frame.clientMsgId === undefined ? undefined : pending.get(frame.clientMsgId);
        if (!p) return;
        pending.delete(frame.clientMsgId as string);
        acked.add(1);
        const window = stepAt(starts, now - plan.t0);
        if (window >= 0) acksIn[window] = (acksIn[window] as number) + 1;
        if (p.measured) {
          sendAck.add(now - p.sentAt, tagsOf(p.step));
          sendFailed.add(false, tagsOf(p.step));
        }
        settled();
        return;
      }
      case 'message': {
        const m = frame.message;
        if (!m || m.senderId === me.userId) return;
        const sentAt = sentAtOf(m.body);
        if (sentAt === undefined) return;
        delivered.add(1);
        if (isMeasured(sentAt)) {
          sendDeliver.add(now - sentAt, tagsOf(stepAt(starts, sentAt - plan.t0)));
        }
        return;
      }
      case 'error': {
        errorFrames.add(1, { code: String(frame.code) });
        const ref = frame.ref === undefined ? undefined : String(frame.ref);
        const p = ref === undefined ? undefined : pending.get(ref);
        if (p && ref !== undefined) {
          pending.delete(ref);
          failed(p);
          settled();
        }
        return;
      }
      default:
        return;
    }
  });

  let lostOnce = false;
  const lost = () => {
    if (finished || lostOnce) return;
    lostOnce = true;
    socketFailures.add(1, { phase: ready ? 'dropped' : 'handshake' });
    // Sends on the way are lost with the socket; the schedule goes on, counting what it cannot send.
    for (const p of pending.values()) failed(p);
    pending.clear();
    ready = false;
  };
  ws.addEventListener('error', lost);
  ws.addEventListener('close', lost);

  if (plan.perStep) {
    plan.steps.forEach((_, i) => {
      const at = plan.t0 + (starts[i + 1] as number);
      timers.push(setTimeout(() => reportStep(i), Math.max(0, at - Date.now())));
    });
  }
  sendDue();
}
