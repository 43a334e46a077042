import { Client } from '@elastic/elasticsearch';
import { infraEnv, runId } from '@parley/tests/support/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSearchIndexContract, msg } from './search-index.contract';
import { EsSearchIndex } from './search-index.es';
import { analyze } from './search-text';

const fresh = () =>
  // Two shards, so routing by room really spreads the rooms.
  new EsSearchIndex({
    url: infraEnv().ES_URL,
    alias: `t-messages-${runId()}`,
    layout: { shards: 2 },
  });

describeSearchIndexContract('elasticsearch', async () => {
  const index = fresh();
  return {
    index,
    teardown: async () => {
      await index.drop();
      await index.close();
    },
  };
});

describe('EsSearchIndex on Elasticsearch', () => {
  const index = fresh();
  beforeAll(() => index.ensureIndex());
  afterAll(async () => {
    await index.drop();
    await index.close();
  });

  it('rejects only the item Elasticsearch refuses; the rest of the bulk is written', async () => {
    const room = 'r_poison';
    // A negative external version makes Elasticsearch refuse the whole _bulk request.
    const poison = msg(room, 'poison pill', { ts: -5 });
    const results = await index.apply([
      msg(room, 'healthy apple'),
      poison,
      msg(room, 'healthy pear'),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'rejected', 'applied']);
    await index.refresh();
    const hits = await index.search({
      text: 'healthy',
      roomIds: [room],
      sort: 'recent',
      limit: 10,
    });
    expect(hits.map((h) => h.message.body).sort()).toEqual(['healthy apple', 'healthy pear']);
  });

  it('asks for a retry, not a rejection, when the alias is missing', async () => {
    const gone = fresh();
    const results = await gone.apply([msg('r_x', 'nowhere to go')]);
    expect(results).toEqual([{ outcome: 'retry', reason: expect.stringContaining('404') }]);
    await gone.close();
  });

  it('asks for a retry when Elasticsearch cannot be reached', async () => {
    const down = new EsSearchIndex({ url: 'http://127.0.0.1:9', requestTimeoutMs: 1000 });
    const results = await down.apply([msg('r_x', 'no server')]);
    expect(results[0]?.outcome).toBe('retry');
    await expect(
      down.search({ text: 'x', roomIds: ['r_x'], sort: 'recent', limit: 1 }),
    ).rejects.toMatchObject({ code: 'unavailable' });
    await down.close();
  });
});

describe('search-text.ts and the Elasticsearch analyzers agree', () => {
  const index = fresh();
  const client = new Client({ node: infraEnv().ES_URL });
  beforeAll(() => index.ensureIndex());
  afterAll(async () => {
    await index.drop();
    await index.close();
    await client.close();
  });

  const samples = [
    '회의는 3시에 시작합니다',
    "Anna's Meetings were RUNNING late",
    'API키를 발급했어요',
    '東京タワーで会議',
    'deployed the releases; fixes ready?',
    '오늘 점심은 김치찌개 🍲 맛있다',
    '회',
    'ship it 🚀🚀 👩‍💻 done',
    'e-mail foo@bar.com on 2026-11-25 at 10:30, v1.2.3',
  ];
  for (const [analyzer, mode] of [
    ['parley_text', 'index'],
    ['parley_text_search', 'search'],
  ] as const) {
    it(`${analyzer} = analyze(…, '${mode}')`, async () => {
      for (const text of samples) {
        const res = await client.indices.analyze({ index: index.names.index, analyzer, text });
        const es = (res.tokens ?? []).map((t) => t.token);
        expect(
          analyze(text, mode).map((t) => t.term),
          text,
        ).toEqual(es);
      }
    });
  }
});
