/**
 * Every Grafana panel query, in one place. ops/src/dashboards.ts turns this list into the dashboards
 * ops/grafana/dashboards/<dashboard>.json (`npm run dashboards`); the unit tests check that every
 * query names only metrics and labels Parley exports (ops/src/metrics.ts), and the real test asks a
 * real Prometheus every query after some chat traffic and expects data from each.
 *
 * Conventions:
 * - aggregate by `service` (the registry's default label) and the metric's own labels, never by
 *   `job` or `instance` (they differ between the local run and Kubernetes);
 * - rates over `$__rate_interval` (Grafana picks it from the scrape interval); `promql()` turns a
 *   query into one Prometheus answers as it is;
 * - a series that exists only once something went wrong (a refused handshake, a dead letter, a 5xx)
 *   gets a fallback so that "nothing went wrong" draws a zero instead of "No data": `or vector(0)`
 *   for a single number, `or <the traffic it is a share of> * 0` to keep the labels of a breakdown.
 */

/** The dashboards, in the order of their links. */
export const DASHBOARDS = {
  overview: 'Parley / Overview',
  messages: 'Parley / Messages path',
  gateway: 'Parley / Gateway',
  functions: 'Parley / Functions',
  search: 'Parley / Search',
} as const;

export type DashboardName = keyof typeof DASHBOARDS;

/**
 * Grafana units (the `unit` of a field): `reqps` requests/s, `ops` operations/s, `s` seconds,
 * `percentunit` a 0–1 share, `short` a plain number.
 */
export type Unit = 'reqps' | 'ops' | 's' | 'percentunit' | 'short';

/** One panel and its one query. */
export interface PanelQuery {
  dashboard: DashboardName;
  /** Unique across all dashboards, stable (the real test reports failures by it). */
  id: string;
  title: string;
  /** PromQL, with Grafana's `$__rate_interval` for rate windows. */
  expr: string;
  unit: Unit;
  /** Grafana legend format: `{{label}}` for each label the query keeps, or a fixed name. */
  legend: string;
  /** `stat` for a single current number; `timeseries` (default) for a graph. */
  kind?: 'stat' | 'timeseries';
  /** Shown as the panel's description (hover): what to read from it. */
  description?: string;
}

const R = '$__rate_interval';
const rate = (selector: string) => `rate(${selector}[${R}])`;
/** The q-quantile of a histogram, kept by `by` (plus `le`). */
const quantile = (q: number, metric: string, by: string[] = [], filter = '') =>
  `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rate(`${metric}_bucket${filter}`)}))`;
/**
 * The share of `all` that matches `bad`, by `by`: zero (not "No data") where nothing failed.
 * @example errorRatio('parley_http_requests_total', '{code=~"5.."}', ['service'])
 */
const errorRatio = (metric: string, bad: string, by: string[]) => {
  const g = by.join(', ');
  const all = `sum by (${g}) (${rate(metric)})`;
  return `(sum by (${g}) (${rate(`${metric}${bad}`)}) or ${all} * 0) / ${all}`;
};

