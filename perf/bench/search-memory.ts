/**
 * The embedded mode's search index (MemorySearchIndex) in this process, no
 * stack: what one query costs and how long it holds the event loop, over a
 * chat-like corpus of Korean and English messages. In `npm start` the index,
 * the gateway and every WebSocket share one Node event loop, so a query's
 * synchronous work is a stall for every connection.
 *
 * 1. Corpus: CORPUS messages (each size of --corpus) over 100 rooms. Words
 *    follow a Zipf law over a vocabulary of the benchmark words of
 *    bench:search (회의는, 배포, meeting, …) and 3,000 generated Korean words
 *    (2–4 common syllables, a particle or ending on half of them) and 1,500
 *    generated Latin words; 3–25 words a message, 1 in 20 a long one
 *    (60–150 words). Deterministic (seeded), so runs compare.
 * 2. Indexing: written in bulks of 500 (message-index's largest bulk).
 *    Heap (and memory outside it: typed arrays) after a forced GC, before
 *    and after: what the index holds.
 * 3. Queries: ROUNDS rounds over a fixed mix (one syllable, bigrams, English
 *    stems, two words, a sentence, a word in no message), both sorts, the
 *    21 hits search asks for, then the second page (search_after); for a
 *    searcher in all 100 rooms and in 5 of them. One query per event-loop
 *    turn (setImmediate between queries), so the event-loop delay histogram
 *    (perf_hooks.monitorEventLoopDelay, 1 ms resolution) measures how long
 *    one query holds the loop.
 *
 * 4. Long bodies: 200 messages of 4,000 characters of Korean in one room,
 *    the same query in both sorts: pages whose bodies are as long as a
 *    message can be (what highlighting costs).
 *
 * Usage: npm run bench:search-memory -- [--corpus 2000,20000] [--rounds 20] [--label before] [--module /path/to/search-index.memory.ts]
 * Writes a markdown record to perf/results/.
 */

import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { REPO_ROOT } from '@parley/launcher/infra';
import type { Message } from '@parley/protocol';
import type { SearchRequest, SearchSort } from '@parley/search-index';
import type { MemorySearchIndex as MemoryIndexClass } from '@parley/search-index/memory';
import * as hdr from 'hdr-histogram-js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: '2000,20000' },
    rounds: { type: 'string', default: '20' },
    label: { type: 'string', default: '' },
    module: { type: 'string', default: '@parley/search-index/memory' },
  },
});
// Another build of the index (a file path) for an A/B in one session, e.g. the previous version.
const { MemorySearchIndex } = (await import(values.module)) as {
  MemorySearchIndex: typeof MemoryIndexClass;
};
const CORPORA = values.corpus.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const LABEL = values.label;
const ROOMS = 100;
const BULK = 500;
const LIMIT = 21; // search asks for one more than the default page of 20

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// ── corpus ──────────────────────────────────────────────────────────────────

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

