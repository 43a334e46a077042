import { cloudEventApp, createEvent, type ParleyEvent, toHttpBinary } from '@parley/eventing';
import type { Message } from '@parley/protocol';
import { createLogger } from '@parley/runtime';
import type { ApplyResult } from '@parley/search-index';
import { msg } from '@parley/search-index/contract';
import { MemorySearchIndex } from '@parley/search-index/memory';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMessageIndex } from './handler';
import { messageIndexMetrics } from './metrics';

/** The memory index, recording each bulk; refuses bodies with POISON and fails all while `down`. */
class RecordingIndex extends MemorySearchIndex {
  bulks: number[] = [];
  down = false;
  override async apply(messages: readonly Message[]): Promise<ApplyResult[]> {
    this.bulks.push(messages.length);
    await new Promise((r) => setTimeout(r, 5)); // a bulk takes a while, as over the network
    if (this.down) return messages.map(() => ({ outcome: 'retry', reason: 'connection refused' }));
    const results = await super.apply(messages.filter((m) => !m.body.includes('POISON')));
    return messages.map((m) =>
      m.body.includes('POISON')
        ? { outcome: 'rejected', reason: 'mapper_parsing_exception' }
        : (results.shift() as ApplyResult),
    );
  }
}

function setup() {
  const index = new RecordingIndex();
  const registry = new Registry();
  const log = createLogger('message-index-test', 'silent');
  const fn = createMessageIndex({
    index,
    log,
    metrics: messageIndexMetrics(registry),
  });
  const app = cloudEventApp(fn, { log, registry });
  const deliver = async (event: ParleyEvent): Promise<Response> => {
    const { headers, body } = toHttpBinary(event);
    return app.request('/', { method: 'POST', headers, body });
  };
  const search = async (roomId: string, text: string) =>
    (await index.search({ text, roomIds: [roomId], sort: 'recent', limit: 50 })).map(
      (h) => h.message.body,
    );
  return { index, registry, deliver, search };
}

const created = (m: Message) =>
  createEvent(
    'parley.message.created',
    { message: m },
    { source: 'message-write', id: `${m.id}.created` },
  );

describe('message-index', () => {
  it('indexes created messages and answers 202', async () => {
    const { deliver, search } = setup();
    const m = msg('r_1', '회의는 내일');
    expect((await deliver(created(m))).status).toBe(202);
    expect(await search('r_1', '회의')).toEqual(['회의는 내일']);
  });

  it('writes concurrent deliveries as bulks, each answered for itself', async () => {
    const { index, deliver, search, registry } = setup();
    const all = Array.from({ length: 30 }, (_, i) => msg('r_bulk', `bulk number ${i}`));
    const statuses = await Promise.all(all.map((m) => deliver(created(m)).then((r) => r.status)));
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect(index.bulks.reduce((a, b) => a + b, 0)).toBe(30);
    expect(index.bulks.length).toBeLessThan(5);
    expect((await search('r_bulk', 'bulk')).length).toBe(30);
    const metric = await registry.getSingleMetricAsString('parley_search_bulk_size');
    expect(metric).toContain(`parley_search_bulk_size_count ${index.bulks.length}`);
    expect(metric).toContain('parley_search_bulk_size_sum 30');
  });

  it('refuses a poison message with 400 (dead letter) while the rest of its bulk is indexed', async () => {
    const { index, deliver, search } = setup();
    const good = [msg('r_p', 'fine one'), msg('r_p', 'fine two')];
    const bad = msg('r_p', 'POISON fine');
    const [s1, s2, s3] = await Promise.all(
      [good[0], bad, good[1]].map((m) => deliver(created(m as Message)).then((r) => r.status)),
    );
    expect([s1, s2, s3]).toEqual([202, 400, 202]);
    expect(index.bulks).toEqual([3]);
    expect((await search('r_p', 'fine')).sort()).toEqual(['fine one', 'fine two']);
  });

  it('answers 503 (retry later) when the index is unavailable, and indexes on redelivery', async () => {
    const { index, deliver, search } = setup();
    const m = msg('r_d', 'eventually indexed');
    index.down = true;
    expect((await deliver(created(m))).status).toBe(503);
    index.down = false;
    expect((await deliver(created(m))).status).toBe(202);
    expect(await search('r_d', 'eventually')).toEqual(['eventually indexed']);
  });

  it('applies edits and deletes by version; replays and late events change nothing', async () => {
    const { deliver, search } = setup();
    const m = msg('r_e', 'original words');
    const edited = { ...m, body: 'changed words', editedTs: m.ts + 100 };
    const deleted = { ...m, body: '' as const, deleted: true as const, editedTs: m.ts + 200 };
    const editEvent = createEvent('parley.message.edited', { message: edited }, { source: 'test' });
    const deleteEvent = createEvent(
      'parley.message.deleted',
      { message: deleted },
      { source: 'test' },
    );
    expect((await deliver(editEvent)).status).toBe(202);
    expect((await deliver(created(m))).status).toBe(202); // late create: stale, still 2xx
    expect(await search('r_e', 'words')).toEqual(['changed words']);
    expect((await deliver(deleteEvent)).status).toBe(202);
    expect((await deliver(editEvent)).status).toBe(202);
    expect((await deliver(created(m))).status).toBe(202);
    expect(await search('r_e', 'words')).toEqual([]);
  });

  it('refuses an invalid event with 400 and indexes nothing', async () => {
    const { index, deliver } = setup();
    const bad = {
      ...created(msg('r_x', 'x')),
      data: { message: { id: 'm 1' } },
    } as unknown as ParleyEvent;
    expect((await deliver(bad)).status).toBe(400);
    expect(index.bulks).toEqual([]);
  });
});