/** Every panel of every dashboard, in display order. */
export const PANELS: readonly PanelQuery[] = [
  // ---------------------------------------------------------------------------------- overview
  {
    dashboard: 'overview',
    id: 'overview.sent',
    title: 'Send frames /s',
    description:
      '`send` frames the gateways received, refused ones (rate limits, invalid, not a member) included',
    kind: 'stat',
    expr: `sum(${rate('parley_gateway_frames_in_total{type="send"}')})`,
    unit: 'ops',
    legend: 'sent',
  },
  {
    dashboard: 'overview',
    id: 'overview.send-deliver-p99',
    title: 'Send → deliver p99',
    kind: 'stat',
    expr: quantile(0.99, 'parley_gateway_send_deliver_seconds'),
    unit: 's',
    legend: 'p99',
  },
  {
    dashboard: 'overview',
    id: 'overview.connections',
    title: 'Open WebSockets',
    kind: 'stat',
    expr: 'sum(parley_gateway_connections)',
    unit: 'short',
    legend: 'connections',
  },
  {
    dashboard: 'overview',
    id: 'overview.consumer-lag',
    title: 'Consumer lag (records)',
    kind: 'stat',
    // Every replica of a group's source reports the group's whole lag: one value per partition.
    expr: 'sum(max by (group, topic, partition) (parley_kafka_consumer_lag))',
    unit: 'short',
    legend: 'lag',
  },
  {
    dashboard: 'overview',
    id: 'overview.http-rate',
    title: 'HTTP requests /s by service',
    expr: `sum by (service) (${rate('parley_http_requests_total')})`,
    unit: 'reqps',
    legend: '{{service}}',
  },
  {
    dashboard: 'overview',
    id: 'overview.http-errors',
    title: 'HTTP 5xx share by service',
    expr: errorRatio('parley_http_requests_total', '{code=~"5.."}', ['service']),
    unit: 'percentunit',
    legend: '{{service}}',
  },
  {
    dashboard: 'overview',
    id: 'overview.event-errors',
    title: 'CloudEvents not handled (share) by function',
    expr: errorRatio('parley_events_handled_total', '{outcome!="ok"}', ['function']),
    unit: 'percentunit',
    legend: '{{function}}',
    description: 'retry + refused over all handled; retries are redelivered by the source.',
  },
  {
    dashboard: 'overview',
    id: 'overview.instances',
    title: 'Running instances by service',
    // One process_start_time_seconds per running process: scale to zero shows as no series.
    expr: 'count by (service) (process_start_time_seconds)',
    unit: 'short',
    legend: '{{service}}',
  },
  {
    dashboard: 'overview',
    id: 'overview.dead-letters',
    title: 'Dead-lettered events (1 h)',
    kind: 'stat',
    // Only written on failure: no series is a legitimate zero.
    expr: 'sum(increase(parley_source_dead_lettered_total[1h])) or vector(0)',
    unit: 'short',
    legend: 'dead letters',
  },
  {
    dashboard: 'overview',
    id: 'overview.shards-down',
    title: 'Database shards down',
    kind: 'stat',
    expr: 'count(min by (database, shard) (parley_db_shard_up) == 0) or vector(0)',
    unit: 'short',
    legend: 'down',
  },

  // ---------------------------------------------------------------------------------- messages
  {
    dashboard: 'messages',
    id: 'messages.sent-stored',
    title: 'Send frames vs stored /s',
    description:
      'Send frames: every `send` the gateways received, refused ones included (their refusals are on the gateway dashboard); stored: sends message-write handled',
    // Sent: `send` frames at the gateways; stored: message.send commands message-write handled.
    expr:
      `label_replace(sum(${rate('parley_gateway_frames_in_total{type="send"}')}), "step", "sent", "", "")` +
      ` or label_replace(sum(${rate('parley_events_handled_total{function="message-write",type="parley.message.send",outcome="ok"}')}), "step", "stored", "", "")`,
    unit: 'ops',
    legend: '{{step}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.send-deliver',
    title: 'Send → deliver latency',
    expr:
      `label_replace(${quantile(0.5, 'parley_gateway_send_deliver_seconds')}, "q", "p50", "", "")` +
      ` or label_replace(${quantile(0.99, 'parley_gateway_send_deliver_seconds')}, "q", "p99", "", "")`,
    unit: 's',
    legend: '{{q}}',
    description:
      'From the send frame at the sender’s gateway to the message frame written at a receiving gateway.',
  },
  {
    dashboard: 'messages',
    id: 'messages.lag-group',
    title: 'Consumer lag by group',
    // Every replica of a group's source reports the group's whole lag: one value per partition.
    expr: 'sum by (group) (max by (group, topic, partition) (parley_kafka_consumer_lag))',
    unit: 'short',
    legend: '{{group}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.lag-partition',
    title: 'Consumer lag by group, topic and partition',
    // By topic too: a group may read several topics (notify reads three), each with a partition 0.
    expr: 'max by (group, topic, partition) (parley_kafka_consumer_lag)',
    unit: 'short',
    legend: '{{group}} {{topic}}[{{partition}}]',
  },
  {
    dashboard: 'messages',
    id: 'messages.delivered',
    title: 'Delivered by the sources /s',
    expr: `sum by (group) (${rate('parley_source_delivered_total')})`,
    unit: 'ops',
    legend: '{{group}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.retried',
    title: 'Redeliveries /s',
    // Only written when a delivery failed: zero per group where nothing was retried.
    expr:
      `sum by (group) (${rate('parley_source_retried_total')})` +
      ` or sum by (group) (${rate('parley_source_delivered_total')}) * 0`,
    unit: 'ops',
    legend: '{{group}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.dead-letters',
    title: 'Dead-lettered /s',
    // Only written on failure: zero per group where nothing was dead-lettered.
    expr:
      `sum by (group) (${rate('parley_source_dead_lettered_total')})` +
      ` or sum by (group) (${rate('parley_source_delivered_total')}) * 0`,
    unit: 'ops',
    legend: '{{group}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.source-delivery-p99',
    title: 'Source delivery p99 by group',
    expr: quantile(0.99, 'parley_source_delivery_seconds', ['group']),
    unit: 's',
    legend: '{{group}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.sink-produce-p99',
    title: 'Sink produce p99 by type',
    expr: quantile(0.99, 'parley_sink_produce_seconds', ['type']),
    unit: 's',
    legend: '{{type}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.sink-events',
    title: 'Sink events /s by outcome',
    expr: `sum by (outcome) (${rate('parley_sink_events_total')})`,
    unit: 'ops',
    legend: '{{outcome}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.write-p99',
    title: 'message-write handle p99',
    expr: quantile(0.99, 'parley_event_handle_seconds', ['type'], '{function="message-write"}'),
    unit: 's',
    legend: '{{type}}',
  },
  {
    dashboard: 'messages',
    id: 'messages.store-p99',
    title: 'message-write store p99',
    expr: quantile(0.99, 'parley_message_store_latency_seconds'),
    unit: 's',
    legend: 'p99',
  },
  {
    dashboard: 'messages',
    id: 'messages.batch-size',
    title: 'message-write commit batch size (mean)',
    expr:
      `sum(${rate('parley_message_commit_batch_size_sum')})` +
      ` / sum(${rate('parley_message_commit_batch_size_count')})`,
    unit: 'short',
    legend: 'messages per commit',
  },
  {
    dashboard: 'messages',
    id: 'messages.sink-batch',
    title: 'Sink produce batch (mean records)',
    expr:
      `sum(${rate('parley_sink_produce_batch_records_sum')})` +
      ` / sum(${rate('parley_sink_produce_batch_records_count')})`,
    unit: 'short',
    legend: 'records per batch',
  },

  // ---------------------------------------------------------------------------------- gateway
  {
    dashboard: 'gateway',
    id: 'gateway.connections',
    title: 'Open WebSockets',
    expr: 'sum by (service) (parley_gateway_connections)',
    unit: 'short',
    legend: '{{service}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.handshakes',
    title: 'Handshakes /s by outcome',
    expr: `sum by (outcome) (${rate('parley_gateway_handshakes_total')})`,
    unit: 'ops',
    legend: '{{outcome}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.refusals',
    title: 'Handshakes refused /s by reason',
    // Only written on a refusal: no series is a legitimate zero.
    expr: `sum by (reason) (${rate('parley_gateway_handshakes_refused_total')}) or vector(0)`,
    unit: 'ops',
    legend: '{{reason}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.frames-in',
    title: 'Frames in /s by type',
    expr: `sum by (type) (${rate('parley_gateway_frames_in_total')})`,
    unit: 'ops',
    legend: '{{type}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.frames-out',
    title: 'Frames out /s by type',
    expr: `sum by (type) (${rate('parley_gateway_frames_out_total')})`,
    unit: 'ops',
    legend: '{{type}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.frames-refused',
    title: 'Frames refused /s by code',
    // Only written on a refusal: no series is a legitimate zero.
    expr: `sum by (code) (${rate('parley_gateway_frames_refused_total')}) or vector(0)`,
    unit: 'ops',
    legend: '{{code}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.fanout',
    title: 'Fan-out deliveries /s by kind',
    expr: `sum by (kind) (${rate('parley_gateway_fanout_deliveries_total')})`,
    unit: 'ops',
    legend: '{{kind}}',
    description: 'Frames written to sockets by the fan-out, one per socket.',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.slow-readers',
    title: 'Slow-reader closes /s',
    // Closes happen only under back-pressure: no series is a legitimate zero.
    expr: `sum(${rate('parley_gateway_slow_reader_closes_total')}) or vector(0)`,
    unit: 'ops',
    legend: 'closed',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.heartbeat-drops',
    title: 'Heartbeat drops /s',
    // Drops happen only when a client stops answering pings: no series is a legitimate zero.
    expr: `sum(${rate('parley_gateway_heartbeat_drops_total')}) or vector(0)`,
    unit: 'ops',
    legend: 'dropped',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.http-refused',
    title: 'HTTP API refused /s by rule',
    // Only written on a refusal: no series is a legitimate zero.
    expr: `sum by (rule) (${rate('parley_gateway_http_refused_total')}) or vector(0)`,
    unit: 'ops',
    legend: '{{rule}}',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.send-deliver-p99',
    title: 'Send → deliver p99',
    expr: quantile(0.99, 'parley_gateway_send_deliver_seconds'),
    unit: 's',
    legend: 'p99',
  },
  {
    dashboard: 'gateway',
    id: 'gateway.event-loop-lag',
    title: 'Event-loop lag (worst instance)',
    expr: 'max by (service) (nodejs_eventloop_lag_seconds{service="connection-gateway"})',
    unit: 's',
    legend: '{{service}}',
  },

  // ---------------------------------------------------------------------------------- functions
  {
    dashboard: 'functions',
    id: 'functions.http-rate',
    title: 'HTTP requests /s by route',
    expr: `sum by (service, method, route) (${rate('parley_http_requests_total')})`,
    unit: 'reqps',
    legend: '{{service}} {{method}} {{route}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.http-codes',
    title: 'HTTP responses /s by code',
    expr: `sum by (service, code) (${rate('parley_http_requests_total')})`,
    unit: 'reqps',
    legend: '{{service}} {{code}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.http-errors',
    title: 'HTTP 5xx share by route',
    expr: errorRatio('parley_http_requests_total', '{code=~"5.."}', ['service', 'route']),
    unit: 'percentunit',
    legend: '{{service}} {{route}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.http-p99',
    title: 'HTTP p99 by route',
    expr: quantile(0.99, 'parley_http_request_duration_seconds', ['service', 'route']),
    unit: 's',
    legend: '{{service}} {{route}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.events-rate',
    title: 'CloudEvents handled /s by type',
    expr: `sum by (function, type) (${rate('parley_events_handled_total')})`,
    unit: 'ops',
    legend: '{{function}} {{type}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.events-errors',
    title: 'CloudEvents not handled (share) by type',
    expr: errorRatio('parley_events_handled_total', '{outcome!="ok"}', ['function', 'type']),
    unit: 'percentunit',
    legend: '{{function}} {{type}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.events-codes',
    title: 'CloudEvents not handled /s by code',
    // Only written on failure: zero per function where every event was handled.
    expr:
      `sum by (function, code) (${rate('parley_events_handled_total{outcome!="ok"}')})` +
      ` or sum by (function) (${rate('parley_events_handled_total')}) * 0`,
    unit: 'ops',
    legend: '{{function}} {{code}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.events-p99',
    title: 'CloudEvent handle p99 by type',
    expr: quantile(0.99, 'parley_event_handle_seconds', ['function', 'type']),
    unit: 's',
    legend: '{{function}} {{type}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.cold-start',
    title: 'Cold start (slowest instance)',
    expr: 'max by (service) (parley_cold_start_seconds)',
    unit: 's',
    legend: '{{service}}',
    description: 'Process start to ready with its adapters built; set once per instance.',
  },
  {
    dashboard: 'functions',
    id: 'functions.scale',
    title: 'Running instances by service',
    // One process_start_time_seconds per running process: a function scaled to zero has none.
    expr: 'count by (service) (process_start_time_seconds)',
    unit: 'short',
    legend: '{{service}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.db-pool',
    title: 'DB pool in use (share) by shard',
    expr:
      'sum by (service, database, shard) (parley_db_pool_connections{state="used"})' +
      ' / sum by (service, database, shard) (parley_db_pool_max_connections)',
    unit: 'percentunit',
    legend: '{{service}} {{database}}/{{shard}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.db-queued',
    title: 'DB pool queued requests by shard',
    expr: 'sum by (database, shard) (parley_db_pool_connections{state="queued"})',
    unit: 'short',
    legend: '{{database}}/{{shard}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.shard-up',
    title: 'Shard up (worst reader)',
    expr: 'min by (database, shard) (parley_db_shard_up)',
    unit: 'short',
    legend: '{{database}}/{{shard}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.redis-p99',
    title: 'Redis p99 by command',
    expr: quantile(0.99, 'parley_redis_command_duration_seconds', ['command']),
    unit: 's',
    legend: '{{command}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.cpu',
    title: 'CPU by service (cores)',
    expr: `sum by (service) (${rate('process_cpu_seconds_total')})`,
    unit: 'short',
    legend: '{{service}}',
  },
  {
    dashboard: 'functions',
    id: 'functions.event-loop-lag',
    title: 'Event-loop lag (worst instance)',
    expr: 'max by (service) (nodejs_eventloop_lag_seconds)',
    unit: 's',
    legend: '{{service}}',
  },

  // ---------------------------------------------------------------------------------- search
  {
    dashboard: 'search',
    id: 'search.es-p99',
    title: 'Elasticsearch request p99 by operation',
    expr: quantile(0.99, 'parley_elasticsearch_request_duration_seconds', ['operation']),
    unit: 's',
    legend: '{{operation}}',
  },
  {
    dashboard: 'search',
    id: 'search.es-rate',
    title: 'Elasticsearch requests /s by operation',
    expr: `sum by (service, operation) (${rate('parley_elasticsearch_request_duration_seconds_count')})`,
    unit: 'ops',
    legend: '{{service}} {{operation}}',
  },
  {
    dashboard: 'search',
    id: 'search.index-lag',
    title: 'Index lag (stored → searchable)',
    expr:
      `label_replace(${quantile(0.5, 'parley_search_index_lag_seconds')}, "q", "p50", "", "")` +
      ` or label_replace(${quantile(0.99, 'parley_search_index_lag_seconds')}, "q", "p99", "", "")`,
    unit: 's',
    legend: '{{q}}',
  },
  {
    dashboard: 'search',
    id: 'search.bulk-size',
    title: 'Bulk size (mean documents)',
    expr:
      `sum(${rate('parley_search_bulk_size_sum')})` +
      ` / sum(${rate('parley_search_bulk_size_count')})`,
    unit: 'short',
    legend: 'documents per bulk',
  },
  {
    dashboard: 'search',
    id: 'search.index-writes',
    title: 'Index writes /s by outcome',
    expr: `sum by (outcome) (${rate('parley_search_index_writes_total')})`,
    unit: 'ops',
    legend: '{{outcome}}',
  },
  {
    dashboard: 'search',
    id: 'search.query-p99',
    title: 'Search query p99 by sort',
    expr: quantile(0.99, 'parley_search_query_seconds', ['sort']),
    unit: 's',
    legend: '{{sort}}',
  },
  {
    dashboard: 'search',
    id: 'search.query-rate',
    title: 'Search queries /s by outcome',
    expr: `sum by (outcome) (${rate('parley_search_query_seconds_count')})`,
    unit: 'reqps',
    legend: '{{outcome}}',
  },
];

