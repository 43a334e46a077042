/**
 * The operator's view, checked for real: a real-mode stack (every deployable from its bundle,
 * the eventing stand-ins, real MariaDB ×2, Redis, Kafka, Elasticsearch) traced to a real Jaeger
 * and scraped by a real Prometheus that loads Parley's rules and sends to a real Alertmanager
 * with Parley's routing. After some chat traffic:
 * - every query of every Grafana dashboard (ops/src/queries.ts) returns data;
 * - one `send` is one trace in Jaeger, spanning the gateway, Kafka, the KafkaSource,
 *   message-write, the KafkaSink, message-index and the fan-out back to the gateway;
 * - with message-write stopped, its consumer group's lag stalls and ParleyConsumerStalled fires,
 *   reaches Alertmanager and is routed to the receiver of its severity.
 * The rules are the shipped ones with their waits shortened (`shortenedRules`): minutes of `for:`
 * and range windows become seconds, so the alert fires within a test's patience.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  type Observability,
  shortenedRules,
  startObservability,
  toolPaths,
} from '@parley/launcher/observability';
import { type Stack, startStack } from '@parley/launcher/stack';
import { PANELS, promql, queryParts } from '@parley/ops/queries';
import { type Account, Api, WsClient } from '@parley/perf/client';
import type { Room, ServerFrame } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/infra';

let stack: Stack | undefined;
let obs: Observability | undefined;
let webhook: Server | undefined;
/** What Alertmanager posted to the test's receiver (its webhook payloads). */
const notified: { receiver: string; alerts: { labels: Record<string, string> }[] }[] = [];

const api = () => new Api(running().gatewayUrl);
function running(): Stack {
  if (!stack) throw new Error('stack did not start');
  return stack;
}
function tools(): Observability {
  if (!obs) throw new Error('observability tools did not start');
  return obs;
}

/**
 * Alertmanager as shipped, with its receivers' URLs pointed at this test's webhook (the shipped
 * ones are placeholders an operator replaces) and grouping waits shortened.
 */
function alertmanagerConfig(webhookUrl: string): string {
  const cfg = parse(readFileSync(join(REPO_ROOT, 'ops/alertmanager/alertmanager.yml'), 'utf8'));
  for (const r of cfg.receivers ?? []) {
    for (const w of r.webhook_configs ?? []) {
      delete w.url_file;
      w.url = `${webhookUrl}/${r.name}`;
    }
  }
  const shorten = (route: Record<string, unknown>) => {
    if ('group_wait' in route) route.group_wait = '1s';
    if ('group_interval' in route) route.group_interval = '1s';
    for (const child of (route.routes as Record<string, unknown>[] | undefined) ?? [])
      shorten(child);
  };
  shorten(cfg.route);
  return stringify(cfg);
}

beforeAll(async () => {
  const paths = await toolPaths();
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const receiver = (req.url ?? '/').slice(1);
      try {
        notified.push({ receiver, ...JSON.parse(body) });
      } catch {
        // not JSON: not Alertmanager
      }
      res.end();
    });
  });
  await new Promise<void>((r) => webhook?.listen(0, '127.0.0.1', r));
  const hookPort = (webhook.address() as { port: number }).port;
  obs = await startObservability(paths, {
    rulesText: shortenedRules(
      readFileSync(join(REPO_ROOT, 'ops/prometheus/rules.yml'), 'utf8'),
      5,
      20,
    ),
    alertmanagerText: alertmanagerConfig(`http://127.0.0.1:${hookPort}`),
  });
  stack = await startStack({
    gatewayPort: 19080,
    portBase: 19100,
    dbPrefix: 'parley_obs',
    verbose: true,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: obs.otlpUrl,
      OTEL_TRACES_SAMPLER_ARG: '1',
      LAG_POLL_MS: '1000',
    },
  });
  obs.setTargets(stack.metricsUrls);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  await obs?.stop();
  await new Promise((r) => (webhook ? webhook.close(r) : r(undefined)));
}, 120_000);

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
  startTime: number;
  duration: number;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

