/**
 * notify through its HTTP face: real binary-mode CloudEvents into
 * cloudEventApp, memory adapters behind it (the notification store, a
 * recording fan-out, a user directory, room membership and last seqs).
 */
import {
  cloudEventApp,
  createEvent,
  DEPLOYMENTS,
  type EventData,
  type EventType,
  type FanoutPayload,
  MemoryFanout,
  type ParleyEvent,
  roomChannel,
  toHttpBinary,
  typesOfTopic,
  userChannel,
} from '@parley/eventing';
import { MemoryNotificationStore } from '@parley/notification-store/memory';
import { LIMITS, type Message, type Room, type User } from '@parley/protocol';
import { createLogger, newId, ParleyError } from '@parley/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createNotify, NOTIFY_ACCEPTS } from './handler';
import { notifyMetrics } from './metrics';
import type { UserLookup } from './user-lookup';

const user = (name: string): User => ({ id: `u_${name}`, username: name, displayName: name });
const alice = user('alice');
const bob = user('bob');
const carol = user('carol');
const dave = user('dave');

/** Fails the next call of a dependency once, with a retriable error, when armed. */
class Outage {
  private armed = 0;
  next(times = 1) {
    this.armed = times;
  }
  check(what: string) {
    if (this.armed > 0) {
      this.armed--;
      throw new ParleyError('unavailable', `${what} is down`);
    }
  }
}

/** A recording fan-out over the memory one: every publish, in order, synchronously. */
class RecordingFanout extends MemoryFanout {
  readonly published: { channel: string; payload: FanoutPayload }[] = [];
  readonly outage = new Outage();
  override async publish(channel: string, payload: FanoutPayload) {
    this.outage.check('redis');
    this.published.push({ channel, payload });
    return super.publish(channel, payload);
  }
}

function harness() {
  const store = new MemoryNotificationStore();
  const fanout = new RecordingFanout();
  const directory = new Map<string, User>([alice, bob, carol, dave].map((u) => [u.username, u]));
  const lookups: string[][] = [];
  const usersDown = new Outage();
  const users: UserLookup = {
    async byUsernames(names) {
      usersDown.check('users');
      lookups.push([...names]);
      return names.flatMap((n) => directory.get(n) ?? []);
    },
  };
  const members = new Map<string, Set<string>>(); // room → user ids
  const membershipChecks: [string, string][] = [];
  const lastSeqs = new Map<string, number>();
  const messagesDown = new Outage();
  const registry = new Registry();
  const log = createLogger('notify-test', 'silent');
  const app = cloudEventApp(
    createNotify({
      store,
      fanout,
      users,
      isMember: async (roomId, userId) => {
        membershipChecks.push([roomId, userId]);
        return members.get(roomId)?.has(userId) ?? false;
      },
      lastSeqOf: async (roomId) => {
        messagesDown.check('messages');
        return lastSeqs.get(roomId) ?? 0;
      },
      log,
      metrics: notifyMetrics(registry),
    }),
    { log, registry },
  );

  const postRaw = (headers: Record<string, string>, body: string) =>
    app.request('/', { method: 'POST', headers, body });
  const post = (event: ParleyEvent) => {
    const { headers, body } = toHttpBinary(event);
    return postRaw(headers, body);
  };
  const event = <T extends EventType>(type: T, data: EventData<T>) =>
    createEvent(type, data, { source: 'test' });

  /** A room with these members. */
  const room = (...ids: string[]): Room => {
    const r: Room = {
      id: newId('r'),
      name: 'Team',
      kind: 'group',
      memberCount: ids.length,
      lastSeq: 0,
    };
    members.set(r.id, new Set(ids));
    return r;
  };
  let ts = 1_700_000_000_000;
  const message = (roomId: string, sender: User, seq: number, body: string): Message => ({
    id: newId('m'),
    roomId,
    seq,
    senderId: sender.id,
    body,
    ts: ts++,
    clientMsgId: newId('c'),
  });
  const created = (m: Message) => event('parley.message.created', { message: m });

  const to = (channel: string) =>
    fanout.published.filter((p) => p.channel === channel).map((p) => p.payload);
  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;

  return {
    store,
    fanout,
    directory,
    lookups,
    members,
    membershipChecks,
    lastSeqs,
    outages: { users: usersDown, messages: messagesDown, redis: fanout.outage },
    post,
    postRaw,
    event,
    room,
    message,
    created,
    to,
    metric,
  };
}

