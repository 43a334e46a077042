/**
 * The choices the manifests make that the deployment table does not: names,
 * the ConfigMap's values, autoscaling, resources, probes and the delivery
 * spec (which is not chosen here but read from the local KafkaSource
 * stand-in, so the two cannot differ). Each choice says why; docs/operations.md
 * and knative/README.md explain them for the operator.
 */
import { TOPIC_PARTITIONS } from '@parley/eventing/catalog';
import type { CloudEventFunctionDeployable, ENV, EnvName } from '@parley/eventing/deployments';
import { KafkaSourceConfig } from '@parley/eventing/kafka/config';

export const NAMESPACE = 'parley';
/** Holds every `secret` variable; created by the operator, never committed (docs/operations.md). */
export const SECRET_NAME = 'parley-secrets';
/** Holds every `config` variable; part of the base. */
export const CONFIG_MAP_NAME = 'parley-config';
/** What Knative sets PORT to, and the port every function and the gateway listen on. */
export const CONTAINER_PORT = 8080;
/**
 * The private port every function and the gateway serve `/metrics` on (METRICS_PORT): never
 * declared to a Service or a Knative route, so neither the ingress nor another workload reaching
 * a function through its URL gets it; Prometheus scrapes it on the pod's address
 * (`prometheus.io/port`). A Knative container declares one port only (the serving one), so there
 * it is not declared at all; the gateway's Deployment names it `metrics`. 9464 is the Prometheus
 * exporter port of OpenTelemetry's SDKs; it is none of the ports Knative's queue-proxy takes in the
 * same pod (KNATIVE_RESERVED_PORTS).
 */
export const METRICS_PORT = 9464;
/**
 * Ports of a Knative pod that the user container must not take (knative.dev/serving
 * pkg/apis/serving/k8s_validation.go `reservedPorts`): the queue-proxy's 8012 (HTTP/1), 8013
 * (HTTP/2), 8022 (admin), 9090 (autoscaling metrics), 9091 (request metrics), and 8008 (profiling).
 */
export const KNATIVE_RESERVED_PORTS: readonly number[] = [8012, 8013, 8022, 9090, 9091, 8008];
/** The images' user (functions/Dockerfile and connection-gateway/Dockerfile: `USER 1000:1000`). */
export const RUN_AS = 1000;

/** The cluster-local address Knative gives a Service `name` in the namespace. */
export const serviceUrl = (name: string): string => `http://${name}.${NAMESPACE}.svc.cluster.local`;

/**
 * The Strimzi Kafka cluster the topics belong to (label `strimzi.io/cluster`) and its bootstrap
 * service: placeholders for the operator's cluster (a Strimzi cluster named `parley-kafka` in the
 * namespace `kafka`), overridden per overlay. KAFKA_BROKERS below is the one place an overlay changes
 * the bootstrap address: its `replacements` copy it into every KafkaSource and KafkaSink.
 */
export const KAFKA_CLUSTER = 'parley-kafka';
export const KAFKA_BOOTSTRAP = `${KAFKA_CLUSTER}-kafka-bootstrap.kafka.svc.cluster.local:9092`;

type ConfigEnvName = {
  [K in EnvName]: (typeof ENV)[K]['source'] extends 'config' ? K : never;
}[EnvName];

/**
 * The values of every `config` variable (the type makes a new one in the table fail to compile
 * until it has a value here). Defaults are the processes' own defaults, so the ConfigMap only makes
 * them visible and changeable in one place.
 */
