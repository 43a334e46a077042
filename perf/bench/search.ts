/**
 * Search on the real stack, through the public protocol: indexing lag
 * (message sent → found by search) at a steady message rate, and search
 * latency, both over a corpus of CORPUS messages.
 *
 * 1. Corpus: CORPUS messages (Korean + English chat-like bodies) are bulk
 *    written straight into the stack's search index, spread over 200 rooms;
 *    10 of those rooms are real rooms of the searching user, so a query
 *    filters ~5 % of the corpus by membership, as in a real deployment.
 * 2. Lag: senders post RATE messages per second for LAG_SECONDS over the
 *    WebSocket; every PROBE-th message carries the word "lagprobe", and a
 *    prober searches for that word (newest first) every 50 ms. Lag = found − the message's
 *    stored ts (same machine clock), so it includes Kafka, message-index,
 *    the bulk write and the index refresh (1 s).
 * 3. Latency: CONCURRENCY clients search in a closed loop for QUERY_SECONDS
 *    per sort order, over a fixed mix of queries; latency is measured at the
 *    client (gateway → search → rooms → Elasticsearch and back); then the same
 *    queries straight to Elasticsearch through the adapter, for the ratio.
 *
 * Usage: npm run bench:search -- [--corpus 100000] [--rate 20] [--lag-seconds 30] [--concurrency 4] [--query-seconds 15]
 * Starts the real stack on test ports and stops it after. Writes a markdown record to perf/results/.
 */

import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import { startStack } from '@parley/launcher/stack';
import type { Message, Room, SearchResponse, ServerFrame } from '@parley/protocol';
import { EsSearchIndex } from '@parley/search-index/es';
import * as hdr from 'hdr-histogram-js';
import { UNTHROTTLED_GATEWAY_ENV } from '../src/bench-env';
import { type Account, Api, WsClient } from '../src/client';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '20' },
    'lag-seconds': { type: 'string', default: '30' },
    probe: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    'query-seconds': { type: 'string', default: '15' },
  },
});
const CORPUS = Number(values.corpus);
const RATE = Number(values.rate);
const LAG_SECONDS = Number(values['lag-seconds']);
const PROBE = Number(values.probe);
const CONCURRENCY = Number(values.concurrency);
const QUERY_SECONDS = Number(values['query-seconds']);

const KO = [
  '회의는',
  '회의록',
  '일정',
  '프로젝트',
  '배포',
  '데이터베이스',
  '점심',
  '마감',
  '검토',
  '요청',
  '고객',
  '디자인',
  '버그',
  '수정',
  '내일',
  '오늘',
  '확인',
  '공유',
  '문서',
  '테스트',
];
const EN = [
  'meeting',
  'deploy',
  'release',
  'budget',
  'lunch',
  'review',
  'design',
  'bug',
  'fix',
  'customer',
  'schedule',
  'notes',
  'tomorrow',
  'today',
  'shared',
  'document',
  'testing',
  'deadline',
  'launch',
  'feedback',
];
const QUERIES = [
  '회의',
  '배포',
  '데이터',
  '프로젝트 일정',
  'meeting',
  'deployed',
  'release notes',
  'customer feedback',
  '버그 fix',
  'lunch',
];

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const body = () =>
  Array.from({ length: 5 + Math.floor(rand() * 10) }, () => pick(rand() < 0.5 ? KO : EN)).join(' ');

const us = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
const ms = (h: hdr.Histogram, p: number) => Number((h.getValueAtPercentile(p) / 1000).toFixed(1));
const summary = (h: hdr.Histogram) => ({
  count: h.totalCount,
  p50: ms(h, 50),
  p90: ms(h, 90),
  p99: ms(h, 99),
  max: Number((h.maxValue / 1000).toFixed(1)),
});

