/**
 * The behaviour every MessageSearchIndex must have, run against the memory
 * adapter (unit) and a real Elasticsearch (real): Korean partial words,
 * English stemming, room filtering, versioning (no resurrection), tombstones,
 * both sorts with search_after, highlights and bulk writes.
 */
import type { Message } from '@parley/protocol';
import { newId } from '@parley/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageSearchIndex, SearchRequest, SearchSort } from './search-index';

export interface SearchIndexFixture {
  index: MessageSearchIndex;
  teardown?: () => Promise<void>;
}

let clock = 1_750_000_000_000;
/** A message with a fresh id and a strictly later ts than the previous one. */
export function msg(roomId: string, body: string, over: Partial<Message> = {}): Message {
  clock += 1000;
  return {
    id: newId('m'),
    roomId,
    seq: 1,
    senderId: 'u_alice',
    body,
    ts: clock,
    clientMsgId: newId('c'),
    ...over,
  };
}

export function describeSearchIndexContract(
  name: string,
  make: () => Promise<SearchIndexFixture>,
): void {
  describe(`MessageSearchIndex contract: ${name}`, () => {
    let fx: SearchIndexFixture;
    let index: MessageSearchIndex;
    beforeAll(async () => {
      fx = await make();
      index = fx.index;
      await index.ensureIndex();
      await index.ensureIndex(); // idempotent
    });
    afterAll(async () => {
      await fx.teardown?.();
    });

    const put = async (...messages: Message[]) => {
      const results = await index.apply(messages);
      await index.refresh();
      return results;
    };
    const find = async (
      roomIds: string[],
      text: string,
      over: Partial<SearchRequest> = {},
    ): Promise<Message[]> =>
      (await index.search({ text, roomIds, sort: 'recent', limit: 50, ...over })).map(
        (h) => h.message,
      );
    const bodies = async (roomIds: string[], text: string) =>
      (await find(roomIds, text)).map((m) => m.body);

    it('finds a Korean word from part of it, and not from a different word', async () => {
      const room = newId('r');
      await put(
        msg(room, '회의는 3시에 시작합니다'),
        msg(room, '오늘 회식 장소는 강남역'),
        msg(room, '데이터베이스 마이그레이션 완료'),
      );
      expect(await bodies([room], '회의')).toEqual(['회의는 3시에 시작합니다']);
      expect(await bodies([room], '회의는')).toEqual(['회의는 3시에 시작합니다']);
      expect(await bodies([room], '시작')).toEqual(['회의는 3시에 시작합니다']);
      expect(await bodies([room], '마이그레이션')).toEqual(['데이터베이스 마이그레이션 완료']);
      expect(await bodies([room], '베이스')).toEqual(['데이터베이스 마이그레이션 완료']);
      expect(await bodies([room], '회의실')).toEqual([]);
      // One syllable finds every word that holds it.
      expect((await bodies([room], '회')).sort()).toEqual(
        ['오늘 회식 장소는 강남역', '회의는 3시에 시작합니다'].sort(),
      );
    });

    it('stems English and ignores case and possessives', async () => {
      const room = newId('r');
      await put(
        msg(room, 'We had three Meetings yesterday'),
        msg(room, "Anna's deploy finished"),
        msg(room, 'The release was deployed'),
      );
      expect(await bodies([room], 'meeting')).toEqual(['We had three Meetings yesterday']);
      expect(await bodies([room], 'MEET')).toEqual(['We had three Meetings yesterday']);
      expect(await bodies([room], 'anna')).toEqual(["Anna's deploy finished"]);
      expect(await bodies([room], 'deploying')).toEqual([
        'The release was deployed',
        "Anna's deploy finished",
      ]);
      expect(await bodies([room], 'meetup')).toEqual([]);
    });

    it('needs every word of the query, across scripts', async () => {
      const room = newId('r');
      await put(msg(room, 'API 키를 발급했어요'), msg(room, 'API docs are up'));
      expect(await bodies([room], 'api 키')).toEqual(['API 키를 발급했어요']);
      expect((await bodies([room], 'api')).length).toBe(2);
      expect(await bodies([room], 'api 회의')).toEqual([]);
    });

    it('splits Hangul from digits and Latin letters written against it', async () => {
      const room = newId('r');
      await put(msg(room, 'API키를 3시에 발급했어요'), msg(room, '東京タワーで会議'));
      expect(await bodies([room], '키를')).toEqual(['API키를 3시에 발급했어요']);
      expect(await bodies([room], 'api')).toEqual(['API키를 3시에 발급했어요']);
      expect(await bodies([room], '3시')).toEqual(['API키를 3시에 발급했어요']);
      expect(await bodies([room], '시에')).toEqual(['API키를 3시에 발급했어요']);
      expect(await bodies([room], 'タワー')).toEqual(['東京タワーで会議']);
      expect(await bodies([room], '会議')).toEqual(['東京タワーで会議']);
    });

    it('returns only messages of the rooms asked for', async () => {
      const mine = newId('r');
      const other = newId('r');
      await put(msg(mine, 'quarterly roadmap draft'), msg(other, 'quarterly roadmap secret'));
      expect(await bodies([mine], 'roadmap')).toEqual(['quarterly roadmap draft']);
      expect(await bodies([other], 'roadmap')).toEqual(['quarterly roadmap secret']);
      expect((await bodies([mine, other], 'roadmap')).length).toBe(2);
      expect(await bodies([newId('r')], 'roadmap')).toEqual([]);
      expect(
        await index.search({ text: 'roadmap', roomIds: [], sort: 'recent', limit: 5 }),
      ).toEqual([]);
    });

    it('applies an edit, and never lets an older or replayed version bring old text back', async () => {
      const room = newId('r');
      const created = msg(room, 'lunch at noon tomorrow');
      const edited = { ...created, body: 'dinner at seven tomorrow', editedTs: created.ts + 5000 };
      expect(await put(created)).toEqual([{ outcome: 'applied' }]);
      expect(await put(edited)).toEqual([{ outcome: 'applied' }]);
      expect(await put(created)).toEqual([{ outcome: 'stale' }]); // replayed create
      expect(await put(edited)).toEqual([{ outcome: 'stale' }]); // replayed edit
      expect(await bodies([room], 'lunch')).toEqual([]);
      const [hit] = await find([room], 'dinner');
      expect(hit).toEqual(edited);
    });

    it('keeps the newest version when events arrive out of order', async () => {
      const room = newId('r');
      const created = msg(room, 'first draft wording');
      const edit1 = { ...created, body: 'second draft wording', editedTs: created.ts + 1 };
      const edit2 = { ...created, body: 'final wording', editedTs: created.ts + 2 };
      expect(await put(edit2, created, edit1)).toEqual([
        { outcome: 'applied' },
        { outcome: 'stale' },
        { outcome: 'stale' },
      ]);
      expect(await bodies([room], 'wording')).toEqual(['final wording']);
      expect(await bodies([room], 'draft')).toEqual([]);
    });

    it('never returns a deleted message, even when its create is replayed afterwards', async () => {
      const room = newId('r');
      const created = msg(room, 'password is hunter2');
      const deleted = { ...created, body: '', deleted: true, editedTs: created.ts + 10 };
      await put(created);
      expect(await bodies([room], 'hunter2')).toEqual(['password is hunter2']);
      expect(await put(deleted)).toEqual([{ outcome: 'applied' }]);
      expect(await put(created)).toEqual([{ outcome: 'stale' }]);
      expect(await bodies([room], 'hunter2')).toEqual([]);
      expect(await bodies([room], 'password')).toEqual([]);
    });

    const pageThrough = async (roomIds: string[], text: string, sort: SearchSort, size: number) => {
      const seen: Message[] = [];
      let after: SearchRequest['after'];
      for (let i = 0; i < 20; i++) {
        const hits = await index.search({
          text,
          roomIds,
          sort,
          limit: size,
          ...(after ? { after } : {}),
        });
        seen.push(...hits.map((h) => h.message));
        if (hits.length < size) break;
        after = hits.at(-1)?.sort;
      }
      return seen;
    };

    it('sorts newest first and pages with search_after without gaps or repeats', async () => {
      const room = newId('r');
      const all = Array.from({ length: 7 }, (_, i) =>
        msg(room, `standup notes ${i}`, { seq: i + 1 }),
      );
      await put(...all);
      const seen = await pageThrough([room], 'standup', 'recent', 3);
      expect(seen.map((m) => m.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    });

    it('sorts by relevance and pages through every hit exactly once', async () => {
      const room = newId('r');
      const strong = msg(room, 'budget budget budget');
      const weak = msg(room, 'we should talk about the budget for the offsite in march');
      const others = Array.from({ length: 4 }, (_, i) => msg(room, `budget item ${i} approved`));
      await put(weak, strong, ...others);
      const hits = await index.search({
        text: 'budget',
        roomIds: [room],
        sort: 'relevance',
        limit: 10,
      });
      expect(hits[0]?.message.id).toBe(strong.id);
      expect(hits.at(-1)?.message.id).toBe(weak.id);
      const seen = await pageThrough([room], 'budget', 'relevance', 2);
      expect(seen.map((m) => m.id).sort()).toEqual(
        [strong, weak, ...others].map((m) => m.id).sort(),
      );
    });

    it('marks what matched in the highlight, as text segments', async () => {
      const room = newId('r');
      await put(msg(room, '회의는 취소'), msg(room, 'Three meetings moved'));
      const [ko] = await index.search({ text: '회의', roomIds: [room], sort: 'recent', limit: 5 });
      expect(ko?.highlight).toEqual([
        { text: '회의', match: true },
        { text: '는 취소', match: false },
      ]);
      const [en] = await index.search({
        text: 'meeting',
        roomIds: [room],
        sort: 'recent',
        limit: 5,
      });
      expect(en?.highlight).toEqual([
        { text: 'Three ', match: false },
        { text: 'meetings', match: true },
        { text: ' moved', match: false },
      ]);
    });

    it('cuts a long body to a fragment around the match', async () => {
      const room = newId('r');
      const body = `${'lorem ipsum dolor sit amet '.repeat(20)}the zebra crossing ${'consectetur adipiscing '.repeat(20)}`;
      await put(msg(room, body));
      const [hit] = await index.search({
        text: 'zebra',
        roomIds: [room],
        sort: 'recent',
        limit: 1,
      });
      const text = hit?.highlight.map((s) => s.text).join('') ?? '';
      expect(text.length).toBeLessThanOrEqual(160);
      expect(body).toContain(text);
      expect(hit?.highlight.filter((s) => s.match).map((s) => s.text)).toEqual(['zebra']);
      expect(hit?.message.body).toBe(body);
    });

    it('writes a bulk of many messages in one call', async () => {
      const room = newId('r');
      const many = Array.from({ length: 400 }, (_, i) =>
        msg(room, `bulk message ${i} ${i % 2 ? '홀수' : '짝수'}`, { seq: i + 1 }),
      );
      const results = await put(...many);
      expect(results.every((r) => r.outcome === 'applied')).toBe(true);
      expect((await pageThrough([room], '홀수', 'recent', 100)).length).toBe(200);
      const repeated = await put(...many.slice(0, 10));
      expect(repeated.every((r) => r.outcome === 'stale')).toBe(true);
    });
  });
}