export const CONFIG_VALUES: Record<ConfigEnvName, string> = {
  LOG_LEVEL: 'info',
  // Tracing is off until an overlay names the cluster's OTLP receiver (a collector or Jaeger's
  // :4318); then every new trace is kept unless the overlay lowers the ratio.
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_TRACES_SAMPLER_ARG: '1',
  KAFKA_BROKERS: KAFKA_BOOTSTRAP,
  USERS_URL: serviceUrl('users'),
  ROOMS_URL: serviceUrl('rooms'),
  MESSAGES_URL: serviceUrl('messages'),
  SEARCH_URL: serviceUrl('search'),
  NOTIFICATIONS_URL: serviceUrl('notifications'),
  PRESENCE_TTL_MS: '30000',
  // stores/search-index/src/config.ts defaults, but one replica: a cluster has more than one node.
  SEARCH_INDEX_ALIAS: 'parley-messages',
  SEARCH_INDEX_SHARDS: '1',
  SEARCH_INDEX_REPLICAS: '1',
  SEARCH_REFRESH_INTERVAL: '1s',
  // The public origin of the web client: a placeholder every overlay sets.
  ALLOWED_ORIGINS: 'https://chat.example.com',
  // connection-gateway/src/config.ts defaults.
  RATE_FRAMES_PER_SEC: '20',
  RATE_BURST: '200',
  ABUSE_STRIKES: '20',
  COMMAND_TIMEOUT_MS: '10000',
  DRAIN_TIMEOUT_MS: '10000',
  // The gateway is a plain Deployment behind the cluster's ingress, which appends one
  // X-Forwarded-For entry; an overlay with more proxies in front raises it.
  TRUSTED_PROXY_HOPS: '1',
  // connection-gateway/src/config.ts defaults: per-user WebSocket budgets, connection caps,
  // heartbeat and HTTP timeouts (docs/protocol.md, Limits).
  RATE_USER_FRAMES_PER_SEC: '60',
  RATE_USER_BURST: '400',
  RATE_SEND_PER_SEC: '10',
  RATE_SEND_BURST: '200',
  RATE_SYNC_PER_SEC: '5',
  RATE_SYNC_BURST: '50',
  RATE_TYPING_READ_PER_SEC: '5',
  RATE_TYPING_READ_BURST: '50',
  RATE_HISTORY_BYTES_PER_SEC: '1048576',
  RATE_HISTORY_BYTES_BURST: '4194304',
  RATE_LIMITED_STRIKES: '300',
  MAX_SOCKETS_PER_USER: '20',
  MAX_SOCKETS_PER_ADDRESS: '100',
  MAX_CONNECTIONS: '10000',
  HEARTBEAT_INTERVAL_MS: '30000',
  HTTP_HEADERS_TIMEOUT_MS: '10000',
  HTTP_REQUEST_TIMEOUT_MS: '30000',
  HANDSHAKE_TIMEOUT_MS: '10000',
  // connection-gateway/src/config.ts defaults: HTTP rate limits, login and sign-up throttles.
  RATE_HTTP_ADDRESS_PER_SEC: '20',
  RATE_HTTP_ADDRESS_BURST: '100',
  RATE_HTTP_USER_PER_SEC: '10',
  RATE_HTTP_USER_BURST: '50',
  LOGIN_FREE_FAILURES: '5',
  LOGIN_ADDRESS_FREE_FAILURES: '50',
  LOGIN_USER_FAILURE_BUDGET: '20',
  SIGNUPS_PER_ADDRESS_PER_HOUR: '10',
  // functions/users: two hashes at once matches the function's CPU limit of one core (two
  // threads keep it busy while one waits on memory); sixteen waiting is about a second of work.
  KDF_CONCURRENCY: '2',
  KDF_QUEUE_MAX: '16',
};

/**
 * Knative autoscaling per kind of function (KPA, metric = in-flight requests per pod).
 *
 * - HTTP functions answer the gateway: a request costs a few ms of CPU plus one to three database or
 *   Elasticsearch round trips (~10–30 ms). One Node process keeps a core busy with roughly
 *   10 requests in flight (Little's law: ~400 req/s × 25 ms), so the soft `target` is 10 and the
 *   hard `containerConcurrency` 50 keeps a burst queued in the queue-proxy/activator rather than
 *   in the event loop of an overloaded pod. `max-scale` 10 bounds the database connections
 *   (10 per physical shard per pod, runtime/src/mysql/sharded-mysql.ts).
 * - CloudEvent functions are fed by KafkaSources. An ordered one has at most one event per
 *   partition in flight, so at most TOPIC_PARTITIONS (24) per function. message-write spends
 *   ~10 ms of CPU and about as long waiting on MySQL/Redis per message (perf/results/README.md),
 *   so two in flight keep a core busy: `target` 2; a pod beyond one per partition would never get
 *   an event, and like the HTTP functions' 10 `max-scale` bounds the MySQL connections (10 per
 *   physical shard per pod), so it is the smaller of the two. An unordered source (message-index,
 *   notify's message events) has up to `max.poll.records` (50) in flight instead; the same bounds
 *   hold them to a few pods, with the excess queued in front of them (containerConcurrency). Not
 *   yet tuned on a cluster.
 */
export const AUTOSCALING = {
  http: { target: 10, containerConcurrency: 50, maxScale: 10 },
  cloudevent: { target: 2, containerConcurrency: 10, maxScale: Math.min(TOPIC_PARTITIONS, 10) },
} as const;

