/**
 * The deployment table: every deployable of Parley, next to the event catalog
 * it is wired by. One row per function (one Knative Service each) and one for
 * the connection gateway (a Deployment): its kind, the topics and consumer
 * group that trigger it, the environment it reads, and how it scales.
 *
 * Everything that starts or describes a deployable derives from this table:
 * the embedded launcher (memory-bus subscriptions), the real-mode stack
 * (processes, KafkaSource stand-ins, environment), the build (bundles), the
 * Knative manifests (generated), docs/deployments.md (generated) and the
 * tests that check each of those against it.
 */
import { TOPICS, type Topic } from './catalog';
import type { BackoffPolicy, DeliveryOrdering } from './delivery-policy';

/** How a variable reaches a deployable on Kubernetes. */
export type EnvSource =
  /** A key of the `parley-secrets` Secret (never committed with a value). */
  | 'secret'
  /** A key of the `parley-config` ConfigMap. */
  | 'config'
  /** Set on the container itself (e.g. HOST=0.0.0.0). */
  | 'container'
  /** Injected by the platform: PORT by Knative, K_SINK by a SinkBinding. */
  | 'platform';

export interface EnvVar {
  source: EnvSource;
  /** Required: the process refuses to start without it. Otherwise it has a default. */
  required: boolean;
  doc: string;
}

/**
 * Every variable a deployable of Parley reads. A deployable's `env` names
 * some of these; its config schema reads exactly those (a test checks it, by
 * running the bundle and recording what it reads).
 */