// The words of bench:search, so the same queries find something.
const KO_COMMON = [
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
const EN_COMMON = [
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
const SYLLABLES = [
  ...'가각간갈감강개거건검게격결경고공과관광교구국군권귀규그근금기길김나남내너녀노누눈느는니다단담당대더덕도독동두드득들등디라락란람랑래러레려력련령로록론료루류르를리마막만말망매머메면명모목무문물미민바박반발방배백버번범법변별병보복본부북분불비사산살상새서석선설성세소속손송수숙순술스슬습시식신실심아악안알암압앙애야약양어억언얼엄업에여역연열영예오온올완왕외요용우운울원월위유육윤은을음의이인일임입자작장재저적전절점정제조족종주준중즈지직진질집차착찬참창채처천철청체초촌총최추축춘출충취측치친칠카코크타탁탄태터테토통투트특파판패퍼편평포표품프피필하학한할함합항해행향허헌험혁현협형호혼홍화확환활황회효후훈휴흐흥희',
];
const PARTICLES = [
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '에',
  '에서',
  '으로',
  '도',
  '만',
  '하고',
  '까지',
  '요',
  '습니다',
  '했어요',
];
const LATIN = 'abcdefghijklmnopqrstuvwxyz';
const koWord = () => {
  let w = '';
  for (let i = int(2, 4); i > 0; i--) w += pick(SYLLABLES);
  return w;
};
const enWord = () => {
  let w = '';
  for (let i = int(3, 9); i > 0; i--) w += pick([...LATIN]);
  return w;
};
const VOCAB = [
  ...KO_COMMON,
  ...EN_COMMON,
  ...Array.from({ length: 3000 }, koWord),
  ...Array.from({ length: 1500 }, enWord),
];
// Zipf: P(rank r) ∝ 1/r, sampled through the cumulative weights.
const CUMULATIVE = (() => {
  let sum = 0;
  return VOCAB.map((_, r) => {
    sum += 1 / (r + 1);
    return sum;
  });
})();
const zipfWord = () => {
  const x = rand() * (CUMULATIVE.at(-1) as number);
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((CUMULATIVE[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  const w = VOCAB[lo] as string;
  return /[가-힣]$/.test(w) && rand() < 0.5 ? w + pick(PARTICLES) : w;
};
const body = () => {
  const n = rand() < 0.05 ? int(60, 150) : int(3, 25);
  return Array.from({ length: n }, zipfWord).join(' ');
};
const roomIds = Array.from({ length: ROOMS }, (_, i) => `r_bench_${i}`);

function corpus(n: number): Message[] {
  seed = 42;
  const t0 = 1_750_000_000_000;
  return Array.from({ length: n }, (_, i) => ({
    id: `m_bench_${String(i).padStart(7, '0')}`,
    roomId: pick(roomIds),
    seq: i + 1,
    senderId: 'u_bench',
    body: body(),
    ts: t0 + i * 1000,
    clientMsgId: `bench-${i}`,
  }));
}

const QUERIES = [
  '회', // one syllable: every word holding it
  '회의',
  '데이터',
  '프로젝트 일정',
  '배포 확인 요청',
  '오늘 회의록 검토 요청했어요', // a sentence: many bigrams
  'meeting',
  'deployed',
  'release notes',
  '버그 fix',
  'zebra', // in no message
];

// ── measuring ───────────────────────────────────────────────────────────────

const us = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
const ms = (v: number) => Number((v / 1000).toFixed(2));
const summary = (h: hdr.Histogram) => ({
  count: h.totalCount,
  p50: ms(h.getValueAtPercentile(50)),
  p99: ms(h.getValueAtPercentile(99)),
  max: ms(h.maxValue),
});
const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
const turn = () => new Promise<void>((r) => setImmediate(r));
const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
};

/** Garbage-collection pauses (perf_hooks 'gc' entries) from now until `stop()`. */
function watchGc() {
  const pauses: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      obs.disconnect();
      return {
        count: pauses.length,
        totalMs: Number(pauses.reduce((a, b) => a + b, 0).toFixed(1)),
        maxMs: Number(Math.max(0, ...pauses).toFixed(2)),
      };
    },
  };
}

interface Searcher {
  name: string;
  roomIds: string[];
}
const SEARCHERS: Searcher[] = [
  { name: 'all 100 rooms', roomIds },
  { name: '5 rooms', roomIds: roomIds.slice(0, 5) },
];

async function run(n: number) {
  const messages = corpus(n);
  await turn();
  const before = heap();
  // Work per search, when the index reports it (the previous version does not).
  const work = { searches: 0, maxCandidates: 0, maxMatched: 0, yields: 0 };
  const index = new MemorySearchIndex({
    onSearch: (w) => {
      work.searches++;
      work.maxCandidates = Math.max(work.maxCandidates, w.candidates);
      work.maxMatched = Math.max(work.maxMatched, w.matched);
      work.yields += w.yields;
    },
  });
  await index.ensureIndex();
  const bulk = us();
  const indexStarted = performance.now();
  for (let at = 0; at < n; at += BULK) {
    const t = performance.now();
    const results = await index.apply(messages.slice(at, at + BULK));
    bulk.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
    if (results.some((r) => r.outcome !== 'applied')) throw new Error('corpus not applied');
  }
  await index.refresh();
  const indexMs = performance.now() - indexStarted;
  const after = heap();

  const search = (s: Searcher, text: string, sort: SearchSort, after?: SearchRequest['after']) =>
    index.search({ text, roomIds: s.roomIds, sort, limit: LIMIT, ...(after ? { after } : {}) });

  const hits: Record<string, number> = {};
  for (const s of SEARCHERS) {
    for (const q of QUERIES) hits[`${s.name}: ${q}`] = (await search(s, q, 'recent')).length;
  }
  // Warm-up round, not counted.
  for (const s of SEARCHERS) {
    for (const q of QUERIES) {
      for (const sort of ['recent', 'relevance'] as const) await search(s, q, sort);
    }
  }

  const all = us();
  const allCpu = us();
  const bySort: Record<string, hdr.Histogram> = {};
  const byQuery: Record<string, hdr.Histogram> = {};
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const gcs = watchGc();
  await turn();
  loop.enable();
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of SEARCHERS) {
      for (const q of QUERIES) {
        for (const sort of ['recent', 'relevance'] as const) {
          for (const page of [1, 2] as const) {
            let cursor: SearchRequest['after'];
            if (page === 2) {
              const first = await search(s, q, sort);
              if (first.length < LIMIT) continue;
              cursor = first.at(-2)?.sort;
              await turn();
            }
            const cpu = process.cpuUsage();
            const t = performance.now();
            await search(s, q, sort, cursor);
            const took = Math.max(1, Math.round((performance.now() - t) * 1000));
            const used = process.cpuUsage(cpu);
            all.recordValue(took);
            allCpu.recordValue(Math.max(1, used.user + used.system));
            const k = `${sort} page ${page}`;
            bySort[k] ??= us();
            bySort[k].recordValue(took);
            const kq = `${s.name}: ${q}`;
            byQuery[kq] ??= us();
            byQuery[kq].recordValue(took);
            await turn();
          }
        }
      }
    }
  }
  loop.disable();
  const gcDuringQueries = gcs.stop();
  const loopDelay = {
    p50: Number((loop.percentile(50) / 1e6).toFixed(2)),
    p99: Number((loop.percentile(99) / 1e6).toFixed(2)),
    max: Number((loop.max / 1e6).toFixed(2)),
  };
  const result = {
    corpus: n,
    rooms: ROOMS,
    distinctWordsInVocabulary: VOCAB.length,
    indexing: {
      ms: Math.round(indexMs),
      msPerMessage: Number((indexMs / n).toFixed(3)),
      bulkOf500Ms: summary(bulk),
    },
    heapMiB: {
      beforeIndex: mib(before.heapUsed),
      afterIndex: mib(after.heapUsed),
      index: mib(after.heapUsed - before.heapUsed),
      externalIndex: mib(after.external - before.external),
    },
    queryMs: summary(all),
    queryCpuMs: summary(allCpu),
    queryMsBySortAndPage: Object.fromEntries(
      Object.entries(bySort).map(([k, h]) => [k, summary(h)]),
    ),
    queryMsByQuery: Object.fromEntries(
      Object.entries(byQuery).map(([k, h]) => [k, { p50: summary(h).p50, max: summary(h).max }]),
    ),
    eventLoopDelayMsDuringQueries: loopDelay,
    gcDuringQueries,
    workPerSearch: work.searches ? work : 'not reported by this index',
    hitsFirstPageRecent: hits,
  };
  // Keep the index alive until the heap was read.
  await index.close();
  return result;
}

