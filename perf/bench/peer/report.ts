/** bench:peer's record: the markdown a person reads (the JSON goes beside it, whole). */
import type { ConnectionsRun, PeerResult, Ratios, ServerRuns } from './run';
import type { Summary } from './stats';

const cell = (x: number | string | null | undefined) =>
  x === undefined || x === null || (typeof x === 'number' && !Number.isFinite(x)) ? '–' : String(x);
const pct = (s: Summary | undefined) =>
  s ? `${cell(s.p50)} / ${cell(s.p90)} / ${cell(s.p99)} / ${cell(s.max)}` : '–';
const times = (r: number | null | undefined) => (r === null || r === undefined ? '–' : `×${r}`);
const sides = (x: Record<string, number> | undefined) =>
  x && Object.keys(x).length
    ? Object.entries(x)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')
    : '–';

const dropped = (r: { dropped: number; dropReasons: Record<string, number> }) =>
  r.dropped === 0 ? '0' : `${r.dropped}: ${JSON.stringify(r.dropReasons)}`;

/** A row: its label, the figure per side, and the ratio that goes with it (if any). */
type Row = [string, (r: ServerRuns) => string | number | undefined, (keyof Ratios)?];

function table(rows: Row[], res: PeerResult): string {
  const base = res.baseline;
  const head = base
    ? '| | Parley before | Parley | Centrifugo | Parley / Centrifugo | Parley / before |\n| --- | --- | --- | --- | --- | --- |'
    : '| | Parley | Centrifugo | Parley / Centrifugo |\n| --- | --- | --- | --- |';
  const lines = [head];
  for (const [label, get, key] of rows) {
    const r = key ? times(res.ratios[key]) : '';
    if (base) {
      const b = key ? times(res.vsBaseline?.[key]) : '';
      lines.push(
        `| ${label} | ${cell(get(base))} | ${cell(get(res.parley))} | ${cell(get(res.centrifugo))} | ${r} | ${b} |`,
      );
    } else
      lines.push(`| ${label} | ${cell(get(res.parley))} | ${cell(get(res.centrifugo))} | ${r} |`);
  }
  return lines.join('\n');
}

