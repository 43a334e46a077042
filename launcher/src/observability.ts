/**
 * The operator's tools, run for real on loopback beside a real-mode stack: Prometheus (Debian's
 * package) scraping every process of the stack with Parley's rules loaded, Alertmanager (Debian's)
 * with Parley's routing config, and Jaeger (v1.76.0's `cmd/jaeger`, built from the Go module proxy
 * by tests/infra/observability) taking OTLP over HTTP. Each gets its own temporary data directory
 * and free ports, and `stop()` ends exactly the processes started here.
 *
 * Used by `npm run start:real -- --observe`, the observability test and
 * `npm run bench:observability`.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { freePort, REPO_ROOT } from './infra';
import { spawnLogged, stopProcess, waitHttpOk } from './processes';

const run = promisify(execFile);

export interface ToolPaths {
  PROMETHEUS: string;
  PROMTOOL: string;
  ALERTMANAGER: string;
  AMTOOL: string;
  JAEGER: string;
}

/** Installs (if missing) and locates the tools: `bash tests/infra/observability`. */
export async function toolPaths(): Promise<ToolPaths> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'tests/infra/observability')], {
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  });
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z]+)=(.+)$/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  for (const k of ['PROMETHEUS', 'PROMTOOL', 'ALERTMANAGER', 'AMTOOL', 'JAEGER']) {
    if (!out[k]) throw new Error(`tests/infra/observability did not name ${k}:\n${stdout}`);
  }
  return out as unknown as ToolPaths;
}

/**
 * Parley's rules with their waits shortened for a test that cannot wait minutes: every `for:`
 * becomes `forSeconds`, every range `[Nm]`/`[Nh]` becomes `[rangeSeconds s]`. The expressions and
 * thresholds are the shipped ones.
 */
export function shortenedRules(text: string, forSeconds: number, rangeSeconds: number): string {
  return text
    .replace(/^(\s*for:\s*)\S+/gm, `$1${forSeconds}s`)
    .replace(/\[(\d+)([mh])(:(\d+)([smh]))?\]/g, (_m, _n, _u, sub, subN, subU) =>
      sub ? `[${rangeSeconds}s:${subN}${subU}]` : `[${rangeSeconds}s]`,
    );
}

export interface ObservabilityOptions {
  /** Scrape targets: process name → base URL answering `/metrics` (more with `setTargets`). */
  targets?: Record<string, string>;
  /** The rules file Prometheus loads (default: ops/prometheus/rules.yml as shipped). */
  rulesText?: string;
  /** Alertmanager's config (default: ops/alertmanager/alertmanager.yml as shipped). */
  alertmanagerText?: string;
  /** Scrape and rule evaluation interval (default 1 s). */
  intervalSeconds?: number;
  /** Where the tools' logs go (default: their temporary directory, removed by `stop`). */
  logDir?: string;
}