export const ENV = {
  PORT: {
    source: 'platform',
    required: false,
    doc: 'Port to listen on (Knative sets it; 8080 by default).',
  },
  HOST: {
    source: 'container',
    required: false,
    doc: 'Address to listen on: 127.0.0.1 by default, 0.0.0.0 in a container.',
  },
  METRICS_PORT: {
    source: 'container',
    required: false,
    doc: 'Private port of `/metrics` (9464 in a container), never behind a Service or route; unset: no metrics.',
  },
  LOG_LEVEL: { source: 'config', required: false, doc: 'pino level: info by default.' },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    source: 'config',
    required: false,
    doc: 'OTLP/HTTP receiver of the traces (`http://jaeger-collector:4318`); unset or empty: tracing off.',
  },
  OTEL_TRACES_SAMPLER_ARG: {
    source: 'config',
    required: false,
    doc: "Share of new traces kept, 0…1 (1 by default); a continued trace keeps its parent's decision.",
  },
  JWT_SECRET: {
    source: 'secret',
    required: true,
    doc: 'HS256 key of the access tokens, at least 32 characters; no default anywhere.',
  },
  USERS_DB_SHARDS: {
    source: 'secret',
    required: true,
    doc: 'Shard map of the user DB (`0-31=mysql://…/users_0;32-63=…`); holds DB passwords.',
  },
  ROOMS_DB_SHARDS: { source: 'secret', required: true, doc: 'Shard map of the room DB.' },
  MESSAGE_DB_SHARDS: { source: 'secret', required: true, doc: 'Shard map of the message DB.' },
  NOTIFY_DB_SHARDS: {
    source: 'secret',
    required: true,
    doc: 'Shard map of the notification DB (read markers, the mention inbox), sharded by user id.',
  },
  REDIS_URL: {
    source: 'secret',
    required: true,
    doc: 'Redis (recent cache, fan-out, membership cache); may hold a password.',
  },
  ES_URL: { source: 'secret', required: true, doc: 'Elasticsearch; may hold credentials.' },
  KAFKA_BROKERS: {
    source: 'config',
    required: true,
    doc: 'Comma-separated Kafka bootstrap brokers.',
  },
  K_SINK: {
    source: 'platform',
    required: true,
    doc: 'Where emitted events go: the KafkaSink, injected by a SinkBinding.',
  },
  USERS_URL: { source: 'config', required: true, doc: 'Base URL of the users function.' },
  ROOMS_URL: { source: 'config', required: true, doc: 'Base URL of the rooms function.' },
  MESSAGES_URL: { source: 'config', required: true, doc: 'Base URL of the messages function.' },
  SEARCH_URL: { source: 'config', required: true, doc: 'Base URL of the search function.' },
  NOTIFICATIONS_URL: {
    source: 'config',
    required: true,
    doc: 'Base URL of the notifications function.',
  },
  PRESENCE_TTL_MS: {
    source: 'config',
    required: false,
    doc: 'A gateway that has not beaten for this long is presumed dead: its users go offline (30 s).',
  },
  SEARCH_INDEX_ALIAS: {
    source: 'config',
    required: false,
    doc: 'The search alias read and written (`parley-messages`).',
  },
  SEARCH_INDEX_SHARDS: { source: 'config', required: false, doc: 'Primary shards of a new index.' },
  SEARCH_INDEX_REPLICAS: { source: 'config', required: false, doc: 'Replicas of a new index.' },
  SEARCH_REFRESH_INTERVAL: {
    source: 'config',
    required: false,
    doc: 'How soon an indexed message is searchable (1s).',
  },
  ALLOWED_ORIGINS: {
    source: 'config',
    required: false,
    doc: 'Origins allowed to open a WebSocket (comma-separated).',
  },
  RATE_FRAMES_PER_SEC: { source: 'config', required: false, doc: 'Frames per second per socket.' },
  RATE_BURST: { source: 'config', required: false, doc: 'Burst of frames per socket.' },
  ABUSE_STRIKES: { source: 'config', required: false, doc: 'Refused frames before a close.' },
  COMMAND_TIMEOUT_MS: {
    source: 'config',
    required: false,
    doc: 'How long an HTTP room command waits for its result.',
  },
  DRAIN_TIMEOUT_MS: {
    source: 'config',
    required: false,
    doc: 'How long a SIGTERM drain waits for sockets to close.',
  },
  TRUSTED_PROXY_HOPS: {
    source: 'config',
    required: false,
    doc: 'Proxies in front of the gateway that append to X-Forwarded-For (0: use the peer address).',
  },
  RATE_USER_FRAMES_PER_SEC: {
    source: 'config',
    required: false,
    doc: 'Frames per second per user, over all their sockets on one gateway.',
  },
  RATE_USER_BURST: { source: 'config', required: false, doc: 'Burst of frames per user.' },
  RATE_SEND_PER_SEC: {
    source: 'config',
    required: false,
    doc: '`send` frames per second per user.',
  },
  RATE_SEND_BURST: { source: 'config', required: false, doc: 'Burst of `send` frames per user.' },
  RATE_SYNC_PER_SEC: {
    source: 'config',
    required: false,
    doc: '`sync` frames per second per user.',
  },
  RATE_SYNC_BURST: { source: 'config', required: false, doc: 'Burst of `sync` frames per user.' },
  RATE_TYPING_READ_PER_SEC: {
    source: 'config',
    required: false,
    doc: '`typing` and `read` frames per second per user.',
  },
  RATE_TYPING_READ_BURST: {
    source: 'config',
    required: false,
    doc: 'Burst of `typing` and `read` frames per user.',
  },
  RATE_HISTORY_BYTES_PER_SEC: {
    source: 'config',
    required: false,
    doc: 'Bytes per second of messages a user is sent by `sync` and history.',
  },
  RATE_HISTORY_BYTES_BURST: {
    source: 'config',
    required: false,
    doc: 'Burst of history bytes per user.',
  },
  RATE_LIMITED_STRIKES: {
    source: 'config',
    required: false,
    doc: '`rate_limited` refusals per socket within a minute before a close (1008).',
  },
  MAX_SOCKETS_PER_USER: {
    source: 'config',
    required: false,
    doc: 'WebSockets per user per gateway (past it: 429).',
  },
  MAX_SOCKETS_PER_ADDRESS: {
    source: 'config',
    required: false,
    doc: 'WebSockets per client address per gateway (past it: 429).',
  },
  MAX_CONNECTIONS: {
    source: 'config',
    required: false,
    doc: 'TCP connections per gateway process; past it only the probes are answered.',
  },
  HEARTBEAT_INTERVAL_MS: {
    source: 'config',
    required: false,
    doc: 'How often each WebSocket is pinged; two silent intervals drop it.',
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    source: 'config',
    required: false,
    doc: 'A connection must send its request headers within this.',
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    source: 'config',
    required: false,
    doc: 'A whole HTTP request (headers and body) must arrive within this.',
  },
  HANDSHAKE_TIMEOUT_MS: {
    source: 'config',
    required: false,
    doc: 'A WebSocket handshake must be accepted or refused within this.',
  },
  RATE_HTTP_ADDRESS_PER_SEC: {
    source: 'config',
    required: false,
    doc: 'HTTP API requests per second per client address (an IPv6 /64).',
  },
  RATE_HTTP_ADDRESS_BURST: {
    source: 'config',
    required: false,
    doc: 'Burst of HTTP API requests per client address.',
  },
  RATE_HTTP_USER_PER_SEC: {
    source: 'config',
    required: false,
    doc: 'Authenticated HTTP API requests per second per user.',
  },
  RATE_HTTP_USER_BURST: {
    source: 'config',
    required: false,
    doc: 'Burst of authenticated HTTP API requests per user.',
  },
  LOGIN_FREE_FAILURES: {
    source: 'config',
    required: false,
    doc: 'Logins per (username, address) before each next one waits longer (1 s, 2 s, … 15 min).',
  },
  LOGIN_ADDRESS_FREE_FAILURES: {
    source: 'config',
    required: false,
    doc: 'Failed logins per address (any usernames) within an hour before the growing wait.',
  },
  LOGIN_USER_FAILURE_BUDGET: {
    source: 'config',
    required: false,
    doc: 'Failed logins per username within an hour past which addresses new to it are slowed.',
  },
  SIGNUPS_PER_ADDRESS_PER_HOUR: {
    source: 'config',
    required: false,
    doc: 'Sign-ups per client address, then one an hour.',
  },
  KDF_CONCURRENCY: {
    source: 'config',
    required: false,
    doc: 'Password hashes (scrypt) one users process computes at once.',
  },
  KDF_QUEUE_MAX: {
    source: 'config',
    required: false,
    doc: 'Password hashes that may wait for a slot; past it, 503 with Retry-After.',
  },
} as const satisfies Record<string, EnvVar>;
export type EnvName = keyof typeof ENV;

