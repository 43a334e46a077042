import type { Message } from '@parley/protocol/model';
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, type SearchHit, type SearchParams } from './api';
import {
  MessageSearch,
  type SearchRequest,
  type SearchState,
  searchErrorText,
  snippetOf,
} from './search';
import { fakeFetch, ManualClock } from './testing';

const msg = (n: number, body = `message ${n}`): Message => ({
  id: `m_${n}`,
  roomId: 'r_1',
  seq: n,
  senderId: 'u_bob',
  body,
  ts: 1_700_000_000_000 + n,
  clientMsgId: `c_${n}`,
});
const hit = (n: number): SearchHit => ({
  message: msg(n),
  highlight: [
    { text: 'message', match: true },
    { text: ` ${n}`, match: false },
  ],
});
const req = (q: string, over: Partial<SearchRequest> = {}): SearchRequest => ({
  q,
  roomId: null,
  sort: 'recent',
  ...over,
});

/** A search whose answers the test releases one by one. */
function setup() {
  const clock = new ManualClock();
  const asked: SearchParams[] = [];
  const answers: Array<{
    resolve: (v: { hits: SearchHit[]; nextCursor?: string }) => void;
    reject: (e: unknown) => void;
  }> = [];
  const states: SearchState[] = [];
  const search = new MessageSearch({
    api: {
      search: (p) => {
        asked.push(p);
        return new Promise((resolve, reject) => answers.push({ resolve, reject }));
      },
    },
    onChange: (s) => states.push(s),
    timers: clock,
  });
  const answer = async (i: number, hits: SearchHit[], nextCursor?: string) => {
    answers[i]?.resolve(nextCursor ? { hits, nextCursor } : { hits });
    await new Promise((r) => setTimeout(r, 0));
  };
  const fail = async (i: number, err: unknown) => {
    answers[i]?.reject(err);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { search, clock, asked, answer, fail, states };
}

describe('MessageSearch', () => {
  it('waits for a pause in typing, then asks once for the last text', () => {
    const t = setup();
    t.search.type(req('m'));
    t.clock.advance(100);
    t.search.type(req('me'));
    t.clock.advance(100);
    t.search.type(req('mee'));
    t.clock.advance(299);
    expect(t.asked).toEqual([]);
    t.clock.advance(1);
    expect(t.asked).toEqual([{ q: 'mee', sort: 'recent' }]);
    expect(t.search.state).toMatchObject({ loading: true, request: req('mee') });
  });

  it('Enter searches at once (again, for the same text), without waiting for the pause', () => {
    const t = setup();
    t.search.type(req('meeting'));
    t.search.submit(req('  meeting '));
    t.search.submit(req('meeting'));
    t.clock.advance(1000);
    expect(t.asked.map((p) => p.q)).toEqual(['meeting', 'meeting']);
  });

  it('sends the room and the order', () => {
    const t = setup();
    t.search.submit(req('plan', { roomId: 'r_1', sort: 'relevance' }));
    expect(t.asked).toEqual([{ q: 'plan', roomId: 'r_1', sort: 'relevance' }]);
  });

  it('an empty text clears the results and asks nothing', async () => {
    const t = setup();
    t.search.submit(req('plan'));
    await t.answer(0, [hit(1)]);
    t.search.type(req('   '));
    t.clock.advance(1000);
    expect(t.asked).toHaveLength(1);
    expect(t.search.state.request).toBeNull();
    expect(t.search.state.hits).toEqual([]);
  });

  it('shows the answer to the latest search, not a slower earlier one', async () => {
    const t = setup();
    t.search.submit(req('first'));
    t.search.submit(req('second'));
    await t.answer(1, [hit(2)]);
    await t.answer(0, [hit(1)]);
    expect(t.search.state.request?.q).toBe('second');
    expect(t.search.state.hits.map((h) => h.message.id)).toEqual(['m_2']);
    expect(t.search.state.loading).toBe(false);
  });

  it('loads more with the cursor and appends, once', async () => {
    const t = setup();
    t.search.submit(req('message'));
    await t.answer(0, [hit(3), hit(2)], 'cur_1');
    expect(t.search.state.nextCursor).toBe('cur_1');
    t.search.more();
    t.search.more();
    expect(t.asked).toHaveLength(2);
    expect(t.asked[1]).toEqual({ q: 'message', sort: 'recent', cursor: 'cur_1' });
    expect(t.search.state.loadingMore).toBe(true);
    await t.answer(1, [hit(2), hit(1)]);
    expect(t.search.state.hits.map((h) => h.message.seq)).toEqual([3, 2, 1]);
    expect(t.search.state.nextCursor).toBeNull();
    t.search.more();
    expect(t.asked).toHaveLength(2);
  });

  it('searching again keeps the objects of hits that did not change (the view keeps their elements)', async () => {
    const t = setup();
    t.search.submit(req('message'));
    await t.answer(0, [hit(2), hit(1)]);
    const [two, one] = t.search.state.hits;
    t.search.submit(req('message'));
    expect(t.search.state.hits[0]).toBe(two);
    const edited: SearchHit = { ...hit(1), message: { ...msg(1, 'message one'), editedTs: 5 } };
    await t.answer(1, [hit(3), hit(2), edited]);
    expect(t.search.state.hits[1]).toBe(two);
    expect(t.search.state.hits[2]).not.toBe(one);
    expect(t.search.state.hits[2]).toEqual(edited);
  });

  it('a page for a search that was replaced meanwhile is dropped', async () => {
    const t = setup();
    t.search.submit(req('message'));
    await t.answer(0, [hit(3)], 'cur_1');
    t.search.more();
    t.search.submit(req('other'));
    await t.answer(1, [hit(9)]);
    expect(t.search.state.request?.q).toBe('other');
    expect(t.search.state.hits).toEqual([]);
    expect(t.search.state.loading).toBe(true);
  });

  it('says why a query was refused, in words for a person', async () => {
    const t = setup();
    t.search.submit(req('?!'));
    await t.fail(0, new ApiError(400, 'bad_request', 'q has no words to search for'));
    expect(t.search.state).toMatchObject({
      loading: false,
      hits: [],
      error: 'That search can’t be run: it has no words to search for.',
    });
  });

  it('refuses a query over the length limit without asking the server', () => {
    const t = setup();
    t.search.submit(req('x'.repeat(201)));
    expect(t.asked).toEqual([]);
    expect(t.search.state.error).toBe(
      'That search can’t be run: it must be at most 200 characters.',
    );
  });

  it('a failed next page keeps the hits already shown', async () => {
    const t = setup();
    t.search.submit(req('message'));
    await t.answer(0, [hit(3)], 'cur_1');
    t.search.more();
    await t.fail(1, new ApiError(0, 'unavailable', 'Cannot reach Parley. Check your connection.'));
    expect(t.search.state.hits).toHaveLength(1);
    expect(t.search.state.error).toBe('Cannot reach Parley. Check your connection.');
    expect(t.search.state.nextCursor).toBe('cur_1');
  });

  it('works over the real ApiClient against a fetch', async () => {
    const f = fakeFetch({
      'GET /search': () => ({ status: 200, body: { hits: [hit(1)] } }),
    });
    const api = new ApiClient({ getToken: () => 'tok', fetch: f.fetch });
    let last: SearchState | undefined;
    const search = new MessageSearch({ api, onChange: (s) => (last = s) });
    search.submit(req('회의', { roomId: 'r_1' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(f.calls[0]?.path).toBe(`/search?q=${encodeURIComponent('회의')}&roomId=r_1&sort=recent`);
    expect(last?.hits).toEqual([hit(1)]);
  });
});

describe('searchErrorText', () => {
  it('not a member of the room searched', () => {
    expect(searchErrorText(new ApiError(403, 'not_member', 'not a member'))).toBe(
      'You are no longer a member of this room.',
    );
  });
});

describe('snippetOf', () => {
  it('the whole body: no ellipsis', () => {
    const h: SearchHit = {
      message: msg(1, '다음 주 회의는 화요일'),
      highlight: [
        { text: '다음 주 ', match: false },
        { text: '회의', match: true },
        { text: '는 화요일', match: false },
      ],
    };
    expect(snippetOf(h)).toEqual({ segments: h.highlight, cut: { start: false, end: false } });
  });

  it('a fragment of a long body says which ends were cut', () => {
    const body = `${'a'.repeat(100)} needle ${'b'.repeat(300)}`;
    const h: SearchHit = {
      message: msg(1, body),
      highlight: [
        { text: 'a'.repeat(40), match: false },
        { text: ' needle', match: true },
        { text: ` ${'b'.repeat(20)}`, match: false },
      ],
    };
    expect(snippetOf(h).cut).toEqual({ start: true, end: true });
  });

  it('no highlight: the plain body', () => {
    const h: SearchHit = { message: msg(1, 'hello'), highlight: [] };
    expect(snippetOf(h).segments).toEqual([{ text: 'hello', match: false }]);
  });
});