describe('notify: parley.message.created', () => {
  it("moves the sender's marker to the message's seq, publishes nothing without mentions", async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    expect((await h.post(h.created(h.message(r.id, alice, 7, 'hello all')))).status).toBe(202);
    expect(await h.store.markersOf(alice.id)).toEqual({ [r.id]: 7 });
    expect(await h.store.markersOf(bob.id)).toEqual({});
    expect(h.fanout.published).toEqual([]);
    expect(h.lookups).toEqual([]);
    expect(await h.metric('parley_notify_markers_moved_total')).toBe(1);
  });

  it('makes an entry for each mentioned member and tells them; not the sender, non-members or unknown names', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id, carol.id);
    const m = h.message(r.id, alice, 3, '@bob and @carol: see @dave, @ghost and me (@alice)');
    expect((await h.post(h.created(m))).status).toBe(202);

    const notification = {
      kind: 'mention',
      messageId: m.id,
      roomId: r.id,
      seq: 3,
      senderId: alice.id,
      excerpt: m.body,
      ts: m.ts,
      read: false,
    };
    for (const u of [bob, carol]) {
      expect(h.to(userChannel(u.id))).toEqual([
        { kind: 'notification', unreadTotal: 1, notification },
      ]);
      expect((await h.store.inbox(u.id, { limit: 10 })).notifications).toEqual([notification]);
    }
    for (const u of [alice, dave]) {
      expect(h.to(userChannel(u.id))).toEqual([]);
      expect(await h.store.unreadTotal(u.id)).toBe(0);
    }
    expect(h.lookups).toEqual([['bob', 'carol', 'dave', 'ghost', 'alice']]);
    expect(h.fanout.published).toHaveLength(2);
    expect(await h.metric('parley_notify_mentions_created_total')).toBe(2);
  });

  it('a redelivered message creates no second entry and publishes nothing twice', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const e = h.created(h.message(r.id, alice, 1, 'hey @bob'));
    expect((await h.post(e)).status).toBe(202);
    const before = [...h.fanout.published];
    expect((await h.post(e)).status).toBe(202);
    expect((await h.post(e)).status).toBe(202);
    expect(h.fanout.published).toEqual(before);
    expect(await h.store.unreadTotal(bob.id)).toBe(1);
    expect((await h.store.inbox(bob.id, { limit: 10 })).notifications).toHaveLength(1);
    expect(await h.metric('parley_notify_mentions_created_total')).toBe(1);
  });

  it('a mention storm of 500 names costs the first 20: one look-up, ≤ 20 checks, entries for members only', async () => {
    const h = harness();
    const named = Array.from({ length: 500 }, (_, i) => user(`n${String(i).padStart(3, '0')}`));
    for (const u of named) h.directory.set(u.username, u);
    // Every third named user is a member, the first 20 names and the rest alike.
    const r = h.room(alice.id, ...named.filter((_, i) => i % 3 === 0).map((u) => u.id));
    const body = named.map((u) => `@${u.username}`).join(' ');
    expect([...body].length).toBeLessThanOrEqual(LIMITS.messageBodyMaxChars);
    expect((await h.post(h.created(h.message(r.id, alice, 1, body)))).status).toBe(202);

    expect(h.lookups).toHaveLength(1);
    expect(h.lookups[0]).toEqual(named.slice(0, 20).map((u) => u.username));
    expect(h.membershipChecks.length).toBeLessThanOrEqual(LIMITS.mentionsPerMessageMax);
    const notified = named.filter((u) => h.to(userChannel(u.id)).length > 0).map((u) => u.id);
    const expected = named.slice(0, 20).filter((_, i) => i % 3 === 0);
    expect(notified.sort()).toEqual(expected.map((u) => u.id).sort());
    for (const u of named.slice(20, 60)) expect(await h.store.unreadTotal(u.id)).toBe(0);
    const excerpt = h.to(userChannel(expected[0]?.id as string))[0];
    expect(excerpt).toMatchObject({
      notification: { excerpt: Array.from(body).slice(0, 200).join('') },
    });
  });

  it('counts earlier unread entries in unreadTotal', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id, carol.id);
    await h.post(h.created(h.message(r.id, alice, 1, '@bob one')));
    await h.post(h.created(h.message(r.id, carol, 2, '@bob two')));
    expect(
      h.to(userChannel(bob.id)).map((p) => p.kind === 'notification' && p.unreadTotal),
    ).toEqual([1, 2]);
  });

  it('a mention of a room the user has already read past is stored read', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    // Bob's read of seq 5 reached notify before the message that mentions him.
    await h.post(
      h.event('parley.notify.read', { actorId: bob.id, roomId: r.id, seq: 5, lastSeq: 5 }),
    );
    const before = h.fanout.published.length;
    await h.post(h.created(h.message(r.id, alice, 5, 'hey @bob')));
    expect(h.fanout.published.slice(before)).toMatchObject([
      { payload: { kind: 'notification', unreadTotal: 0, notification: { read: true } } },
    ]);
    expect(await h.store.unreadTotal(bob.id)).toBe(0);
  });
});

