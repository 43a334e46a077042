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
 * Usage: npm run bench:messages -- [--senders 8] [--messages 500] [--window 10] [--url http://127.0.0.1:8080] [--tag name] [--env NAME=value …]
 * Without --url it starts the real stack itself (launcher/src/stack.ts) on test ports and stops it after,
 * and then also reports the CPU of every process per message (/proc/<pid>/stat): from the first send
 * of the measured round until every KafkaSource stand-in has committed all it was given (so the
 * asynchronous consumers, message-index and notify, are counted too).
 * Writes a markdown record to perf/results/ (`--tag` is added to its name).
 */

import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TRIGGER_SOURCES } from '@parley/eventing/deployments';
import { committedOffsets, createKafka, topicEndOffsets } from '@parley/eventing/kafka/kafka';
import { infraEnv, REPO_ROOT } from '@parley/launcher/infra';
import { type Stack, startStack } from '@parley/launcher/stack';
import type { Room, ServerFrame } from '@parley/protocol';
import { createLogger } from '@parley/runtime';
import * as hdr from 'hdr-histogram-js';
import { UNTHROTTLED_GATEWAY_ENV } from '../src/bench-env';
import { Api, WsClient } from '../src/client';
import { CpuMeter, cpuPer, infraProcesses } from '../src/proc-cpu';

const { values } = parseArgs({
  options: {
    senders: { type: 'string', default: '8' },
    messages: { type: 'string', default: '500' },
    window: { type: 'string', default: '10' },
    url: { type: 'string' },
    shared: { type: 'boolean', default: false },
    tag: { type: 'string' },
    /** `NAME=value` for the stack's stand-ins and functions (A/B of a setting in one build). */
    env: { type: 'string', multiple: true },
  },
});
const EXTRA_ENV = Object.fromEntries(
  (values.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
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

/** Records the trigger topics hold that their KafkaSource groups have not committed yet. */
async function consumerLag(): Promise<number> {
  const kafka = createKafka({
    brokers: infraEnv().KAFKA_BROKERS,
    clientId: 'bench-lag',
    log: createLogger('bench-lag', 'warn'),
  });
  let lag = 0;
  for (const s of TRIGGER_SOURCES) {
    const [end, done] = await Promise.all([
      topicEndOffsets(kafka, s.topic),
      committedOffsets(kafka, s.consumerGroup, s.topic),
    ]);
    for (const [p, high] of end)
      lag += Number(BigInt(high) - BigInt(Math.max(0, Number(done.get(p) ?? 0n))));
  }
  return lag;
}

/** Waits (at most `maxMs`) until every KafkaSource has committed what its topic holds. */
async function settle(maxMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < maxMs) {
    if ((await consumerLag()) === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return performance.now() - started;
}

/** Documents indexed and `_bulk` calls served so far by the bench stack's search index. */
async function esBulkStats(): Promise<{ docs: number; bulks: number } | undefined> {
  try {
    const res = await fetch(
      `${infraEnv().ES_URL}/parley_bench-messages/_stats/bulk,indexing?filter_path=_all.primaries`,
    );
    const p = (
      (await res.json()) as { _all: { primaries: Record<string, Record<string, number>> } }
    )._all.primaries;
    return { docs: p.indexing?.index_total ?? 0, bulks: p.bulk?.total_operations ?? 0 };
  } catch {
    return undefined;
  }
}

let stack: Stack | undefined;
let url = values.url;
if (!url) {
  stack = await startStack({
    gatewayPort: 18080,
    portBase: 18100,
    dbPrefix: 'parley_bench',
    env: { ...UNTHROTTLED_GATEWAY_ENV, ...EXTRA_ENV },
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
  if (stack) await settle(30_000);
  const meter = stack
    ? new CpuMeter([
        ...Object.entries(stack.pids()).map(([name, pid]) => ({ name, pid })),
        ...infraProcesses(),
        { name: 'bench client', pid: process.pid },
      ]).start()
    : undefined;
  const esBefore = stack ? await esBulkStats() : undefined;
  const loadBefore = loadavg()[0] ?? 0;
  process.stderr.write(`measuring ${SENDERS} senders × ${MESSAGES} messages, window ${WINDOW}…\n`);
  const { seconds, total } = await runRound(pairs, MESSAGES, WINDOW, 'run', hist);
  const settledMs = stack ? await settle(30_000) : 0;
  const cpu = meter?.read();
  const esAfter = esBefore ? await esBulkStats() : undefined;
  const docsPerBulk =
    esBefore && esAfter && esAfter.bulks > esBefore.bulks
      ? (esAfter.docs - esBefore.docs) / (esAfter.bulks - esBefore.bulks)
      : undefined;
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
    ...(cpu
      ? {
          settledAfterDeliveredMs: Math.round(settledMs),
          cpuMsPerMessage: Number((cpu.totalCpuMs / total).toFixed(2)),
          ...(docsPerBulk ? { searchDocsPerBulk: Number(docsPerBulk.toFixed(1)) } : {}),
        }
      : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  const cpuTable = cpu
    ? [
        '',
        `CPU per process, from the first send until every KafkaSource committed (${(cpu.wallMs / 1000).toFixed(1)} s wall, ${(cpu.totalCpuMs / 1000).toFixed(1)} CPU s):`,
        '',
        '| process | CPU s | ms per message |',
        '| --- | --- | --- |',
        ...cpuPer(cpu.cpuMs, total).map(
          (r) => `| ${r.name} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.perUnitMs.toFixed(2)} |`,
        ),
        `| **all** | ${(cpu.totalCpuMs / 1000).toFixed(2)} | ${(cpu.totalCpuMs / total).toFixed(2)} |`,
        '',
      ].join('\n')
    : '';
  if (cpuTable) console.log(cpuTable);
  const cmd = `npm run bench:messages -- ${process.argv.slice(2).join(' ')}`.trim();
  const when = new Date().toISOString();
  const file = join(
    REPO_ROOT,
    'perf',
    'results',
    `${when.slice(0, 10)}-message-throughput-${SENDERS}x${MESSAGES}w${WINDOW}${values.shared ? '-shared' : ''}${values.tag ? `-${values.tag}` : ''}.md`,
  );
  writeFileSync(
    file,
    `# Message throughput and send→deliver latency\n\n` +
      `- when: ${when}\n- command: \`${cmd}\`\n- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n` +
      `- target: ${stack ? 'real stack started by the benchmark (Kafka 3.9.1, MariaDB ×2, Redis, every function its own process), all on this machine' : url}\n` +
      `- the client (this process) runs on the same 2 cores as everything it measures\n` +
      `- machine load average (1 min) when the measured round started / ended: ${loadBefore.toFixed(1)} / ${(loadavg()[0] ?? 0).toFixed(1)} (other work on the machine shows here; the services under the stack are shared with it)\n\n` +
      '```json\n' +
      JSON.stringify(result, null, 2) +
      '\n```\n' +
      cpuTable,
  );
  process.stderr.write(`recorded ${file}\n`);
  for (const p of pairs) p.sender.close();
  pairs[0]?.listener.close();
} finally {
  await stack?.stop();
}
