/**
 * Read-side HTTP mix (scenario `httpMix`): at ratePerSecond (open loop, constant-arrival-rate),
 * each request picked by the scenario's weights: the room list, a history page of the caller's
 * room, a search, the inbox — each as a random load user. setup() signs `users` users up, puts
 * them in `rooms` rooms and posts `seedMessages` messages among them (some mention a room-mate,
 * so inboxes are not empty), so every read has something to read. Passes when failed requests
 * (rate limits included) stay under maxErrorRate.
 *
 *   k6 run perf/k6/http-mix.ts             (see perf/k6/README.md for the target's limits)
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import ws from 'k6/ws';
import type { HttpMixScenario } from '../scenarios/types.ts';
import {
  baseUrl,
  type Member,
  type RoomsSetup,
  SETUP_TIMEOUT,
  scenarios,
  seconds,
  setUpRooms,
  wsUrl,
} from './lib.ts';

const s = scenarios.httpMix;

export type ReadKind = keyof HttpMixScenario['weights'];

/**
 * The request kind for a uniform draw u in [0, 1): kinds in the order of the scenario's weights,
 * each taking its weight's share of [0, 1).
 */
export function kindFor(weights: HttpMixScenario['weights'], u: number): ReadKind {
  const kinds = Object.keys(weights) as ReadKind[];
  const total = kinds.reduce((sum, k) => sum + weights[k], 0);
  let edge = 0;
  for (const k of kinds) {
    edge += weights[k] / total;
    if (u < edge) return k;
  }
  return kinds[kinds.length - 1] as ReadKind;
}

/** Words the seeded messages are made of, and that the searches look for. */
export const SEARCH_WORDS = ['meeting', 'release', 'budget', 'lunch', 'deploy', 'review'] as const;

/** How long setup waits for one user's seeded messages to be acknowledged. */
const SEED_TIMEOUT_MS = 30_000;

export const options: Options = {
  setupTimeout: SETUP_TIMEOUT,
  scenarios: {
    httpMix: {
      executor: 'constant-arrival-rate',
      rate: s.ratePerSecond,
      timeUnit: '1s',
      duration: seconds(s.durationSeconds),
      // Enough VUs for requests of ~100 ms at the rate; k6 adds more (up to one per request a
      // second) when the target is slower, rather than quietly offering less.
      preAllocatedVUs: Math.max(1, Math.ceil(s.ratePerSecond / 10)),
      maxVUs: Math.max(1, s.ratePerSecond),
    },
  },
  thresholds: {
    // Only the mix's own requests (not setup's), each kind also on its own in the summary.
    'http_req_failed{scenario:httpMix}': [`rate<${s.maxErrorRate}`],
    ...Object.fromEntries(
      (Object.keys(s.weights) as ReadKind[]).map((k) => [
        `http_req_failed{kind:${k}}`,
        [`rate<${s.maxErrorRate}`],
      ]),
    ),
  },
};

/** A seeded message: two of SEARCH_WORDS, and now and then a room-mate's @username. */
export function seedBody(n: number, mate: Member | undefined): string {
  const w = (i: number) => SEARCH_WORDS[i % SEARCH_WORDS.length] as string;
  const mention = mate && n % 2 === 0 ? ` @${mate.username}` : '';
  return `seed ${n}: the ${w(n)} after the ${w(n + 1)}${mention}`;
}

/**
 * Posts `total` messages spread over the members (each sends its share over its own WebSocket,
 * mentioning the next member of its room every other message) and waits for every ack. k6/ws,
 * not k6/websockets: its connect() blocks until the socket closes, which setup() needs.
 */
function seedMessages(members: Member[], total: number): void {
  members.forEach((m, i) => {
    const count = Math.floor(total / members.length) + (i < total % members.length ? 1 : 0);
    if (count === 0) return;
    const mates = members.filter((o) => o.roomId === m.roomId && o.userId !== m.userId);
    let acks = 0;
    let refusal = '';
    ws.connect(wsUrl(m.token), null, (socket) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(data) as { type: string; code?: string; message?: string };
        if (frame.type === 'ready') {
          for (let n = 0; n < count; n++) {
            const body = seedBody(i * count + n, mates[n % Math.max(1, mates.length)]);
            socket.send(
              JSON.stringify({ type: 'send', roomId: m.roomId, clientMsgId: `seed-${n}`, body }),
            );
          }
        } else if (frame.type === 'ack' && ++acks === count) {
          socket.close();
        } else if (frame.type === 'error') {
          refusal = `${frame.code}: ${frame.message}`;
          socket.close();
        }
      });
      socket.setTimeout(() => socket.close(), SEED_TIMEOUT_MS);
    });
    if (acks < count) {
      throw new Error(`seeding: ${m.username} got ${acks} of ${count} acks ${refusal}`);
    }
  });
}

export function setup(): RoomsSetup {
  const data = setUpRooms(s.users, s.rooms, 'k6mix');
  seedMessages(data.members, s.seedMessages);
  return data;
}

/** The URL of one read of the given kind, as the given member. */
export function readUrl(kind: ReadKind, me: Member, u: number): string {
  switch (kind) {
    case 'rooms':
      return `${baseUrl}/api/v1/rooms`;
    case 'history':
      return `${baseUrl}/api/v1/rooms/${me.roomId}/messages?limit=50`;
    case 'search': {
      const word = SEARCH_WORDS[Math.floor(u * SEARCH_WORDS.length)] ?? SEARCH_WORDS[0];
      return `${baseUrl}/api/v1/search?q=${word}`;
    }
    case 'notifications':
      return `${baseUrl}/api/v1/notifications`;
  }
}

export default function (data: RoomsSetup): void {
  const me = data.members[Math.floor(Math.random() * data.members.length)] as Member;
  const kind = kindFor(s.weights, Math.random());
  const res = http.get(readUrl(kind, me, Math.random()), {
    headers: { authorization: `Bearer ${me.token}` },
    tags: { kind },
  });
  check(res, { [`${kind}: 200`]: (r) => r.status === 200 });
}
