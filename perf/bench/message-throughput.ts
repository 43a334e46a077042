/**
 * Messages per second and send→deliver latency for concurrent senders, on
 * the real stack (or any running gateway), through the public protocol only.
 *
 * Each sender has its own room with one listening member; a sender keeps
 * WINDOW sends in flight (closed loop) until it has sent MESSAGES. Latency is
 * measured from the `send` frame leaving the sender to the `message` frame
 * arriving at the listener (same process, same clock). Throughput is acked
 * messages per second over the whole run. A warm-up round is not counted.
 *
 * Usage: npm run bench:messages -- [--senders 8] [--messages 500] [--window 10] [--url http://127.0.0.1:8080]
 * Without --url it starts the real stack itself (launcher/src/stack.ts) on test ports and stops it after.
 * Writes a markdown record to perf/results/.
 */

import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import { type Stack, startStack } from '@parley/launcher/stack';
import type { Room, ServerFrame } from '@parley/protocol';
import * as hdr from 'hdr-histogram-js';
import { UNTHROTTLED_GATEWAY_ENV } from '../src/bench-env';
import { Api, WsClient } from '../src/client';

const { values } = parseArgs({
  options: {
    senders: { type: 'string', default: '8' },
    messages: { type: 'string', default: '500' },
    window: { type: 'string', default: '10' },
    url: { type: 'string' },
    shared: { type: 'boolean', default: false },
  },
});
const SENDERS = Number(values.senders);
const MESSAGES = Number(values.messages);
const WINDOW = Number(values.window);

interface Pair {
  sender: WsClient;
  listener: WsClient;
  roomId: string;
}

async function setup(api: Api, n: number, shared: boolean): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const listenerAcc = await api.signup('bench_l');
  let sharedRoom: Room | undefined;
  for (let i = 0; i < n; i++) {
    const s = await api.signup('bench_s');
    let room: Room;
    if (shared && sharedRoom) {
      room = sharedRoom;
      await api.call('POST', `/api/v1/rooms/${room.id}/members`, {
        token: listenerAcc.token,
        body: { userId: s.user.id },
      });
    } else {
      room = (
        await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
          token: s.token,
          body: { name: `bench ${i}`, memberIds: [listenerAcc.user.id] },
        })
      ).room;
      sharedRoom ??= room;
    }
    pairs.push({
      sender: await WsClient.connect(api, s.token),
      listener: undefined as unknown as WsClient,
      roomId: room.id,
    });
  }
  const listener = await WsClient.connect(api, listenerAcc.token);
  for (const p of pairs) p.listener = listener;
  return pairs;
}

async function runRound(
  pairs: Pair[],
  messages: number,
  window: number,
  tag: string,
  hist?: hdr.Histogram,
) {
  const sentAt = new Map<string, number>();
  const listener = pairs[0]?.listener as WsClient;
  let delivered = 0;
  const total = pairs.length * messages;
  const allDelivered = new Promise<void>((resolve) => {
    listener.ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as ServerFrame;
      if (f.type !== 'message') return;
      const t0 = sentAt.get(f.message.clientMsgId);
      if (t0 === undefined) return;
      hist?.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      sentAt.delete(f.message.clientMsgId);
      if (++delivered === total) resolve();
    });
  });
  const started = performance.now();
  await Promise.all(
    pairs.map(async (p, si) => {
      let next = 0;
      let acked = 0;
      await new Promise<void>((resolve) => {
        const sendOne = () => {
          const id = `${tag}-${si}-${next++}`;
          sentAt.set(id, performance.now());
          p.sender.send({
            type: 'send',
            roomId: p.roomId,
            clientMsgId: id,
            body: `bench message ${id}`,
          });
        };
        p.sender.ws.on('message', (data) => {
          const f = JSON.parse(data.toString()) as ServerFrame;
          if (f.type === 'error') throw new Error(`refused: ${JSON.stringify(f)}`);
          if (f.type !== 'ack' || !f.clientMsgId.startsWith(`${tag}-${si}-`)) return;
          acked++;
          if (acked === messages) resolve();
          else if (next < messages) sendOne();
        });
        for (let i = 0; i < Math.min(window, messages); i++) sendOne();
      });
    }),
  );
  await allDelivered;
  const seconds = (performance.now() - started) / 1000;
  for (const p of pairs) p.sender.ws.removeAllListeners('message');
  listener.ws.removeAllListeners('message');
  return { seconds, total };
}

let stack: Stack | undefined;
let url = values.url;
if (!url) {
  stack = await startStack({
    gatewayPort: 18080,
    portBase: 18100,
    dbPrefix: 'parley_bench',
    env: UNTHROTTLED_GATEWAY_ENV,
    verbose: true,
  });
  url = stack.gatewayUrl;
}
try {
  const api = new Api(url);
  const pairs = await setup(api, SENDERS, values.shared ?? false);
  process.stderr.write(`warm-up…\n`);
  await runRound(pairs, Math.min(50, MESSAGES), WINDOW, 'warm');
  const hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  process.stderr.write(`measuring ${SENDERS} senders × ${MESSAGES} messages, window ${WINDOW}…\n`);
  const { seconds, total } = await runRound(pairs, MESSAGES, WINDOW, 'run', hist);
  const ms = (us: number) => (us / 1000).toFixed(1);
  const result = {
    senders: SENDERS,
    messagesPerSender: MESSAGES,
    window: WINDOW,
    rooms: values.shared ? 1 : SENDERS,
    total,
    seconds: Number(seconds.toFixed(2)),
    messagesPerSecond: Math.round(total / seconds),
    latencyMs: {
      p50: ms(hist.getValueAtPercentile(50)),
      p90: ms(hist.getValueAtPercentile(90)),
      p99: ms(hist.getValueAtPercentile(99)),
      max: ms(hist.maxValue),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  const cmd = `npm run bench:messages -- ${process.argv.slice(2).join(' ')}`.trim();
  const when = new Date().toISOString();
  const file = join(
    REPO_ROOT,
    'perf',
    'results',
    `${when.slice(0, 10)}-message-throughput-${SENDERS}x${MESSAGES}w${WINDOW}${values.shared ? '-shared' : ''}.md`,
  );
  writeFileSync(
    file,
    `# Message throughput and send→deliver latency\n\n` +
      `- when: ${when}\n- command: \`${cmd}\`\n- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n` +
      `- target: ${stack ? 'real stack started by the benchmark (Kafka 3.9.1, MariaDB ×2, Redis, every function its own process), all on this machine' : url}\n` +
      `- the client (this process) runs on the same 2 cores as everything it measures\n\n` +
      '```json\n' +
      JSON.stringify(result, null, 2) +
      '\n```\n',
  );
  process.stderr.write(`recorded ${file}\n`);
  for (const p of pairs) p.sender.close();
  pairs[0]?.listener.close();
} finally {
  await stack?.stop();
}