describe('notify: other message events', () => {
  it('an edit that adds a name notifies that name only', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id, carol.id);
    const m = h.message(r.id, alice, 4, 'hi @bob');
    await h.post(h.created(m));
    const edited = { ...m, body: 'hi @bob and @carol', editedTs: m.ts + 10 };
    expect((await h.post(h.event('parley.message.edited', { message: edited }))).status).toBe(202);
    expect(h.to(userChannel(bob.id))).toHaveLength(1);
    expect(h.to(userChannel(carol.id))).toMatchObject([
      {
        kind: 'notification',
        unreadTotal: 1,
        notification: { messageId: m.id, excerpt: edited.body },
      },
    ]);
  });

  it('accepts deleted messages, created rooms and left members, and does nothing with them', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const m = h.message(r.id, alice, 2, 'x');
    const events = [
      h.event('parley.message.deleted', {
        message: { ...m, body: '', deleted: true, editedTs: m.ts + 1 },
      }),
      h.event('parley.room.created', { room: r, memberIds: [alice.id, bob.id], actorId: alice.id }),
      h.event('parley.room.member.left', { room: r, userId: bob.id, actorId: bob.id }),
    ];
    for (const e of events) expect((await h.post(e)).status).toBe(202);
    expect(h.fanout.published).toEqual([]);
    expect(await h.store.markersOf(alice.id)).toEqual({});
    expect(await h.store.markersOf(bob.id)).toEqual({});
  });
});

describe('notify: parley.room.member.joined', () => {
  it("starts the joiner at the room's last seq (0 unread) and tells their sockets once", async () => {
    const h = harness();
    const r = h.room(alice.id, carol.id);
    h.lastSeqs.set(r.id, 41);
    const joined = h.event('parley.room.member.joined', {
      room: r,
      userId: carol.id,
      actorId: alice.id,
    });
    expect((await h.post(joined)).status).toBe(202);
    expect(await h.store.markersOf(carol.id)).toEqual({ [r.id]: 41 });
    expect(h.to(userChannel(carol.id))).toEqual([
      { kind: 'read-marker', roomId: r.id, seq: 41, unread: 0 },
    ]);
    expect((await h.post(joined)).status).toBe(202);
    expect(h.fanout.published).toHaveLength(1);
  });

  it('joining a room without messages publishes nothing; re-joining later raises the marker', async () => {
    const h = harness();
    const r = h.room(alice.id, carol.id);
    const join = () =>
      h.event('parley.room.member.joined', { room: r, userId: carol.id, actorId: alice.id });
    expect((await h.post(join())).status).toBe(202);
    expect(h.fanout.published).toEqual([]);
    h.lastSeqs.set(r.id, 9);
    expect((await h.post(join())).status).toBe(202);
    expect(h.to(userChannel(carol.id))).toEqual([
      { kind: 'read-marker', roomId: r.id, seq: 9, unread: 0 },
    ]);
  });

  it('answers 503 when the messages function is down; the redelivery does the job', async () => {
    const h = harness();
    const r = h.room(alice.id, carol.id);
    h.lastSeqs.set(r.id, 3);
    const joined = h.event('parley.room.member.joined', {
      room: r,
      userId: carol.id,
      actorId: alice.id,
    });
    h.outages.messages.next();
    expect((await h.post(joined)).status).toBe(503);
    expect(await h.store.markersOf(carol.id)).toEqual({});
    expect((await h.post(joined)).status).toBe(202);
    expect(await h.store.markersOf(carol.id)).toEqual({ [r.id]: 3 });
  });
});