/**
 * - `min-scale`: latency-critical, on the path of every message or every
 *   page load; one instance stays warm (Knative `min-scale: 1`).
 * - `scale-to-zero`: rare or asynchronous work where a cold start of a few
 *   hundred ms is acceptable; no instance while idle.
 * - `always-on`: the gateway holds WebSockets; it is a Deployment with an HPA.
 */
export type ScalingClass = 'min-scale' | 'scale-to-zero' | 'always-on';

interface DeployableBase {
  name: string;
  /** The workspace folder, relative to the repository root. */
  dir: string;
  /** The npm package name of the workspace. */
  package: string;
  /** What the process reads from its environment (exactly: a test checks it). */
  env: readonly EnvName[];
  scaling: ScalingClass;
  /** Why this scaling class: written into the docs and the manifests. */
  scalingWhy: string;
  /**
   * The migration step this deployable owns (`src/migrate.ts`, bundled as `dist/migrate.mjs`), what
   * it reads, and the folder of its `NNN_name.sql` files (copied to `dist/migrations/`), if any.
   */
  migrate?: { env: readonly EnvName[]; sql?: string };
}

export interface HttpFunction extends DeployableBase {
  kind: 'http';
}

export interface CloudEventFunctionDeployable extends DeployableBase {
  kind: 'cloudevent';
  /**
   * What triggers it: its topics and consumer group, and how each topic is delivered. One
   * KafkaSource per topic (`sourcesOf`): Knative gives a source one dead-letter sink, and a
   * record's dead letter goes to its own topic's `<topic>.dlq`.
   */
  trigger: {
    topics: readonly Topic[];
    /** The consumer group of a one-topic trigger; with several topics, each source's is `<group>.<topic tail>`. */
    consumerGroup: string;
    /**
     * The trigger topics delivered unordered (Knative's `spec.ordering: unordered`: up to
     * `max.poll.records` events in flight at once, in any order, instead of one per partition),
     * and why this function's result does not depend on their order. Every other topic is
     * delivered ordered (one event at a time per partition, in offset order).
     */
    unordered?: { topics: readonly Topic[]; why: string };
    /**
     * Its own retry policy instead of the default (DEFAULT_DELIVERY: 20 retries, linear from 1 s,
     * 3.5 minutes before a record is dead-lettered), with the reason. `backoffMaxMs` keeps the
     * stand-in's waits equal to Knative's, which has no cap. No trigger needs one yet.
     */
    delivery?: {
      retry: number;
      backoffPolicy: BackoffPolicy;
      backoffDelayMs: number;
      backoffMaxMs: number;
      why: string;
    };
  };
  /** The topic its emitted facts go to, through K_SINK (a KafkaSink pinned to that topic). */
  emits?: Topic;
}

