/**
 * Every metric name Parley's processes export, in one place: the rules (ops/prometheus/rules.yml),
 * the dashboards (ops/src/queries.ts) and their tests check the names they use against this list,
 * so a typo or a renamed metric fails a unit test instead of drawing an empty panel or an alert
 * that can never fire. The names and labels are the binding ones of issue 13's design
 * (docs/operations.md, "Metrics"). Every series also carries `service` (the registry's default
 * label, runtime/src/ops.ts `createMetricsRegistry`) and, once scraped, `job` and `instance`;
 * those are not repeated in `labels`.
 */

/** The Prometheus metric types Parley uses. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One exported metric: its type and its own labels (beyond `service`, `job`, `instance`). */
export interface MetricSpec {
  type: MetricType;
  labels: readonly string[];
}

/** Every metric by name. */
export const METRIC_SPECS = {
  // RED per HTTP route: every HTTP function and the gateway's HTTP API (runtime/src/http-metrics.ts).
  parley_http_requests_total: { type: 'counter', labels: ['route', 'method', 'code'] },
  parley_http_request_duration_seconds: { type: 'histogram', labels: ['route', 'method'] },

  // RED per CloudEvent type (eventing/src/cloudevent-function.ts).
  parley_events_handled_total: { type: 'counter', labels: ['function', 'type', 'outcome', 'code'] },
  parley_event_handle_seconds: { type: 'histogram', labels: ['function', 'type'] },

  // KafkaSource / KafkaSink stand-ins (eventing/src/kafka).
  parley_source_delivered_total: { type: 'counter', labels: ['group', 'topic'] },
  parley_source_retried_total: { type: 'counter', labels: ['group', 'topic'] },
  parley_source_dead_lettered_total: { type: 'counter', labels: ['group', 'topic', 'reason'] },
  parley_source_delivery_seconds: { type: 'histogram', labels: ['group', 'topic'] },
  parley_sink_events_total: { type: 'counter', labels: ['type', 'outcome'] },
  parley_sink_produce_seconds: { type: 'histogram', labels: ['type'] },
  parley_sink_produce_batch_records: { type: 'histogram', labels: [] },
  parley_kafka_consumer_lag: { type: 'gauge', labels: ['group', 'topic', 'partition'] },
  parley_kafka_consumer_committed_offset: {
    type: 'gauge',
    labels: ['group', 'topic', 'partition'],
  },
  parley_kafka_consumer_lag_poll_errors_total: { type: 'counter', labels: ['group'] },

  // Connection gateway (WebSockets).
  parley_gateway_connections: { type: 'gauge', labels: [] },
  parley_gateway_handshakes_total: { type: 'counter', labels: ['outcome'] },
  parley_gateway_handshakes_refused_total: { type: 'counter', labels: ['reason'] },
  parley_gateway_frames_in_total: { type: 'counter', labels: ['type'] },
  parley_gateway_frames_out_total: { type: 'counter', labels: ['type'] },
  parley_gateway_frames_refused_total: { type: 'counter', labels: ['code'] },
  parley_gateway_fanout_deliveries_total: { type: 'counter', labels: ['kind'] },
  parley_gateway_slow_reader_closes_total: { type: 'counter', labels: [] },
  parley_gateway_send_deliver_seconds: { type: 'histogram', labels: [] },
  parley_gateway_heartbeat_drops_total: { type: 'counter', labels: [] },
  parley_gateway_http_refused_total: { type: 'counter', labels: ['rule'] },
  parley_gateway_presence_changes_total: { type: 'counter', labels: ['online'] },

  // Stores (stores/).
  parley_db_pool_connections: { type: 'gauge', labels: ['database', 'shard', 'state'] },
  parley_db_pool_max_connections: { type: 'gauge', labels: ['database', 'shard'] },
  parley_db_shard_up: { type: 'gauge', labels: ['database', 'shard'] },
  parley_redis_command_duration_seconds: { type: 'histogram', labels: ['command'] },
  parley_elasticsearch_request_duration_seconds: { type: 'histogram', labels: ['operation'] },

  // Functions: cold start, and the per-function metrics that existed before issue 13.
  parley_cold_start_seconds: { type: 'gauge', labels: [] },
  parley_message_store_latency_seconds: { type: 'histogram', labels: [] },
  parley_message_commit_batch_size: { type: 'histogram', labels: [] },
  parley_recent_cache_add_failures_total: { type: 'counter', labels: [] },
  parley_recent_cache_reads_total: { type: 'counter', labels: ['outcome'] },
  parley_notify_mentions_created_total: { type: 'counter', labels: [] },
  parley_notify_markers_moved_total: { type: 'counter', labels: ['cause'] },
  parley_search_index_lag_seconds: { type: 'histogram', labels: [] },
  parley_search_bulk_size: { type: 'histogram', labels: [] },
  parley_search_index_writes_total: { type: 'counter', labels: ['outcome'] },
  parley_search_query_seconds: { type: 'histogram', labels: ['sort', 'outcome'] },
  parley_users_kdf_refused_total: { type: 'counter', labels: [] },

  // prom-client's default metrics (collectDefaultMetrics), the ones rules and dashboards use.
  process_start_time_seconds: { type: 'gauge', labels: [] },
  process_cpu_seconds_total: { type: 'counter', labels: [] },
  process_resident_memory_bytes: { type: 'gauge', labels: [] },
  nodejs_eventloop_lag_seconds: { type: 'gauge', labels: [] },
  nodejs_heap_size_used_bytes: { type: 'gauge', labels: [] },

  // Written by Prometheus itself for every scrape target.
  up: { type: 'gauge', labels: [] },
} as const satisfies Record<string, MetricSpec>;

/** A metric name Parley exports. */
export type MetricName = keyof typeof METRIC_SPECS;

/** Every metric name, e.g. for a test that checks the names a query uses. */
export const METRICS = Object.keys(METRIC_SPECS) as MetricName[];

/**
 * The metric a series name belongs to: a histogram's `_bucket`, `_sum` and `_count` series map
 * to the histogram; any other known name to itself; an unknown name to `undefined`.
 * @example metricOfSeries('parley_http_request_duration_seconds_bucket') // 'parley_http_request_duration_seconds'
 */
export function metricOfSeries(series: string): MetricName | undefined {
  if (Object.hasOwn(METRIC_SPECS, series)) return series as MetricName;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const base = m?.[1];
  if (base && Object.hasOwn(METRIC_SPECS, base)) {
    if (METRIC_SPECS[base as MetricName].type === 'histogram') return base as MetricName;
  }
  return undefined;
}
