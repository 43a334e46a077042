/**
 * A chat under fault: members of one room on the stack's gateways, each
 * sending steadily the way the web client does — a send waits for its ack
 * and is retried with the same clientMsgId on an error, a reconnect or a
 * timeout; after every `ready` the client syncs from the last seq it holds
 * and resends what is unacknowledged. Everything each member saw is recorded,
 * so a test can check, after the fault, that nothing acknowledged was lost or
 * doubled, that each sender's order held, and that every member ended with
 * every message exactly once.
 *
 * A member sends one message at a time by default (the next after the
 * previous ack): the order its messages are stored in is then the order it
 * sent them, whatever was retried, which is what the per-sender order check
 * holds it to. A member with a `window` > 1 pipelines sends (a retried one may
 * then land after later ones, so only exactly-once is checked for it): that is
 * the load that used to wedge the gateway when the broker restarted.
 */

import { type Account, Api, HttpError } from '@parley/perf/client';
import type { ErrorCode, Message, ServerFrame } from '@parley/protocol';
import WebSocket from 'ws';

export interface WorkloadOptions {
  gatewayUrls: readonly string[];
  /** Members of the room; member i connects to gateway i mod n. */
  members: number;
  /** Messages per second each member sends while the workload runs. */
  ratePerMember: number;
  /** A send without its ack for this long is sent again (same clientMsgId), then with backoff. */
  resendAfterMs?: number;
  /** Prefix of the usernames (unique per run). */
  tag: string;
  /** Members that pipeline up to this many unacknowledged sends (default: none). */
  pipelined?: { members: number; window: number; ratePerMember: number };
}

export interface AckedSend {
  clientMsgId: string;
  id: string;
  seq: number;
  /** Time from the first attempt to the ack. */
  latencyMs: number;
  attempts: number;
}

