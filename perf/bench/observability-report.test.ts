import { describe, expect, it } from 'vitest';
import type { PhaseResult } from '../harness/session';
import {
  countSpans,
  type JaegerTrace,
  legendOf,
  modeCost,
  parseModes,
  rangeToPlotSeries,
  stackedPlotsSvg,
  tracingCostMarkdown,
} from './observability-report';

describe('legendOf', () => {
  it('fills each {{label}} from the series and keeps the fixed text', () => {
    expect(legendOf('{{function}} {{type}}', { function: 'notify', type: 'parley.x' })).toBe(
      'notify parley.x',
    );
    expect(legendOf('{{group}} [{{partition}}]', { group: 'g', partition: '3' })).toBe('g [3]');
    expect(legendOf('p99', { q: 'p50' })).toBe('p99');
  });

  it('leaves a label the series does not have empty', () => {
    expect(legendOf('{{step}}:{{ missing }}', { step: 'sent' })).toBe('sent:');
  });
});

describe('rangeToPlotSeries', () => {
  it('turns samples into seconds since t0 and scaled numbers, one line per series', () => {
    const out = rangeToPlotSeries(
      [
        {
          metric: { q: 'p99' },
          values: [
            [1000, '0.25'],
            [1001.5, '0.5'],
          ],
        },
        { metric: { q: 'p50' }, values: [[1001, '0.01']] },
      ],
      { legend: '{{q}}', t0S: 1000, scale: 1000, suffix: ' (off)', dashed: true },
    );
    // Sorted by name: p50 before p99.
    expect(out).toEqual([
      { name: 'p50 (off)', points: [[1, 10]], dashed: true },
      {
        name: 'p99 (off)',
        points: [
          [0, 250],
          [1.5, 500],
        ],
        dashed: true,
      },
    ]);
  });

  it('drops NaN and infinite samples, and a series left with none', () => {
    const out = rangeToPlotSeries(
      [
        {
          metric: { group: 'a' },
          values: [
            [10, 'NaN'],
            [11, '3'],
            [12, '+Inf'],
          ],
        },
        { metric: { group: 'b' }, values: [[10, 'NaN']] },
      ],
      { legend: '{{group}}', t0S: 10 },
    );
    expect(out).toEqual([{ name: 'a', points: [[1, 3]] }]);
  });

  it('shortens legend entries with rename, before the suffix', () => {
    const out = rangeToPlotSeries([{ metric: { group: 'parley-notify' }, values: [[5, '1']] }], {
      legend: '{{group}}',
      t0S: 0,
      rename: (n) => n.replace(/^parley-/, ''),
      suffix: ' (off)',
    });
    expect(out[0]?.name).toBe('notify (off)');
  });

  it('names a series without the legend labels "value" rather than nothing', () => {
    const out = rangeToPlotSeries([{ metric: {}, values: [[5, '1']] }], {
      legend: '{{service}}',
      t0S: 0,
    });
    expect(out[0]?.name).toBe('value');
  });
});

describe('stackedPlotsSvg', () => {
  const plot = (title: string, name: string) => ({
    title,
    xLabel: 's',
    yLabel: 'y',
    series: [
      {
        name,
        points: [
          [0, 1],
          [1, 2],
        ] as [number, number][],
      },
    ],
  });

  it('places each plot below the previous one under one title, with one XML prolog', () => {
    const svg = stackedPlotsSvg('All <of> it', [plot('first', 'a'), plot('second', 'b')], {
      width: 600,
      panelHeight: 200,
    });
    expect(svg.match(/<\?xml/g)).toHaveLength(1);
    expect(svg).toContain('<title>All &lt;of&gt; it</title>');
    expect(svg).toMatch(/^<\?xml[^>]*\?>\n<svg [^>]*height="434"/);
    const nested = [...svg.matchAll(/<svg x="0" y="(\d+)" [^>]*width="(\d+)" height="(\d+)"/g)];
    expect(nested.map((m) => [m[1], m[2], m[3]])).toEqual([
      ['34', '600', '200'],
      ['234', '600', '200'],
    ]);
    expect(svg).toContain('data-series="a"');
    expect(svg).toContain('data-series="b"');
    // Every element opened is closed: as many <svg as </svg>.
    expect(svg.match(/<svg /g)?.length).toBe(svg.match(/<\/svg>/g)?.length);
  });
});

describe('countSpans', () => {
  const trace = (id: string, services: string[]): JaegerTrace => ({
    traceID: id,
    spans: services.map((_, i) => ({ spanID: `${id}${i}`, processID: `p${i}` })),
    processes: Object.fromEntries(services.map((s, i) => [`p${i}`, { serviceName: s }])),
  });

  it('counts spans by service and each trace once across answers', () => {
    const a = trace('t1', ['connection-gateway', 'message-write', 'message-write']);
    const b = trace('t2', ['connection-gateway']);
    expect(countSpans([[a, b], [a]])).toEqual({
      traces: 2,
      spans: 4,
      byService: { 'connection-gateway': 2, 'message-write': 2 },
    });
  });

  it('calls a span of an unknown process unknown', () => {
    const t: JaegerTrace = {
      traceID: 'x',
      spans: [{ spanID: 's', processID: 'p9' }],
      processes: {},
    };
    expect(countSpans([[t]]).byService).toEqual({ unknown: 1 });
  });
});