/**
 * Pages of the longest messages: 200 messages of 4,000 characters of Korean
 * in one room, so every page of 21 hits is 84,000 characters of bodies. What
 * a query costs here beyond the corpus runs is the highlighting.
 */
async function longBodies() {
  const sentence =
    '오늘 회의는 세 시에 시작합니다. 데이터베이스 마이그레이션 결과를 공유해 주세요. ';
  const text = sentence.repeat(Math.ceil(4000 / sentence.length)).slice(0, 4000);
  const index = new MemorySearchIndex();
  const t0 = 1_750_000_000_000;
  await index.apply(
    Array.from({ length: 200 }, (_, i) => ({
      id: `m_long_${String(i).padStart(4, '0')}`,
      roomId: 'r_long',
      seq: i + 1,
      senderId: 'u_bench',
      body: text,
      ts: t0 + i * 1000,
      clientMsgId: `long-${i}`,
    })),
  );
  const req = (sort: SearchSort) => ({ text: '회의', roomIds: ['r_long'], sort, limit: LIMIT });
  await index.search(req('recent')); // warm-up
  const took = us();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  await turn();
  loop.enable();
  for (let round = 0; round < ROUNDS; round++) {
    for (const sort of ['recent', 'relevance'] as const) {
      const t = performance.now();
      await index.search(req(sort));
      took.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
      await turn();
    }
  }
  loop.disable();
  return {
    messages: 200,
    bodyChars: 4000,
    query: '회의',
    queryMs: summary(took),
    eventLoopDelayMsDuringQueries: {
      p50: Number((loop.percentile(50) / 1e6).toFixed(2)),
      max: Number((loop.max / 1e6).toFixed(2)),
    },
  };
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const results = [];
for (const n of CORPORA) {
  process.stderr.write(`corpus ${n}…\n`);
  const r = await run(n);
  process.stderr.write(
    `${n}: query p50 ${r.queryMs.p50} ms, max ${r.queryMs.max} ms; loop delay max ${r.eventLoopDelayMsDuringQueries.max} ms; index heap ${r.heapMiB.index} MiB\n`,
  );
  results.push(r);
}
process.stderr.write('pages of the longest messages…\n');
const long = await longBodies();
process.stderr.write(
  `long bodies: query p50 ${long.queryMs.p50} ms, max ${long.queryMs.max} ms; loop delay max ${long.eventLoopDelayMsDuringQueries.max} ms\n`,
);

const when = new Date().toISOString();
const cmd = `npm run bench:search-memory -- ${process.argv.slice(2).join(' ')}`.trim();
const file = join(
  REPO_ROOT,
  'perf/results',
  `${when.slice(0, 10)}-${when.slice(11, 16).replace(':', '')}-search-memory-${CORPORA.join('-')}${LABEL ? `-${LABEL}` : ''}.md`,
);
writeFileSync(
  file,
  `# Search: the embedded (in-memory) index, query cost and event-loop delay\n\n` +
    `- when: ${when}\n- command: \`${cmd}\`\n- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at the start ${load}\n` +
    `- target: MemorySearchIndex (stores/search-index/src/search-index.memory.ts) in this process, no stack; module ${values.module}${LABEL ? `; ${LABEL}` : ''}\n` +
    `- queries: ${ROUNDS} rounds × ${QUERIES.length} queries × 2 sorts × pages 1 and 2 (page 2 only when page 1 is full) × 2 searchers (all ${ROOMS} rooms, 5 rooms), limit ${LIMIT}, one query per event-loop turn; queryMs is the time of one \`search()\` call; eventLoopDelayMsDuringQueries is perf_hooks.monitorEventLoopDelay (1 ms resolution) over the query phase — its max is the longest stall a WebSocket would have seen; gcDuringQueries: the garbage-collection pauses in that phase (perf_hooks 'gc' entries)\n` +
    `- heapMiB: process heapUsed after two forced GCs, before building the index (the corpus messages already in memory) and after; index = the difference; externalIndex = the same for memory outside the V8 heap (external + arrayBuffers: typed arrays' contents)\n` +
    `- queryCpuMs: the process's CPU time (user + system, all threads) during one \`search()\` call — less sensitive than queryMs to other load on the machine; workPerSearch: the largest candidates / matched counts and the yields the index reported over every search of the run (MemorySearchIndex's onSearch)\n\n` +
    '```json\n' +
    JSON.stringify({ corpora: results, longBodies: long }, null, 2) +
    '\n```\n',
);
process.stderr.write(`recorded ${file}\n`);