export interface GatewayDeployable extends DeployableBase {
  kind: 'gateway';
}

export type Deployable = HttpFunction | CloudEventFunctionDeployable | GatewayDeployable;

const HOSTED = [
  'PORT',
  'HOST',
  'METRICS_PORT',
  'LOG_LEVEL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_TRACES_SAMPLER_ARG',
] as const satisfies readonly EnvName[];

/** Consumer groups are `parley-<function>`: one group per function, shared by all its instances. */
const groupOf = (fn: string) => `parley-${fn}`;

export const DEPLOYMENTS = [
  {
    name: 'users',
    kind: 'http',
    dir: 'functions/users',
    package: '@parley/fn-users',
    env: [...HOSTED, 'USERS_DB_SHARDS', 'JWT_SECRET', 'KDF_CONCURRENCY', 'KDF_QUEUE_MAX'],
    migrate: { env: ['LOG_LEVEL', 'USERS_DB_SHARDS'], sql: 'functions/users/src/migrations' },
    scaling: 'scale-to-zero',
    scalingWhy:
      'sign-up, log-in and user look-ups happen once per session; a cold start adds to one request',
  },
  {
    name: 'rooms',
    kind: 'http',
    dir: 'functions/rooms',
    package: '@parley/fn-rooms',
    env: [...HOSTED, 'ROOMS_DB_SHARDS', 'JWT_SECRET'],
    scaling: 'min-scale',
    scalingWhy:
      'every WebSocket handshake and every membership-cache miss asks it; a cold start would stall connects',
  },
  {
    name: 'messages',
    kind: 'http',
    dir: 'functions/messages',
    package: '@parley/fn-messages',
    env: [...HOSTED, 'MESSAGE_DB_SHARDS', 'REDIS_URL', 'ROOMS_URL', 'JWT_SECRET'],
    scaling: 'min-scale',
    scalingWhy: 'history and the sync after every reconnect; users wait on it when opening a room',
  },
  {
    name: 'search',
    kind: 'http',
    dir: 'functions/search',
    package: '@parley/fn-search',
    env: [...HOSTED, 'ES_URL', 'SEARCH_INDEX_ALIAS', 'ROOMS_URL', 'JWT_SECRET'],
    scaling: 'scale-to-zero',
    scalingWhy: 'searches are rare and a person typing tolerates a cold start',
  },
  {
    name: 'room-ops',
    kind: 'cloudevent',
    dir: 'functions/room-ops',
    package: '@parley/fn-room-ops',
    env: [...HOSTED, 'ROOMS_DB_SHARDS', 'REDIS_URL', 'K_SINK', 'USERS_URL'],
    migrate: { env: ['LOG_LEVEL', 'ROOMS_DB_SHARDS'], sql: 'stores/room-store/src/migrations' },
    trigger: { topics: [TOPICS.roomCommands], consumerGroup: groupOf('room-ops') },
    emits: TOPICS.roomEvents,
    scaling: 'scale-to-zero',
    scalingWhy: 'room commands are rare; the asking request waits up to COMMAND_TIMEOUT_MS (10 s)',
  },
  {
    name: 'message-write',
    kind: 'cloudevent',
    dir: 'functions/message-write',
    package: '@parley/fn-message-write',
    env: [...HOSTED, 'MESSAGE_DB_SHARDS', 'REDIS_URL', 'K_SINK', 'ROOMS_URL'],
    migrate: {
      env: ['LOG_LEVEL', 'MESSAGE_DB_SHARDS'],
      sql: 'stores/message-store/src/migrations',
    },
    trigger: { topics: [TOPICS.messageCommands], consumerGroup: groupOf('message-write') },
    emits: TOPICS.messageEvents,
    scaling: 'min-scale',
    scalingWhy: 'every message a person sends waits on it for its ack',
  },
  {
    name: 'message-index',
    kind: 'cloudevent',
    dir: 'functions/message-index',
    package: '@parley/fn-message-index',
    env: [...HOSTED, 'ES_URL', 'SEARCH_INDEX_ALIAS'],
    migrate: {
      env: [
        'LOG_LEVEL',
        'ES_URL',
        'SEARCH_INDEX_ALIAS',
        'SEARCH_INDEX_SHARDS',
        'SEARCH_INDEX_REPLICAS',
        'SEARCH_REFRESH_INTERVAL',
      ],
    },
    trigger: {
      topics: [TOPICS.messageEvents],
      consumerGroup: groupOf('message-index'),
      unordered: {
        topics: [TOPICS.messageEvents],
        why: 'a message is written at the version its event carries (external versioning): a repeated or older event is a no-op, so the index ends the same in any order; many events at hand make bigger bulks',
      },
    },
    scaling: 'scale-to-zero',
    scalingWhy:
      'indexing is asynchronous (search lag ~1 s); Kafka holds the events while it starts',
  },
  {
    name: 'notifications',
    kind: 'http',
    dir: 'functions/notifications',
    package: '@parley/fn-notifications',
    env: [...HOSTED, 'NOTIFY_DB_SHARDS', 'JWT_SECRET'],
    scaling: 'min-scale',
    scalingWhy:
      'every WebSocket connect and every room list reads the read markers; a cold start would stall them',
  },
  {
    name: 'notify',
    kind: 'cloudevent',
    dir: 'functions/notify',
    package: '@parley/fn-notify',
    env: [...HOSTED, 'NOTIFY_DB_SHARDS', 'REDIS_URL', 'ROOMS_URL', 'USERS_URL', 'MESSAGES_URL'],
    migrate: {
      env: ['LOG_LEVEL', 'NOTIFY_DB_SHARDS'],
      sql: 'stores/notification-store/src/migrations',
    },
    trigger: {
      topics: [TOPICS.messageEvents, TOPICS.roomEvents, TOPICS.notifyCommands],
      consumerGroup: groupOf('notify'),
    },
    scaling: 'scale-to-zero',
    scalingWhy:
      'mentions and read markers are asynchronous (unread counts need no write per message); Kafka holds the events while it starts',
  },
  {
    name: 'connection-gateway',
    kind: 'gateway',
    dir: 'connection-gateway',
    package: '@parley/connection-gateway',
    env: [
      ...HOSTED,
      'ALLOWED_ORIGINS',
      'JWT_SECRET',
      'REDIS_URL',
      'KAFKA_BROKERS',
      'USERS_URL',
      'ROOMS_URL',
      'MESSAGES_URL',
      'SEARCH_URL',
      'NOTIFICATIONS_URL',
      'PRESENCE_TTL_MS',
      'RATE_FRAMES_PER_SEC',
      'RATE_BURST',
      'ABUSE_STRIKES',
      'COMMAND_TIMEOUT_MS',
      'DRAIN_TIMEOUT_MS',
      'TRUSTED_PROXY_HOPS',
      'RATE_USER_FRAMES_PER_SEC',
      'RATE_USER_BURST',
      'RATE_SEND_PER_SEC',
      'RATE_SEND_BURST',
      'RATE_SYNC_PER_SEC',
      'RATE_SYNC_BURST',
      'RATE_TYPING_READ_PER_SEC',
      'RATE_TYPING_READ_BURST',
      'RATE_HISTORY_BYTES_PER_SEC',
      'RATE_HISTORY_BYTES_BURST',
      'RATE_LIMITED_STRIKES',
      'MAX_SOCKETS_PER_USER',
      'MAX_SOCKETS_PER_ADDRESS',
      'MAX_CONNECTIONS',
      'HEARTBEAT_INTERVAL_MS',
      'HTTP_HEADERS_TIMEOUT_MS',
      'HTTP_REQUEST_TIMEOUT_MS',
      'HANDSHAKE_TIMEOUT_MS',
      'RATE_HTTP_ADDRESS_PER_SEC',
      'RATE_HTTP_ADDRESS_BURST',
      'RATE_HTTP_USER_PER_SEC',
      'RATE_HTTP_USER_BURST',
      'LOGIN_FREE_FAILURES',
      'LOGIN_ADDRESS_FREE_FAILURES',
      'LOGIN_USER_FAILURE_BUDGET',
      'SIGNUPS_PER_ADDRESS_PER_HOUR',
    ],
    scaling: 'always-on',
    scalingWhy: 'it holds the WebSockets; scaled by an HPA on CPU, drained on SIGTERM',
  },
] as const satisfies readonly Deployable[];