/** Error codes after which the client sends again later: the server said "not now". */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set([
  'unavailable',
  'timeout',
  'rate_limited',
  'internal',
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Member {
  /** Every message this member holds, by seq (live, acked, synced). */
  readonly timeline = new Map<number, Message>();
  /** Message frames for a seq it already held (at-least-once repeats; allowed). */
  repeatedFrames = 0;
  /** Messages it first got from a `sync` answer, not live (a fan-out that never came). */
  firstSeenBySync = 0;
  readonly acked: AckedSend[] = [];
  /** Sends the server refused for good (not a "try later"): a failure of the run. */
  readonly refused: { clientMsgId: string; code: string; message: string }[] = [];
  readonly errors: { code: string; message: string; ref?: unknown }[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  readyCount = 0;
  private ws: WebSocket | undefined;
  /** Sends awaiting their ack, in send order. */
  private outbox: {
    clientMsgId: string;
    body: string;
    firstAt: number;
    lastAt: number;
    attempts: number;
  }[] = [];
  private sent = 0;
  private stopped = false;
  private sending = false;
  private syncing = false;
  private reconnectDelay = 100;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly index: number,
    readonly account: Account,
    readonly roomId: string,
    private readonly gatewayUrl: string,
    private readonly resendAfterMs: number,
    /** Unacknowledged sends it may have at once; 1 keeps its order checkable. */
    readonly window = 1,
  ) {}

  get userId(): string {
    return this.account.user.id;
  }

  /** The last seq up to which this member holds every message. */
  contiguousSeq(): number {
    let s = 0;
    while (this.timeline.has(s + 1)) s++;
    return s;
  }

  pending(): boolean {
    return this.outbox.length > 0;
  }

  connect(): void {
    if (this.stopped) return;
    const url = `${this.gatewayUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(this.account.token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as ServerFrame));
    ws.on('close', (code, reason) => {
      this.closes.push({ code, reason: reason.toString() });
      if (this.ws === ws) this.ws = undefined;
      this.syncing = false;
      if (this.stopped) return;
      // Reconnect with backoff and jitter, as the web client does.
      const delay = this.reconnectDelay * (0.5 + Math.random());
      this.reconnectDelay = Math.min(2_000, this.reconnectDelay * 2);
      setTimeout(() => this.connect(), delay);
    });
    ws.on('error', () => undefined);
  }

  private send(frame: unknown): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  private sync(): void {
    if (this.syncing) return;
    if (this.send({ type: 'sync', rooms: { [this.roomId]: this.contiguousSeq() } }))
      this.syncing = true;
  }

  private hold(m: Message, bySync = false): void {
    if (m.roomId !== this.roomId) return;
    if (this.timeline.has(m.seq)) this.repeatedFrames++;
    else {
      this.timeline.set(m.seq, m);
      if (bySync) this.firstSeenBySync++;
    }
    if (m.seq > this.contiguousSeq() + 1) this.sync();
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'ready':
        this.readyCount++;
        this.reconnectDelay = 100;
        this.syncing = false;
        this.sync();
        for (const o of this.outbox) this.attempt(o);
        return;
      case 'message':
        this.hold(f.message);
        return;
      case 'sync':
        if (f.roomId !== this.roomId) return;
        this.syncing = false;
        for (const m of f.messages) this.hold(m, true);
        if (!f.complete) this.sync();
        return;
      case 'ack': {
        const i = this.outbox.findIndex((x) => x.clientMsgId === f.clientMsgId);
        const o = this.outbox[i];
        if (!o || f.roomId !== this.roomId) return;
        this.hold({
          id: f.id,
          roomId: f.roomId,
          seq: f.seq,
          senderId: this.userId,
          clientMsgId: o.clientMsgId,
          body: o.body,
          ts: f.ts,
        } as Message);
        this.acked.push({
          clientMsgId: o.clientMsgId,
          id: f.id,
          seq: f.seq,
          latencyMs: Date.now() - o.firstAt,
          attempts: o.attempts,
        });
        this.outbox.splice(i, 1);
        return;
      }
      case 'error': {
        this.errors.push({ code: f.code, message: f.message, ref: f.ref });
        const i = this.outbox.findIndex((x) => x.clientMsgId === f.ref);
        const o = this.outbox[i];
        if (!o) return;
        if (RETRY_LATER.has(f.code)) {
          // Try again soon (not at once: the server said "not now").
          o.lastAt = Date.now() - this.resendAfterMs + 250;
        } else {
          this.refused.push({ clientMsgId: o.clientMsgId, code: f.code, message: f.message });
          this.outbox.splice(i, 1);
        }
        return;
      }
      default:
        return;
    }
  }

  /** Sends (or resends) one message of the outbox. */
  private attempt(o: Member['outbox'][number]): void {
    if (
      this.send({ type: 'send', roomId: this.roomId, clientMsgId: o.clientMsgId, body: o.body })
    ) {
      o.attempts++;
      o.lastAt = Date.now();
    }
  }

  /** Starts sending `ratePerSecond` messages a second (fewer while one waits for its ack). */
  startSending(ratePerSecond: number): void {
    this.sending = true;
    const tick = 1000 / ratePerSecond;
    this.timer = setInterval(() => {
      const now = Date.now();
      // Resent after resendAfterMs, then twice as long each time (at most 30 s): a client that
      // retries on a fixed short timer adds to the very backlog it is waiting on.
      for (const o of this.outbox) {
        const wait = Math.min(30_000, this.resendAfterMs * 2 ** Math.max(0, o.attempts - 1));
        if (now - o.lastAt >= wait) this.attempt(o);
      }
      if (!this.sending || this.outbox.length >= this.window) return;
      this.sent++;
      const o = {
        clientMsgId: `m${this.index}-${this.sent}`,
        body: `member ${this.index} message ${this.sent}`,
        firstAt: now,
        lastAt: 0,
        attempts: 0,
      };
      this.outbox.push(o);
      this.attempt(o);
    }, tick);
  }

  /** Stops starting new sends; the one in flight is still retried until acked. */
  stopSending(): void {
    this.sending = false;
  }

  /** Asks for everything after the last contiguous seq, and waits until it holds 1..lastSeq. */
  async catchUp(lastSeq: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.contiguousSeq() < lastSeq) {
      if (Date.now() > deadline)
        throw new Error(
          `member ${this.index} holds 1..${this.contiguousSeq()} of 1..${lastSeq} after ${timeoutMs} ms`,
        );
      this.syncing = false;
      this.sync();
      await sleep(200);
    }
  }

  close(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.ws?.close();
  }
}

export class ChatWorkload {
  readonly members: Member[] = [];
  roomId = '';
  private readonly api: Api;

  constructor(private readonly opts: WorkloadOptions) {
    this.api = new Api(opts.gatewayUrls[0] as string);
  }

  /** Signs the members up, creates their room, connects everyone and waits for `ready`. */
  async setUp(): Promise<void> {
    const accounts: Account[] = [];
    const total = this.opts.members;
    for (let i = 0; i < total; i++) accounts.push(await this.api.signup(`${this.opts.tag}${i}`));
    const owner = accounts[0] as Account;
    const { room } = await this.api.call<{ room: { id: string } }>('POST', '/api/v1/rooms', {
      token: owner.token,
      body: { name: `fault ${this.opts.tag}`, memberIds: accounts.slice(1).map((a) => a.user.id) },
    });
    this.roomId = room.id;
    const piped = this.opts.pipelined;
    accounts.forEach((a, i) => {
      const url = this.opts.gatewayUrls[i % this.opts.gatewayUrls.length] as string;
      const window = piped && i >= this.opts.members - piped.members ? piped.window : 1;
      this.members.push(new Member(i, a, room.id, url, this.opts.resendAfterMs ?? 5_000, window));
    });
    for (const m of this.members) m.connect();
    const deadline = Date.now() + 20_000;
    while (this.members.some((m) => m.readyCount === 0)) {
      if (Date.now() > deadline) throw new Error('members did not get ready');
      await sleep(50);
    }
  }

  start(): void {
    for (const m of this.members)
      m.startSending(
        m.window > 1 ? (this.opts.pipelined?.ratePerMember ?? 1) : this.opts.ratePerMember,
      );
  }

  ackedCount(): number {
    return this.members.reduce((n, m) => n + m.acked.length, 0);
  }

  /** Resolves once `n` more sends were acknowledged (the system is moving again). */
  async waitForAcks(n: number, timeoutMs: number): Promise<number> {
    const start = this.ackedCount();
    const t0 = Date.now();
    while (this.ackedCount() < start + n) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`only ${this.ackedCount() - start} of ${n} acks in ${timeoutMs} ms`);
      await sleep(50);
    }
    return Date.now() - t0;
  }

  /** Stops new sends and waits until every member's last send is acknowledged. */
  async drain(timeoutMs: number): Promise<void> {
    for (const m of this.members) m.stopSending();
    const deadline = Date.now() + timeoutMs;
    while (this.members.some((m) => m.pending())) {
      if (Date.now() > deadline) {
        const stuck = this.members.filter((m) => m.pending()).map((m) => m.index);
        throw new Error(`sends of members ${stuck.join(',')} unacknowledged after ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  /** An API call that waits out a `429` (Retry-After / retryAfterMs) as a polite client does. */
  private async call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown },
  ): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await this.api.call<T>(method, path, opts);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status !== 429 || i >= 20) throw err;
        const ms = (err.body as { error?: { retryAfterMs?: number } })?.error?.retryAfterMs;
        await sleep(Math.max(100, ms ?? 1_000));
      }
    }
  }

  /** The room as stored, read through the public history API (every page). */
  async stored(): Promise<Message[]> {
    const token = (this.members[0] as Member).account.token;
    const out: Message[] = [];
    for (;;) {
      const after = out.at(-1)?.seq ?? 0;
      const page = await this.call<{ messages: Message[]; hasMore: boolean }>(
        'GET',
        `/api/v1/rooms/${encodeURIComponent(this.roomId)}/messages?after=${after}&limit=100`,
        { token },
      );
      out.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) return out;
    }
  }

  /**
   * The room's messages that search finds (every page of `q`), once the index has caught up
   * with `expected` hits or `timeoutMs` passed. Every body contains "message".
   */
  async searchable(expected: number, timeoutMs: number): Promise<Set<string>> {
    const token = (this.members[0] as Member).account.token;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ids = new Set<string>();
      let cursor: string | undefined;
      do {
        const q = `/api/v1/search?q=message&roomId=${encodeURIComponent(this.roomId)}&limit=50&sort=recent${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await this.call<{
          hits: { message: Message }[];
          nextCursor?: string;
        }>('GET', q, { token });
        for (const h of page.hits) ids.add(h.message.id);
        cursor = page.nextCursor;
      } while (cursor);
      if (ids.size >= expected || Date.now() > deadline) return ids;
      await sleep(500);
    }
  }

  /** Invites a fresh user through the HTTP command, retrying a `504 timeout` as a client would. */
  async invite(userId: string, timeoutMs: number): Promise<void> {
    const token = (this.members[0] as Member).account.token;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.api.call('POST', `/api/v1/rooms/${encodeURIComponent(this.roomId)}/members`, {
          token,
          body: { userId },
        });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(1_000);
      }
    }
  }

  /** The room's member ids, as the room service answers. */
  async memberIds(): Promise<string[]> {
    const token = (this.members[0] as Member).account.token;
    const r = await this.call<{ members: { id: string }[] }>(
      'GET',
      `/api/v1/rooms/${encodeURIComponent(this.roomId)}`,
      { token },
    );
    return r.members.map((m) => m.id);
  }

  get http(): Api {
    return this.api;
  }

  close(): void {
    for (const m of this.members) m.close();
  }
}

/**
 * What a fault cost, checked against the room as stored: the properties that
 * must hold after any fault, as a list of violations (empty = clean).
 */
export function checkRoom(members: readonly Member[], stored: readonly Message[]): string[] {
  const problems: string[] = [];
  // Seqs 1..N, no gap, no repeat.
  stored.forEach((m, i) => {
    if (m.seq !== i + 1) problems.push(`stored seq ${m.seq} at position ${i + 1} (gap or repeat)`);
  });
  const bySend = new Map<string, Message[]>();
  for (const m of stored) {
    const k = `${m.senderId}\n${m.clientMsgId}`;
    bySend.set(k, [...(bySend.get(k) ?? []), m]);
  }
  for (const [k, ms] of bySend)
    if (ms.length > 1)
      problems.push(
        `send ${k.replace('\n', '/')} stored ${ms.length} times (seqs ${ms.map((m) => m.seq)})`,
      );
  for (const member of members) {
    for (const r of member.refused)
      problems.push(
        `member ${member.index}: send ${r.clientMsgId} refused: ${r.code} ${r.message}`,
      );
    // Every acknowledged send stored exactly once, at the acked seq.
    let lastSeq = 0;
    for (const a of member.acked) {
      const found = bySend.get(`${member.userId}\n${a.clientMsgId}`) ?? [];
      if (found.length === 0)
        problems.push(`member ${member.index}: acked ${a.clientMsgId} is not stored`);
      else if (found[0]?.seq !== a.seq || found[0]?.id !== a.id)
        problems.push(
          `member ${member.index}: ${a.clientMsgId} acked as seq ${a.seq} but stored as ${found[0]?.seq}`,
        );
      // Sent one at a time, so stored in send order.
      if (member.window === 1 && a.seq <= lastSeq)
        problems.push(
          `member ${member.index}: ${a.clientMsgId} (seq ${a.seq}) stored before an earlier send (seq ${lastSeq})`,
        );
      lastSeq = Math.max(lastSeq, a.seq);
    }
    // Nothing stored for this member that it did not get an ack for.
    const ackedIds = new Set(member.acked.map((a) => a.clientMsgId));
    for (const m of stored)
      if (m.senderId === member.userId && !ackedIds.has(m.clientMsgId))
        problems.push(
          `member ${member.index}: ${m.clientMsgId} stored (seq ${m.seq}) but never acked`,
        );
    // Every member ends with every message, once each (held by seq, so once by construction),
    // and the same message at each seq.
    for (const m of stored) {
      const held = member.timeline.get(m.seq);
      if (!held) problems.push(`member ${member.index} is missing seq ${m.seq}`);
      else if (held.id !== m.id)
        problems.push(`member ${member.index} holds ${held.id} at seq ${m.seq}, stored ${m.id}`);
    }
    if (member.timeline.size !== stored.length)
      problems.push(
        `member ${member.index} holds ${member.timeline.size} messages, ${stored.length} stored`,
      );
  }
  return problems;
}