/** A measured phase with only what modeCost reads filled in. */
function phase(
  stored: number,
  byProcess: { name: string; cpuMs: number }[],
  aboveIdle: number | null = null,
): PhaseResult {
  return {
    label: 'x',
    offeredPerSecond: 100,
    seconds: 30,
    sent: stored,
    stored,
    refused: 0,
    refusalsByCode: {},
    unacked: 0,
    achievedPerSecond: 99.5,
    deliveriesExpected: 0,
    deliveries: 0,
    ack: { count: 0, p50: null, p90: null, p99: null, max: null, mean: null },
    deliver: { count: stored, p50: 20, p90: 40, p99: 80, max: 90, mean: 25 },
    clientLag: { count: 0, p50: null, p90: null, p99: null, max: null, mean: null },
    settled: true,
    cpu: {
      wallMs: 30_000,
      totalCpuMs: byProcess.reduce((s, r) => s + r.cpuMs, 0),
      perMessageMs: null,
      perMessageAboveIdleMs: aboveIdle,
      perMessageByGroupMs: null,
      clientCpuMs: 0,
      byProcess,
    },
  };
}

describe('modeCost and tracingCostMarkdown', () => {
  const off = {
    mode: 'off',
    phase: phase(
      1000,
      [
        { name: 'connection-gateway', cpuMs: 4000 },
        { name: 'message-write', cpuMs: 6000 },
        { name: 'kafka', cpuMs: 2000 },
        { name: 'client (this harness)', cpuMs: 500 },
      ],
      9.5,
    ),
    toolsCpuMs: { prometheus: 300, jaeger: 100, alertmanager: 0 },
    problems: [],
  };
  const on = {
    mode: '1',
    phase: phase(
      2000,
      [
        { name: 'connection-gateway', cpuMs: 10_000 },
        { name: 'message-write', cpuMs: 14_000 },
        { name: 'kafka', cpuMs: 4000 },
        { name: 'client (this harness)', cpuMs: 1000 },
      ],
      11.25,
    ),
    toolsCpuMs: { prometheus: 600, jaeger: 3000, alertmanager: 0 },
    spans: { traces: 2000, spans: 24_000, byService: {} },
    problems: [],
  };

  it('splits CPU per stored message into Parley, services, client and the tools', () => {
    expect(modeCost(off)).toMatchObject({
      stored: 1000,
      parleyMs: 10,
      servicesMs: 2,
      clientMs: 0.5,
      jaegerMs: 0.1,
      toolsMs: 0.4,
      totalMs: 12.9,
      aboveIdleMs: 9.5,
      spansPerMessage: null,
      tracesPerMessage: null,
    });
    expect(modeCost(on)).toMatchObject({
      stored: 2000,
      parleyMs: 12,
      servicesMs: 2,
      jaegerMs: 1.5,
      totalMs: 16.3,
      spansPerMessage: 12,
      tracesPerMessage: 1,
    });
  });

  it('shows each traced run against the untraced one', () => {
    const md = tracingCostMarkdown([modeCost(off), modeCost(on)]);
    const rows = md.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[2]).toMatch(
      /^\| off \| 1000 \| 99\.5 \| 20\.0 ms \| 80\.0 ms \| 10\.00 \| 2\.00 \| 0\.10 \| 12\.90 \| 9\.50 \| – \| – \|$/,
    );
    expect(rows[3]).toContain('| on, ratio 1 | 2000 |');
    expect(rows[3]).toContain(
      '| 12.00 (+2.00) | 2.00 (+0.00) | 1.50 (+1.40) | 16.30 (+3.40) | 11.25 (+1.75) | 12.00 | 1.00 |',
    );
  });

  it('prints no difference when there is no untraced run', () => {
    const md = tracingCostMarkdown([modeCost(on)]);
    expect(md).not.toContain('(+');
  });
});

describe('parseModes', () => {
  it('reads off and ratios in order', () => {
    expect(parseModes('off, 1,0.1')).toEqual(['off', '1', '0.1']);
  });

  it('refuses a ratio outside 0…1, a word, an empty list and a repeat', () => {
    expect(() => parseModes('off,2')).toThrow(/2 is neither/);
    expect(() => parseModes('on')).toThrow(/on is neither/);
    expect(() => parseModes(' , ')).toThrow(/at least one/);
    expect(() => parseModes('1,1')).toThrow(/twice/);
  });
});