export type DeployableName = (typeof DEPLOYMENTS)[number]['name'];
export type FunctionName = Exclude<DeployableName, 'connection-gateway'>;
export type CloudEventFunctionName = Extract<
  (typeof DEPLOYMENTS)[number],
  { kind: 'cloudevent' }
>['name'];
export type HttpFunctionName = Extract<(typeof DEPLOYMENTS)[number], { kind: 'http' }>['name'];

/** The functions (everything but the gateway). */
export const FUNCTIONS: readonly (HttpFunction | CloudEventFunctionDeployable)[] =
  DEPLOYMENTS.filter(
    (d): d is (typeof DEPLOYMENTS)[number] & { kind: 'http' | 'cloudevent' } =>
      d.kind !== 'gateway',
  );

/** The CloudEvent functions, each with the KafkaSource that triggers it. */
export const CLOUDEVENT_FUNCTIONS: readonly CloudEventFunctionDeployable[] = DEPLOYMENTS.filter(
  (d) => d.kind === 'cloudevent',
);

/** @example deployment('message-write').trigger.consumerGroup // 'parley-message-write' */
export function deployment<N extends DeployableName>(
  name: N,
): Extract<(typeof DEPLOYMENTS)[number], { name: N }> {
  const d = DEPLOYMENTS.find((x) => x.name === name);
  if (!d) throw new Error(`no deployable ${name}`);
  return d as Extract<(typeof DEPLOYMENTS)[number], { name: N }>;
}