const stack = await startStack({
  gatewayPort: 18080,
  portBase: 18100,
  dbPrefix: 'parley_bench',
  env: UNTHROTTLED_GATEWAY_ENV,
  verbose: true,
});
try {
  const api = new Api(stack.gatewayUrl);
  const index = new EsSearchIndex({
    url: stack.env.ES_URL as string,
    alias: stack.env.SEARCH_INDEX_ALIAS as string,
  });
  // A clean index every run, so the corpus size is what it says.
  await index.drop();
  await index.ensureIndex();

  const searcher = await api.signup('bench_q');
  const sender = await api.signup('bench_s');
  const rooms: Room[] = [];
  for (let i = 0; i < 10; i++) {
    rooms.push(
      (
        await api.call<{ room: Room }>('POST', '/api/v1/rooms', {
          token: sender.token,
          body: { name: `search bench ${i}`, memberIds: [searcher.user.id] },
        })
      ).room,
    );
  }
  const roomIds = [
    ...rooms.map((r) => r.id),
    ...Array.from({ length: 190 }, (_, i) => `r_bench_other_${i}`),
  ];

  // 1. Corpus
  process.stderr.write(`loading ${CORPUS} messages into ${index.names.alias}…\n`);
  const loadStarted = performance.now();
  const BATCH = 2000;
  const t0 = Date.now() - CORPUS * 1000;
  for (let at = 0; at < CORPUS; at += BATCH) {
    const batch: Message[] = [];
    for (let i = at; i < Math.min(CORPUS, at + BATCH); i++) {
      batch.push({
        id: `m_bench_${i}`,
        roomId: pick(roomIds),
        seq: i + 1,
        senderId: sender.user.id,
        body: body(),
        ts: t0 + i * 1000,
        clientMsgId: `bench-${i}`,
      });
    }
    const results = await index.apply(batch);
    const failed = results.filter((r) => r.outcome !== 'applied');
    if (failed.length)
      throw new Error(
        `corpus load: ${failed.length} not applied, e.g. ${JSON.stringify(failed[0])}`,
      );
  }
  await index.refresh();
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  process.stderr.write(`loaded in ${loadSeconds.toFixed(1)} s\n`);

  const search = async (a: Account, q: string, sort = 'recent', limit = 20) => {
    const res = await fetch(
      `${stack.gatewayUrl}/api/v1/search?${new URLSearchParams({ q, sort, limit: String(limit) })}`,
      {
        headers: { authorization: `Bearer ${a.token}` },
      },
    );
    if (!res.ok) throw new Error(`search ${q}: ${res.status} ${await res.text()}`);
    return (await res.json()) as SearchResponse;
  };

  // 2. Lag at a steady rate
  process.stderr.write(`lag: ${RATE} msg/s for ${LAG_SECONDS} s, probing every ${PROBE}th…\n`);
  const ws = await WsClient.connect(api, sender.token);
  const lag = us();
  const acks = new Map<string, number>();
  ws.ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as ServerFrame;
    if (f.type === 'ack') acks.set(f.clientMsgId, f.ts);
  });
  // Every probe message carries the word "lagprobe": one search for it, newest first, every
  // 50 ms, shows which pending probes have become searchable — one search per round however
  // many are pending (a poller per probe, or one search per probe, saturated the 2 cores or
  // fell behind the probes, and measured itself).
  const pending = new Map<string, number>(); // clientMsgId → give-up time
  let probes = 0;
  let notFound = 0;
  let sending = true;
  const prober = (async () => {
    while (sending || pending.size) {
      const found = (await search(searcher, 'lagprobe', 'recent', 50)).hits;
      const now = Date.now();
      for (const h of found) {
        const ts = acks.get(h.message.clientMsgId);
        if (pending.delete(h.message.clientMsgId) && ts !== undefined) {
          lag.recordValue(Math.max(1, (now - ts) * 1000));
        }
      }
      for (const [id, deadline] of pending) {
        if (now > deadline) {
          pending.delete(id);
          notFound++;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const total = RATE * LAG_SECONDS;
  const lagStarted = performance.now();
  for (let i = 0; i < total; i++) {
    const due = lagStarted + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const clientMsgId = `lag-${i}`;
    const isProbe = i % PROBE === 0;
    ws.send({
      type: 'send',
      roomId: (rooms[i % rooms.length] as Room).id,
      clientMsgId,
      body: isProbe ? `${body()} lagprobe` : body(),
    });
    if (isProbe) {
      probes++;
      pending.set(clientMsgId, Date.now() + 60_000);
    }
  }
  sending = false;
  await prober;
  ws.close();
  // message-index's own view: created → written (before the refresh), from its histogram.
  const metrics = await (await fetch(`${stack.metricsUrls['message-index']}/metrics`)).text();
  const metric = (name: string) =>
    Number(metrics.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  const written = {
    count: metric('parley_search_index_lag_seconds_count'),
    meanMs: Number(
      (
        (metric('parley_search_index_lag_seconds_sum') /
          metric('parley_search_index_lag_seconds_count')) *
        1000
      ).toFixed(1),
    ),
    meanBulkSize: Number(
      (metric('parley_search_bulk_size_sum') / metric('parley_search_bulk_size_count')).toFixed(1),
    ),
  };

  // 3. Query latency, closed loop
  const latency: Record<string, hdr.Histogram> = {};
  const hitsPerQuery: Record<string, number> = {};
  for (const q of QUERIES) hitsPerQuery[q] = (await search(searcher, q)).hits.length;
  // 'direct' = the same queries straight to Elasticsearch (the adapter, this process): the
  // share of the latency that is the engine rather than gateway → search → rooms.
  const myRooms = rooms.map((r) => r.id);
  for (const mode of ['recent', 'relevance', 'direct'] as const) {
    process.stderr.write(`latency: ${CONCURRENCY} clients × ${QUERY_SECONDS} s, ${mode}…\n`);
    const h = us();
    const end = performance.now() + QUERY_SECONDS * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const q = QUERIES[n++ % QUERIES.length] as string;
          const started = performance.now();
          if (mode === 'direct') {
            await index.search({ text: q, roomIds: myRooms, sort: 'recent', limit: 21 });
          } else {
            await search(searcher, q, mode);
          }
          h.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
        }
      }),
    );
    latency[mode] = h;
  }

  const result = {
    corpus: CORPUS,
    corpusLoadSeconds: Number(loadSeconds.toFixed(1)),
    corpusDocsPerSecond: Math.round(CORPUS / loadSeconds),
    searcherRooms: rooms.length,
    lag: {
      ratePerSecond: RATE,
      seconds: LAG_SECONDS,
      probes,
      notFound,
      ms: summary(lag),
      messageIndex: written,
    },
    queryLatency: {
      concurrency: CONCURRENCY,
      recent: {
        qps: Math.round((latency.recent?.totalCount ?? 0) / QUERY_SECONDS),
        ms: summary(latency.recent as hdr.Histogram),
      },
      relevance: {
        qps: Math.round((latency.relevance?.totalCount ?? 0) / QUERY_SECONDS),
        ms: summary(latency.relevance as hdr.Histogram),
      },
      directToElasticsearch: {
        qps: Math.round((latency.direct?.totalCount ?? 0) / QUERY_SECONDS),
        ms: summary(latency.direct as hdr.Histogram),
      },
    },
    hitsPerQuery,
  };
  console.log(JSON.stringify(result, null, 2));
  const cmd = `npm run bench:search -- ${process.argv.slice(2).join(' ')}`.trim();
  const when = new Date().toISOString();
  const file = join(
    REPO_ROOT,
    'perf',
    'results',
    `${when.slice(0, 10)}-${when.slice(11, 16).replace(':', '')}-search-${CORPUS}-r${RATE}.md`,
  );
  writeFileSync(
    file,
    `# Search: indexing lag and query latency\n\n` +
      `- when: ${when}\n- command: \`${cmd}\`\n- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n` +
      `- target: real stack started by the benchmark (Elasticsearch 8.19.21 single node, 512 MB heap, 1 shard; Kafka 3.9.1, MariaDB ×2, Redis, every function its own process), all on this machine\n` +
      `- the client (this process) runs on the same 2 cores as everything it measures\n` +
      `- lag = a probe message's stored ts → the first search through the gateway that finds it (one search for the probes' common word, newest first, every ~50 ms; includes Kafka, the bulk write and the 1 s refresh interval). messageIndex = message-index's own histogram: created → index write acknowledged (no refresh), over every message indexed in the run\n\n` +
      '```json\n' +
      JSON.stringify(result, null, 2) +
      '\n```\n',
  );
  process.stderr.write(`recorded ${file}\n`);
  await index.close();
} finally {
  await stack.stop();
}