describe('notify: parley.notify.read', () => {
  it('raises the marker, reads the mentions up to it, tells the user, the room and the requester', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    await h.post(h.created(h.message(r.id, alice, 2, '@bob first')));
    await h.post(h.created(h.message(r.id, alice, 6, '@bob second')));
    await h.post(h.created(h.message(r.id, alice, 9, '@bob third')));
    const before = h.fanout.published.length;

    const cmd = h.event('parley.notify.read', {
      actorId: bob.id,
      roomId: r.id,
      seq: 6,
      lastSeq: 10,
    });
    expect((await h.post(cmd)).status).toBe(202);
    expect(await h.store.markersOf(bob.id)).toEqual({ [r.id]: 6 });
    expect(await h.store.unreadTotal(bob.id)).toBe(1);
    expect(h.fanout.published.slice(before)).toEqual([
      { channel: userChannel(bob.id), payload: { kind: 'notification', unreadTotal: 1 } },
      {
        channel: userChannel(bob.id),
        payload: { kind: 'read-marker', roomId: r.id, seq: 6, unread: 4 },
      },
      {
        channel: roomChannel(r.id),
        payload: { kind: 'read', roomId: r.id, userId: bob.id, seq: 6 },
      },
      {
        channel: userChannel(bob.id),
        payload: {
          kind: 'command-result',
          causationId: cmd.id,
          read: { roomId: r.id, seq: 6, unread: 4 },
        },
      },
    ]);
  });

  it('a lower seq changes nothing: only the command-result, with the marker as it is', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    await h.post(
      h.event('parley.notify.read', { actorId: bob.id, roomId: r.id, seq: 8, lastSeq: 8 }),
    );
    const before = h.fanout.published.length;
    const late = h.event('parley.notify.read', {
      actorId: bob.id,
      roomId: r.id,
      seq: 3,
      lastSeq: 12,
    });
    expect((await h.post(late)).status).toBe(202);
    expect(await h.store.markersOf(bob.id)).toEqual({ [r.id]: 8 });
    expect(h.fanout.published.slice(before)).toEqual([
      {
        channel: userChannel(bob.id),
        payload: {
          kind: 'command-result',
          causationId: late.id,
          read: { roomId: r.id, seq: 8, unread: 4 },
        },
      },
    ]);
  });

  it('a replayed read answers its requester again and tells nobody else', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const cmd = h.event('parley.notify.read', {
      actorId: bob.id,
      roomId: r.id,
      seq: 4,
      lastSeq: 4,
    });
    await h.post(cmd);
    const before = h.fanout.published.length;
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.fanout.published.slice(before)).toEqual([
      {
        channel: userChannel(bob.id),
        payload: {
          kind: 'command-result',
          causationId: cmd.id,
          read: { roomId: r.id, seq: 4, unread: 0 },
        },
      },
    ]);
  });

  it('answers 503 when Redis is down; the redelivery answers the requester', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const cmd = h.event('parley.notify.read', {
      actorId: bob.id,
      roomId: r.id,
      seq: 4,
      lastSeq: 7,
    });
    h.outages.redis.next();
    expect((await h.post(cmd)).status).toBe(503);
    expect(await h.store.markersOf(bob.id)).toEqual({ [r.id]: 4 });
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.to(userChannel(bob.id))).toEqual([
      { kind: 'command-result', causationId: cmd.id, read: { roomId: r.id, seq: 4, unread: 3 } },
    ]);
  });
});

