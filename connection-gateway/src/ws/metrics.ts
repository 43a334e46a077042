/**
 * The gateway's WebSocket metrics (docs/operations.md, "Metrics"): frames in and out by type,
 * handshake refusals by reason, fan-out deliveries by payload kind, slow-reader closes, and the
 * send → deliver latency.
 *
 * Cheap on the fan-out path: every label value is known in advance, and its child (prom-client's
 * `labels(...)`, label hash computed once) is made here, once; a room's fan-out to n sockets is
 * then one `inc(n)` per payload, not a label lookup per socket. The children are made at start,
 * so every series exists (at 0) from the first scrape and `rate()` sees its first increase.
 */
import type { FanoutPayload } from '@parley/eventing';
import type { ClientFrame, ServerFrame } from '@parley/protocol';
import { metricOnce } from '@parley/runtime';
import { Counter, Histogram, type Registry } from 'prom-client';

export type ServerFrameType = ServerFrame['type'];
export type FanoutKind = FanoutPayload['kind'];
/** A client frame's `type` label: the protocol's types, and `invalid` for anything else. */
export type FrameInType = ClientFrame['type'] | 'invalid';

/** Why a handshake was refused (`parley_gateway_handshakes_refused_total{reason}`). */
export type HandshakeRefusal =
  /** Not `/ws`. */
  | 'not_found'
  | 'draining'
  /** Past MAX_CONNECTIONS (a reserve connection). */
  | 'full'
  | 'origin'
  /** Only `bearer.<token>` subprotocols offered. */
  | 'bearer_only'
  /** Past MAX_SOCKETS_PER_ADDRESS. */
  | 'address_cap'
  /** Past MAX_SOCKETS_PER_USER. */
  | 'user_cap'
  /** Not settled within HANDSHAKE_TIMEOUT_MS. */
  | 'timeout'
  /** No valid token of an existing user. */
  | 'unauthorized'
  /** The users function could not say whether the user exists. */
  | 'users_unavailable';

// Records with every member of each union as a key: the compiler says when the protocol grows one.
const CLIENT_TYPES: Record<FrameInType, true> = {
  send: true,
  sync: true,
  typing: true,
  read: true,
  ping: true,
  invalid: true,
};
const SERVER_TYPES: Record<ServerFrameType, true> = {
  ready: true,
  ack: true,
  message: true,
  sync: true,
  room: true,
  typing: true,
  read: true,
  unread: true,
  presence: true,
  notification: true,
  pong: true,
  error: true,
};
const FANOUT_KINDS: Record<FanoutKind, true> = {
  message: true,
  ack: true,
  'send-rejected': true,
  typing: true,
  read: true,
  'read-marker': true,
  notification: true,
  presence: true,
  room: true,
  'command-result': true,
};
const REFUSALS: Record<HandshakeRefusal, true> = {
  not_found: true,
  draining: true,
  full: true,
  origin: true,
  bearer_only: true,
  address_cap: true,
  user_cap: true,
  timeout: true,
  unauthorized: true,
  users_unavailable: true,
};

export const SEND_DELIVER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Child = Counter.Internal;

/** One child per label value, made once, its series at 0 (prom-client shows a series once it is incremented). */
function children<K extends string>(counter: Counter<string>, values: Record<K, true>) {
  const out = new Map<string, Child>();
  for (const v of Object.keys(values)) {
    const child = counter.labels(v);
    child.inc(0);
    out.set(v, child);
  }
  return out as Map<K, Child> & Map<string, Child>;
}

/** What a Session records: the frames it writes itself, and its close for reading too slowly. */
export interface SessionMetrics {
  framesOut(type: ServerFrameType, n?: number): void;
  slowReaderClosed(): void;
}

/** What the Hub records besides: the sockets each fan-out payload reached, and the send → deliver time. */
export interface HubMetrics extends SessionMetrics {
  delivered(kind: FanoutKind, n: number): void;
  sendDelivered(sentAt: string | undefined, now?: number): void;
}

export class GatewayMetrics implements HubMetrics {
  private readonly in: Map<string, Child>;
  private readonly out: Map<ServerFrameType, Child>;
  private readonly deliveries: Map<FanoutKind, Child>;
  private readonly refusals: Map<HandshakeRefusal, Child>;
  private readonly slowReaders: Counter;
  private readonly sendDeliver: Histogram;

  /** The metrics on `registry`, made there if they are not yet (a registry may see two gateways in tests). */
  constructor(registry: Registry) {
    const counter = (name: string, help: string, labelNames: string[]) =>
      metricOnce(
        registry,
        name,
        () => new Counter({ name, help, labelNames, registers: [registry] }),
      );
    this.in = children(
      counter(
        'parley_gateway_frames_in_total',
        'Client frames handled, by type (`invalid`: not JSON, too large, or no protocol type)',
        ['type'],
      ),
      CLIENT_TYPES,
    );
    this.out = children(
      counter('parley_gateway_frames_out_total', 'Frames written to sockets, by type', ['type']),
      SERVER_TYPES,
    );
    this.deliveries = children(
      counter(
        'parley_gateway_fanout_deliveries_total',
        'Sockets a fan-out payload was written to (one per socket; presence: per coalesced frame), by payload kind',
        ['kind'],
      ),
      FANOUT_KINDS,
    );
    this.refusals = children(
      counter(
        'parley_gateway_handshakes_refused_total',
        'WebSocket handshakes refused, by reason',
        ['reason'],
      ),
      REFUSALS,
    );
    this.slowReaders = counter(
      'parley_gateway_slow_reader_closes_total',
      'Sockets closed (1013) because their send buffer passed the cap',
      [],
    );
    this.sendDeliver = metricOnce(
      registry,
      'parley_gateway_send_deliver_seconds',
      () =>
        new Histogram({
          name: 'parley_gateway_send_deliver_seconds',
          help: 'From the send frame at the sender’s gateway to the message frame written at this gateway (once per message and gateway)',
          buckets: SEND_DELIVER_BUCKETS,
          registers: [registry],
        }),
    );
  }

  /** A client frame handled: its protocol type, or `invalid`. */
  frameIn(type: string | undefined): void {
    ((type !== undefined && this.in.get(type)) || this.in.get('invalid'))?.inc();
  }

  framesOut(type: ServerFrameType, n = 1): void {
    if (n > 0) this.out.get(type)?.inc(n);
  }

  delivered(kind: FanoutKind, n: number): void {
    if (n > 0) this.deliveries.get(kind)?.inc(n);
  }

  handshakeRefused(reason: HandshakeRefusal): void {
    this.refusals.get(reason)?.inc();
  }

  slowReaderClosed(): void {
    this.slowReaders.inc();
  }

  /**
   * Observes the time since `sentAt` (ISO; the sender's gateway's clock): nothing without it. Across
   * hosts, a clock behind the sender's would give a negative time: counted as 0.
   */
  sendDelivered(sentAt: string | undefined, now = Date.now()): void {
    if (sentAt === undefined) return;
    const at = Date.parse(sentAt);
    if (Number.isNaN(at)) return;
    this.sendDeliver.observe(Math.max(0, now - at) / 1000);
  }
}