/** How long the last pod of a scale-to-zero function stays after its last request. */
export const SCALE_TO_ZERO_RETENTION = '5m';

/**
 * Request timeout of every function (Knative `timeoutSeconds`): the KafkaSource gives up on a
 * delivery after its timeout (30 s) and retries, so a function running longer only wastes work;
 * HTTP callers (the gateway) give up sooner (COMMAND_TIMEOUT_MS 10 s).
 */
export const FUNCTION_TIMEOUT_SECONDS = 30;

/**
 * Per pod. Not measured on a cluster yet: a starting point for one Node process with its bundle
 * (functions) and for the gateway, whose memory grows with its sockets. CPU limits are above the
 * requests so a pod may burst during a cold start; watch throttling and RSS and adjust per overlay.
 */
export const RESOURCES = {
  function: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
  gateway: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '768Mi' } },
  migrate: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
} as const;

/** The gateway: an HPA on CPU (its load is sockets and frames, which CPU follows). */
export const GATEWAY = {
  minReplicas: 2,
  maxReplicas: 10,
  cpuUtilization: 70,
  /**
   * Seconds the pod keeps serving after it is marked terminating, before SIGTERM: time for the
   * endpoint removal to reach every kube-proxy and ingress, so no new socket lands on a pod that
   * is about to drain.
   */
  preStopSleepSeconds: 5,
  /** Beyond preStop + DRAIN_TIMEOUT_MS: closing the Kafka producer and Redis after the drain. */
  shutdownMarginSeconds: 15,
} as const;

/** terminationGracePeriodSeconds of the gateway: preStop, then the drain, then the margin. */
export const gatewayGracePeriodSeconds = (drainTimeoutMs: number): number =>
  GATEWAY.preStopSleepSeconds + Math.ceil(drainTimeoutMs / 1000) + GATEWAY.shutdownMarginSeconds;

/** Topic settings (Strimzi KafkaTopic); partitions come from the catalog. */
export const TOPIC = {
  replicas: 3,
  config: {
    'min.insync.replicas': '2',
    /** 7 days: a consumer group that was down for a long weekend still finds its events. */
    'retention.ms': String(7 * 24 * 3600 * 1000),
  },
  /** Dead letters are kept 30 days, for a person to look at and replay. */
  deadLetterConfig: {
    'min.insync.replicas': '2',
    'retention.ms': String(30 * 24 * 3600 * 1000),
  },
} as const;

/** The migration Jobs. */
export const MIGRATE = {
  command: ['node', '--enable-source-maps', 'migrate.mjs'],
  backoffLimit: 4,
  activeDeadlineSeconds: 600,
} as const;

/**
 * The delivery of every KafkaSource: the local stand-in's own defaults
 * (eventing/src/kafka/config.ts, what real mode runs), so Kubernetes and the tests deliver alike.
 */
const standIn = KafkaSourceConfig.parse({
  KAFKA_BROKERS: 'unused:9092',
  SOURCE_TOPICS: 'unused',
  CONSUMER_GROUP: 'unused',
  SINK_URL: 'http://unused/',
});

export const DELIVERY = {
  retry: standIn.DELIVERY_RETRY,
  backoffPolicy: standIn.DELIVERY_BACKOFF_POLICY,
  backoffDelayMs: standIn.DELIVERY_BACKOFF_DELAY_MS,
  backoffMaxMs: standIn.DELIVERY_BACKOFF_MAX_MS,
  timeoutMs: standIn.DELIVERY_TIMEOUT_MS,
  initialOffset: standIn.INITIAL_OFFSET,
} as const;

/** One function's KafkaSource delivery: its trigger's own policy (the table), else the default. */
export function deliveryOf(fn: CloudEventFunctionDeployable): {
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  backoffDelayMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
} {
  const own = fn.trigger.delivery;
  return {
    retry: own?.retry ?? DELIVERY.retry,
    backoffPolicy: own?.backoffPolicy ?? DELIVERY.backoffPolicy,
    backoffDelayMs: own?.backoffDelayMs ?? DELIVERY.backoffDelayMs,
    backoffMaxMs: own?.backoffMaxMs ?? DELIVERY.backoffMaxMs,
    timeoutMs: DELIVERY.timeoutMs,
  };
}

/** An ISO 8601 duration (what Knative's delivery spec takes). @example isoDuration(200) // 'PT0.2S' */
export const isoDuration = (ms: number): string => `PT${ms / 1000}S`;