/** The panels of one dashboard, in display order. */
export const panelsOf = (dashboard: DashboardName): PanelQuery[] =>
  PANELS.filter((p) => p.dashboard === dashboard);

/**
 * A panel's query as Prometheus answers it outside Grafana (the real test, promtool): Grafana's
 * `$__rate_interval` replaced by a fixed window.
 * @example promql('rate(x[$__rate_interval])', '1m') // 'rate(x[1m])'
 */
export function promql(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll(R, rateInterval);
}

/**
 * What a query reads and keeps, for the tests (a PromQL scanner good for the queries above and the
 * expressions of ops/prometheus/rules.yml).
 */
export interface QueryParts {
  /** Series names read (`parley_x_bucket`, `up`, ...). */
  series: string[];
  /** Label names used in selectors (`{code=~"5.."}` → `code`), per series name. */
  matchers: { series: string; label: string }[];
  /** Label names of every `by (...)` clause. */
  grouping: string[];
  /** Labels a `label_replace` writes. */
  added: string[];
}

const KEYWORDS = new Set([
  'by',
  'without',
  'or',
  'and',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
]);

/**
 * Splits a query into the series it reads, the labels its selectors and `by` clauses name, and the
 * labels `label_replace` adds.
 * @example queryParts('sum by (group) (rate(parley_source_delivered_total{topic="t"}[1m]))')
 *   // { series: ['parley_source_delivered_total'], matchers: [{ series: 'parley_source_delivered_total', label: 'topic' }], grouping: ['group'], added: [] }
 */
export function queryParts(expr: string): QueryParts {
  const added = [
    ...expr.matchAll(/,\s*"([a-zA-Z_]\w*)",\s*"[^"]*",\s*"[^"]*",\s*"[^"]*"\s*\)/g),
  ].map((m) => m[1] as string);
  // Strings hold values and regexes, never names: blank them before looking for names.
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const matchers: QueryParts['matchers'] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g))
    for (const l of (m[2] as string).matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g))
      matchers.push({ series: m[1] as string, label: l[1] as string });
  const grouping = [...bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const names = bare
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // Not after a digit or a dot: the `m` of `offset 15m` or the `e` of `1e3` is no name.
  const series = [...names.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1] as string))
    .map((m) => m[1] as string);
  return { series: [...new Set(series)], matchers, grouping: [...new Set(grouping)], added };
}