/** The markdown record of one run. */
export function peerMarkdown(res: PeerResult): string {
  const m = res.machine;
  const s = res.scenarios;
  const out: string[] = [
    '# Parley gateway vs Centrifugo, side by side (bench:peer)',
    '',
    `- when: ${res.when} (took ${res.seconds} s)`,
    `- command: \`${res.command}\``,
    `- commit: ${m.commit}${m.dirty ? ' (with uncommitted changes in the working tree)' : ''}`,
    `- machine: ${m.cores} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}; load average at the start ${m.load.join(' ')}, at the end ${res.loadAtEnd.join(' ')}`,
    ...(res.baseline ? [`- Parley before: ${res.baseline.label ?? '–'}`] : []),
    `- Parley: ${res.parley.label ?? '–'}; markers loaded (unread frames on): ${res.unread}`,
    `- Centrifugo: ${res.centrifugo.label ?? '–'}`,
    `- each scenario on a fresh server process per side, ${res.baseline ? 'Parley before, Parley, Centrifugo' : 'Parley, then Centrifugo'}; the clients in one child process (perf/bench/peer/clients.ts), 100 sockets per source address 127.1.x.y; CPU from /proc of the server process alone`,
    '',
  ];
  if (res.targets.length) {
    out.push('## Targets (issue 12)', '', '| target | measured | met |', '| --- | --- | --- |');
    for (const t of res.targets)
      out.push(
        `| ${t.target} | ${t.value} | ${t.met === null ? 'not measurable here' : t.met ? 'yes' : 'no'} |`,
      );
    out.push('');
  }
  if (res.ran.includes('fanout')) {
    const d = res.ratios.fanoutP99MinusMs;
    out.push(
      `## fanout: one room, ${s.fanout.sockets} sockets, ${s.fanout.ratePerSecond} msg/s for ${s.fanout.durationSeconds} s`,
      '',
      table(
        [
          [
            'deliveries / expected',
            (x) => x.fanout && `${x.fanout.deliveries} / ${x.fanout.expected}`,
          ],
          [
            'publish → deliver p50 / p90 / p99 / max, ms',
            (x) => pct(x.fanout?.latencyMs),
            'fanoutP99',
          ],
          [
            'server CPU s (of which kernel)',
            (x) => x.fanout && `${x.fanout.serverCpuSeconds} (${x.fanout.serverSystemSeconds})`,
          ],
          [
            'deliveries per server CPU-second',
            (x) => x.fanout?.deliveriesPerCpuSecond,
            'fanoutDeliveriesPerCpuSecond',
          ],
          ['beside the server (same window)', (x) => sides(x.fanout?.sideCpuSeconds)],
          ['window (first publish → last delivery), s', (x) => x.fanout?.windowSeconds],
          ['server RSS after, MiB', (x) => x.fanout?.rssMiB],
          ['other frames (Parley: coalesced unread)', (x) => x.fanout?.otherFrames],
          ['clients CPU s', (x) => x.fanout?.clientCpuSeconds],
          ['sockets dropped (why)', (x) => x.fanout && dropped(x.fanout)],
        ],
        res,
      ),
      '',
      `p99 Parley − Centrifugo: ${cell(d)} ms (the p99 row's ratio column is p99 / p99).`,
      '',
    );
  }
  const conn = (
    label: string,
    get: (x: ServerRuns) => ConnectionsRun | undefined,
    rows: [string, (c: ConnectionsRun) => string | number, (keyof Ratios)?][],
  ) => {
    const asRows: Row[] = rows.map(([l, f, k]) => [
      l,
      (x) => {
        const c = get(x);
        return c && f(c);
      },
      k,
    ]);
    out.push(label, '', table(asRows, res), '');
  };
  const idleRows: [string, (c: ConnectionsRun) => string | number, (keyof Ratios)?][] = [
    [
      `RSS before → after ${s.idle.settleSeconds} s idle, MiB`,
      (c) => `${c.rssBeforeMiB} → ${c.rssAfterMiB}`,
    ],
    ['KB per idle socket', (c) => c.kbPerSocket, 'kbPerIdleSocket'],
    ['idle CPU, ms per second', (c) => c.idleCpuMsPerSecond],
    ['open-files limit of the server', (c) => c.openFilesLimit],
  ];
  const shared = res.parley.idle !== undefined && res.parley.idle === res.parley.handshakes;
  if (res.ran.includes('handshakes')) {
    conn(
      `## handshakes${shared ? ' + idle' : ''}: ${s.handshakes.sockets} sockets, ${s.handshakes.concurrency} in flight`,
      (x) => x.handshakes,
      [
        ['ready / failed', (c) => `${c.ready} / ${c.failed}`],
        ['handshakes per second', (c) => c.handshakesPerSecond, 'handshakesPerSecond'],
        ['handshake p50 / p90 / p99 / max, ms', (c) => pct(c.handshakeMs)],
        [
          'server CPU s (kernel; ms per handshake)',
          (c) => `${c.serverCpuSeconds} (${c.serverSystemSeconds}; ${c.cpuMsPerHandshake})`,
          'cpuPerHandshake',
        ],
        ['beside the server', (c) => sides(c.sideCpuSeconds)],
        ['clients CPU s', (c) => c.clientCpuSeconds],
        ...(shared ? idleRows : []),
      ],
    );
  }
  if (res.ran.includes('idle') && !shared) {
    conn(`## idle: ${s.idle.sockets} sockets`, (x) => x.idle, [
      ['ready / failed', (c) => `${c.ready} / ${c.failed}`],
      ...idleRows,
    ]);
  }
  if (res.ran.includes('large-room')) {
    out.push(
      `## large-room: ${s.largeRoom.members} members, ${s.largeRoom.messages} single messages ${s.largeRoom.gapMs} ms apart (after ${s.largeRoom.warmup})`,
      '',
      table(
        [
          [
            'deliveries / expected',
            (x) => x.largeRoom && `${x.largeRoom.deliveries} / ${x.largeRoom.expected}`,
          ],
          [
            'publish → every socket p50 / p90 / p99 / max, ms',
            (x) => pct(x.largeRoom?.latencyMs),
            'largeRoomP99',
          ],
          [
            'publish → last socket, per message p50 / p90 / p99 / max, ms',
            (x) => pct(x.largeRoom?.lastSocketMs),
          ],
          ['publish → first socket p50, ms', (x) => x.largeRoom?.firstSocketMs.p50],
          [
            'server CPU ms per message (of which kernel)',
            (x) =>
              x.largeRoom &&
              `${x.largeRoom.serverCpuMsPerMessage} (${x.largeRoom.serverSystemMsPerMessage})`,
          ],
          [
            'deliveries per server CPU-second',
            (x) => x.largeRoom?.deliveriesPerCpuSecond,
            'largeRoomDeliveriesPerCpuSecond',
          ],
          ['beside the server', (x) => sides(x.largeRoom?.sideCpuSeconds)],
          ['other frames (Parley: unread)', (x) => x.largeRoom?.otherFrames],
          ['server idle CPU before, ms per second', (x) => x.largeRoom?.idleCpuMsPerSecond],
          ['sockets dropped (why)', (x) => x.largeRoom && dropped(x.largeRoom)],
        ],
        res,
      ),
      '',
    );
  }
  const errors = [
    ...(res.baseline?.errors ?? []).map((e) => `Parley before: ${e}`),
    ...(res.parley.errors ?? []).map((e) => `Parley: ${e}`),
    ...(res.centrifugo.errors ?? []).map((e) => `Centrifugo: ${e}`),
  ];
  if (errors.length) out.push('## Errors', '', ...errors.map((e) => `- ${e}`), '');
  return out.join('\n');
}