/** One KafkaSource of a CloudEvent function: one topic, its own consumer group, its ordering. */
export interface TriggerSource {
  /** `<function>` for a one-topic trigger, else `<function>-<topic tail>` (the resource and process name). */
  name: string;
  function: string;
  topic: Topic;
  consumerGroup: string;
  /** Knative's `spec.ordering` of this source: unordered if the trigger says so for its topic. */
  ordering: DeliveryOrdering;
}

/** `parley.message.events` → `message-events`. */
const topicTail = (topic: string) => topic.replace(/^parley\./, '').replaceAll('.', '-');

/**
 * The KafkaSources of a CloudEvent function, one per trigger topic. A one-topic trigger keeps the
 * function's name and group; a trigger of several topics gets one source per topic, named and
 * grouped by the topic's tail, so each topic's offsets, lag and dead letters stay its own.
 * @example sourcesOf(deployment('notify')).map((s) => s.consumerGroup) // ['parley-notify.message-events', …]
 */
export function sourcesOf(d: CloudEventFunctionDeployable): TriggerSource[] {
  const { topics, consumerGroup, unordered } = d.trigger;
  const ordering = (topic: Topic): DeliveryOrdering =>
    unordered?.topics.includes(topic) ? 'unordered' : 'ordered';
  if (topics.length === 1) {
    const topic = topics[0] as Topic;
    return [{ name: d.name, function: d.name, topic, consumerGroup, ordering: ordering(topic) }];
  }
  return topics.map((topic) => ({
    name: `${d.name}-${topicTail(topic)}`,
    function: d.name,
    topic,
    consumerGroup: `${consumerGroup}.${topicTail(topic)}`,
    ordering: ordering(topic),
  }));
}

/** Every KafkaSource of the table. */
export const TRIGGER_SOURCES: readonly TriggerSource[] = CLOUDEVENT_FUNCTIONS.flatMap(sourcesOf);

/** The environment URL variable other deployables use to reach an HTTP function. */
export const URL_ENV: Partial<Record<DeployableName, EnvName>> = {
  users: 'USERS_URL',
  rooms: 'ROOMS_URL',
  messages: 'MESSAGES_URL',
  search: 'SEARCH_URL',
  notifications: 'NOTIFICATIONS_URL',
};