async function jaeger<T>(path: string): Promise<T> {
  const res = await fetch(`${tools().jaegerQueryUrl}${path}`);
  if (!res.ok) throw new Error(`jaeger ${path}: ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

describe('observability on the real stack (Prometheus, Alertmanager, Jaeger)', () => {
  let alice: Account;
  let bob: Account;
  let room: Room;
  let sa: WsClient;
  let sb: WsClient;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([api().signup('obs_alice'), api().signup('obs_bob')]);
    room = (
      await api().call<{ room: Room }>('POST', '/api/v1/rooms', {
        token: alice.token,
        body: { name: 'observed', memberIds: [bob.user.id] },
      })
    ).room;
    [sa, sb] = await Promise.all([
      WsClient.connect(api(), alice.token),
      WsClient.connect(api(), bob.token),
    ]);
  }, 60_000);

  afterAll(() => {
    sa?.close();
    sb?.close();
  });

  it('carries one send as one trace through every hop to the receiving sockets', async () => {
    const clientMsgId = `traced-${Date.now()}`;
    sa.send({ type: 'send', roomId: room.id, clientMsgId, body: `hello @${bob.user.username}` });
    await sa.next((f) => f.type === 'ack' && f.clientMsgId === clientMsgId, 30_000);
    await sb.next((f) => f.type === 'message' && f.message.clientMsgId === clientMsgId, 30_000);

    const tags = encodeURIComponent(JSON.stringify({ 'parley.client_msg_id': clientMsgId }));
    const [found] = await until(
      'the send span in Jaeger',
      async () => {
        const traces = await jaeger<JaegerTrace[]>(
          `/api/traces?service=connection-gateway&operation=send&tags=${tags}&limit=5`,
        );
        return traces.length ? traces : undefined;
      },
      60_000,
    );
    const expected = [
      ['connection-gateway', 'send'],
      ['kafka-source', 'deliver to parley-message-write'],
      ['message-write', 'message-write parley.message.send'],
      ['kafka-sink', 'produce parley.message.events'],
      ['kafka-source', 'deliver to parley-message-index'],
      ['message-index', 'message-index parley.message.created'],
      ['kafka-source', 'deliver to parley-notify.message-events'],
      ['notify', 'notify parley.message.created'],
      ['connection-gateway', 'fan-out message'],
    ] as const;
    const hop = (t: JaegerTrace, s: JaegerSpan) =>
      `${t.processes[s.processID]?.serviceName}: ${s.operationName}`;
    // Spans arrive from each process's batch on its own clock: wait until every hop is in.
    const trace = await until(
      'every hop of the trace',
      async () => {
        const [t] = await jaeger<JaegerTrace[]>(`/api/traces/${found?.traceID}`);
        if (!t) return undefined;
        const hops = new Set(t.spans.map((s) => hop(t, s)));
        return expected.every(([svc, op]) => hops.has(`${svc}: ${op}`)) ? t : undefined;
      },
      60_000,
    );
    // One trace: every span but the root has its parent in it, and there is one root (the send).
    const ids = new Set(trace.spans.map((s) => s.spanID));
    const roots = trace.spans.filter(
      (s) => !s.references.some((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID)),
    );
    expect(roots.map((s) => hop(trace, s))).toEqual(['connection-gateway: send']);
    for (const s of trace.spans) expect(s.traceID).toBe(trace.traceID);
    // The span list, in start order, for the record (docs/operations.md shows one).
    const t0 = Math.min(...trace.spans.map((s) => s.startTime));
    const list = [...trace.spans]
      .sort((a, b) => a.startTime - b.startTime)
      .map(
        (s) =>
          `  +${((s.startTime - t0) / 1000).toFixed(1).padStart(7)} ms ${(s.duration / 1000).toFixed(1).padStart(7)} ms  ${hop(trace, s)}`,
      );
    console.log(`trace ${trace.traceID} (${trace.spans.length} spans):\n${list.join('\n')}`);
  }, 120_000);

  it('answers every dashboard query with data after some chat traffic', async () => {
    // Traffic that touches every function: sends with a mention (notify), history, search,
    // the inbox, reads, typing, a refused handshake, and enough time for rates over 1m.
    const a = api();
    for (let i = 0; i < 20; i++) {
      sa.send({
        type: 'send',
        roomId: room.id,
        clientMsgId: `load-${i}`,
        body: `observability message ${i} @${bob.user.username}`,
      });
    }
    await sa.waitForCount((f: ServerFrame) => f.type === 'ack', 21, 60_000);
    sb.send({ type: 'typing', roomId: room.id });
    const seqs = sb.frames.flatMap((f) => (f.type === 'message' ? [f.message.seq] : []));
    sb.send({ type: 'read', roomId: room.id, seq: Math.max(...seqs) });
    await Promise.all([
      a.call('GET', '/api/v1/rooms', { token: alice.token }),
      a.call('GET', `/api/v1/rooms/${room.id}`, { token: bob.token }),
      a.call('GET', `/api/v1/rooms/${room.id}/messages?limit=10`, { token: bob.token }),
      a.call('GET', '/api/v1/notifications', { token: bob.token }),
      a.call('GET', '/api/v1/me', { token: alice.token }),
    ]);
    await until(
      'search finds the messages',
      async () => {
        const found = await a.call<{ hits: unknown[] }>(
          'GET',
          `/api/v1/search?${new URLSearchParams({ q: 'observability' })}`,
          { token: alice.token },
        );
        return found.hits.length > 0 ? true : undefined;
      },
      60_000,
    );
    expect(await WsClient.handshakeStatus(`${a.wsUrl()}?token=nope`)).toBe(401);

    const prom = tools();
    // Every target is up and scraped (the rates below need two scrapes of each).
    await until(
      'every process scraped',
      async () => {
        const up = await prom.query('up');
        const count = Object.keys(running().metricsUrls).length;
        return up.length === count && up.every((s) => s.value[1] === '1') ? true : undefined;
      },
      60_000,
    );
    // A panel whose failure-only series is missing still answers through its fallback (`or
    // vector(0)`, `or … * 0`), so "has data" alone cannot tell that a metric is not exported at
    // all: every series a panel reads must exist, but for those that appear only once something
    // failed (the traffic here refuses nothing).
    const FAILURE_ONLY = new Set([
      'parley_source_dead_lettered_total',
      'parley_source_retried_total',
      'parley_gateway_frames_refused_total',
      'parley_gateway_http_refused_total',
      'parley_users_kdf_refused_total',
    ]);
    const names = new Set(PANELS.flatMap((p) => queryParts(promql(p.expr, '1m')).series));
    const absent = await until(
      'every series a dashboard reads is exported',
      async () => {
        const missing: string[] = [];
        for (const name of names) {
          if (FAILURE_ONLY.has(name)) continue;
          if ((await prom.query(`count({__name__="${name}"})`)).length === 0) missing.push(name);
        }
        return missing.length === 0 ? missing : undefined;
      },
      60_000,
    ).catch((err) => [String(err)]);
    expect(absent).toEqual([]);
    const empty: string[] = [];
    const missing = await until(
      'every dashboard query has data',
      async () => {
        empty.length = 0;
        for (const p of PANELS) {
          const result = await prom.query(promql(p.expr, '1m'));
          if (result.length === 0) empty.push(`${p.id}: ${promql(p.expr, '1m')}`);
        }
        return empty.length === 0 ? [] : undefined;
      },
      90_000,
    ).catch(() => [...empty]);
    expect(missing).toEqual([]);
  }, 300_000);

  it('fires ParleyConsumerStalled when message-write stops, and Alertmanager routes it', async () => {
    const isStalledSeries =
      'ALERTS{alertname="ParleyConsumerStalled", group="parley-message-write"}';
    // Healthy first: the traffic above was delivered, so the alert is not pending or firing.
    await until(
      'ParleyConsumerStalled quiet while message-write runs',
      async () => ((await tools().query(isStalledSeries)).length === 0 ? true : undefined),
      60_000,
    );
    const stoppedAt = Date.now();
    await running().terminate('message-write');
    // Sends pile up behind the stopped function: its group's lag grows, nothing is delivered.
    for (let i = 0; i < 5; i++) {
      sa.send({ type: 'send', roomId: room.id, clientMsgId: `stalled-${i}`, body: `stalled ${i}` });
    }
    const isStalled = (labels: Record<string, string>) =>
      labels.alertname === 'ParleyConsumerStalled' && labels.group === 'parley-message-write';
    const inAlertmanager = await until(
      'ParleyConsumerStalled in Alertmanager',
      async () => {
        const res = await fetch(`${tools().alertmanagerUrl}/api/v2/alerts?active=true`);
        const alerts = (await res.json()) as { labels: Record<string, string>; startsAt: string }[];
        return alerts.find((x) => isStalled(x.labels));
      },
      120_000,
    );
    expect(inAlertmanager.labels.severity).toBe('page');
    // It started after the stop, not before (Prometheus sets startsAt when it began firing).
    expect(Date.parse(inAlertmanager.startsAt)).toBeGreaterThan(stoppedAt);
    // And its receiver was notified (the route of its severity).
    const delivered = await until(
      'a notification to the receiver',
      async () => notified.find((n) => n.alerts.some((x) => isStalled(x.labels))),
      60_000,
    );
    // A page goes to the pager receiver (ops/alertmanager/alertmanager.yml).
    expect(delivered.receiver).toBe('pager');
    // Back: the piled-up sends are stored and the stack is whole for whatever runs next.
    await running().start('message-write');
    await sa.waitForCount((f: ServerFrame) => f.type === 'ack', 26, 90_000);
  }, 300_000);
});