describe('notify: parley.notify.inbox.read', () => {
  it('marks entries by id, publishes the new total and answers the requester', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const m1 = h.message(r.id, alice, 1, '@bob a');
    const m2 = h.message(r.id, alice, 2, '@bob b');
    await h.post(h.created(m1));
    await h.post(h.created(m2));
    const before = h.fanout.published.length;
    const cmd = h.event('parley.notify.inbox.read', { actorId: bob.id, messageIds: [m1.id] });
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.fanout.published.slice(before).map((p) => p.payload)).toEqual([
      { kind: 'notification', unreadTotal: 1 },
      { kind: 'command-result', causationId: cmd.id, inbox: { unreadTotal: 1 } },
    ]);
    // Again: nothing changes, only the answer.
    expect((await h.post(cmd)).status).toBe(202);
    expect(h.fanout.published.slice(before + 2).map((p) => p.payload)).toEqual([
      { kind: 'command-result', causationId: cmd.id, inbox: { unreadTotal: 1 } },
    ]);
  });

  it('marks all entries read', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    for (let seq = 1; seq <= 3; seq++)
      await h.post(h.created(h.message(r.id, alice, seq, `@bob ${seq}`)));
    const cmd = h.event('parley.notify.inbox.read', { actorId: bob.id, all: true });
    expect((await h.post(cmd)).status).toBe(202);
    expect(await h.store.unreadTotal(bob.id)).toBe(0);
    expect(h.to(userChannel(bob.id)).slice(-2)).toEqual([
      { kind: 'notification', unreadTotal: 0 },
      { kind: 'command-result', causationId: cmd.id, inbox: { unreadTotal: 0 } },
    ]);
  });
});

describe('notify: failures and what it does not handle', () => {
  it('answers 503 while the users function is down; the redelivery notifies once', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const e = h.created(h.message(r.id, alice, 1, 'hi @bob'));
    h.outages.users.next();
    expect((await h.post(e)).status).toBe(503);
    expect(h.fanout.published).toEqual([]);
    expect((await h.post(e)).status).toBe(202);
    expect((await h.post(e)).status).toBe(202);
    expect(h.to(userChannel(bob.id))).toHaveLength(1);
  });

  it('answers 503 when the database is unreachable', async () => {
    const h = harness();
    const r = h.room(alice.id, bob.id);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3307'), {
      code: 'ECONNREFUSED',
    });
    h.store.advanceMarker = async () => {
      throw refused;
    };
    const res = await h.post(h.created(h.message(r.id, alice, 1, 'hi @bob')));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('accepts every type of the topics that trigger it (a refused one would be dead-lettered)', () => {
    const row = DEPLOYMENTS.find((d) => d.name === 'notify');
    const topics = row && 'trigger' in row ? row.trigger.topics : [];
    expect(topics.length).toBeGreaterThan(0);
    expect([...NOTIFY_ACCEPTS].sort()).toEqual(topics.flatMap((t) => typesOfTopic(t)).sort());
  });

  it('dead-letters (400) an event type it does not handle, and invalid data', async () => {
    const h = harness();
    const send = h.event('parley.message.send', {
      actorId: alice.id,
      roomId: 'r_1',
      clientMsgId: 'c1',
      body: 'hi',
      acceptedTs: 1,
    });
    expect((await h.post(send)).status).toBe(400);
    const { headers } = toHttpBinary(
      h.event('parley.notify.read', { actorId: bob.id, roomId: 'r_1', seq: 1, lastSeq: 1 }),
    );
    const bad = await h.postRaw(
      headers,
      JSON.stringify({ actorId: bob.id, roomId: 'r_1', seq: -1, lastSeq: 1 }),
    );
    expect(bad.status).toBe(400);
    expect(h.fanout.published).toEqual([]);
  });
});