export interface Observability {
  prometheusUrl: string;
  alertmanagerUrl: string;
  jaegerQueryUrl: string;
  /** OTLP/HTTP base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpUrl: string;
  /** Replaces the scrape targets (process name → base URL answering `/metrics`). */
  setTargets(targets: Record<string, string>): void;
  /** Instant query; throws on a Prometheus error. */
  query(expr: string): Promise<PromSample[]>;
  /** Range query, `step` seconds. */
  queryRange(expr: string, startS: number, endS: number, step: number): Promise<PromSeries[]>;
  /** Pids of the three processes (for CPU readings). */
  pids(): Record<string, number>;
  stop(): Promise<void>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** Starts Jaeger, Alertmanager and Prometheus; resolves once all three answer. */
export async function startObservability(
  tools: ToolPaths,
  opts: ObservabilityOptions,
): Promise<Observability> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-observability-'));
  const logDir = opts.logDir ?? dir;
  const interval = opts.intervalSeconds ?? 1;
  const [otlpPort, jaegerHttp, jaegerGrpc, jaegerHealth, amPort, promPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const children: Record<string, ChildProcess> = {};
  const spawnTool = (name: string, bin: string, args: string[]) => {
    const child = spawnLogged(bin, args, process.env, join(logDir, `${name}.log`), dir);
    children[name] = child;
    return child;
  };

  // Jaeger: OTLP/HTTP in, memory storage, the query API; nothing else, all on loopback.
  const jaegerConfig = {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: {
        traces: {
          receivers: ['otlp'],
          processors: ['batch'],
          exporters: ['jaeger_storage_exporter'],
        },
      },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${jaegerHealth}` } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        http: { endpoint: `127.0.0.1:${jaegerHttp}` },
        grpc: { endpoint: `127.0.0.1:${jaegerGrpc}` },
      },
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 100_000 } } } },
    },
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
    processors: { batch: { timeout: '200ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  };
  writeFileSync(join(dir, 'jaeger.yaml'), stringify(jaegerConfig));
  const jaeger = spawnTool('jaeger', tools.JAEGER, ['--config', join(dir, 'jaeger.yaml')]);

  writeFileSync(
    join(dir, 'alertmanager.yml'),
    opts.alertmanagerText ??
      readFileSync(join(REPO_ROOT, 'ops/alertmanager/alertmanager.yml'), 'utf8'),
  );
  const alertmanager = spawnTool('alertmanager', tools.ALERTMANAGER, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    // One instance, no gossip port.
    '--cluster.listen-address=',
  ]);

  writeFileSync(
    join(dir, 'rules.yml'),
    opts.rulesText ?? readFileSync(join(REPO_ROOT, 'ops/prometheus/rules.yml'), 'utf8'),
  );
  const prometheusConfig = {
    global: { scrape_interval: `${interval}s`, evaluation_interval: `${interval}s` },
    rule_files: [join(dir, 'rules.yml')],
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }],
    },
    scrape_configs: [
      {
        job_name: 'parley',
        // A file Prometheus watches: the stack's ports are known only once it runs.
        file_sd_configs: [{ files: [join(dir, 'targets.json')] }],
      },
    ],
  };
  const setTargets = (targets: Record<string, string>) =>
    writeFileSync(
      join(dir, 'targets.json'),
      JSON.stringify(
        Object.entries(targets).map(([name, url]) => ({
          targets: [new URL(url).host],
          labels: { process: name },
        })),
      ),
    );
  setTargets(opts.targets ?? {});
  writeFileSync(join(dir, 'prometheus.yml'), stringify(prometheusConfig));
  const prometheus = spawnTool('prometheus', tools.PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);

  const stop = async () => {
    await Promise.all(Object.values(children).map((c) => stopProcess(c)));
    rmSync(dir, { recursive: true, force: true });
  };

  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  try {
    await waitHttpOk(`http://127.0.0.1:${jaegerHealth}/status`, jaeger, 60_000, 'jaeger');
    await waitHttpOk(`http://127.0.0.1:${amPort}/-/ready`, alertmanager, 60_000, 'alertmanager');
    await waitHttpOk(`${prometheusUrl}/-/ready`, prometheus, 60_000, 'prometheus');
  } catch (err) {
    const tail = (name: string) => {
      try {
        return readFileSync(join(logDir, `${name}.log`), 'utf8').slice(-2000);
      } catch {
        return '';
      }
    };
    const logs = ['jaeger', 'alertmanager', 'prometheus'].map((n) => `--- ${n}\n${tail(n)}`);
    await stop();
    throw new Error(`${(err as Error).message}\n${logs.join('\n')}`);
  }

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${prometheusUrl}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };

  return {
    prometheusUrl,
    alertmanagerUrl: `http://127.0.0.1:${amPort}`,
    jaegerQueryUrl: `http://127.0.0.1:${jaegerHttp}`,
    otlpUrl: `http://127.0.0.1:${otlpPort}`,
    setTargets,
    async query(expr) {
      const data = await api<{ result: PromSample[] }>('/api/v1/query', { query: expr });
      return data.result;
    },
    async queryRange(expr, startS, endS, step) {
      const data = await api<{ result: PromSeries[] }>('/api/v1/query_range', {
        query: expr,
        start: String(startS),
        end: String(endS),
        step: String(step),
      });
      return data.result;
    },
    pids: () =>
      Object.fromEntries(
        Object.entries(children).flatMap(([n, c]) => (c.pid ? [[n, c.pid]] : [])),
      ) as Record<string, number>,
    stop,
  };
}
