/**
 * The cost of unread counts in a 10,000-member room (docs/notifications.md,
 * "Unread counts: no write per member per message"), in three parts run
 * back to back in one process, so their ratios compare like with like:
 *
 * 1. **Gateway fan-out over real WebSockets** (large-room/gateway-fanout.ts):
 *    a real gateway here that knows the room's member count, MEMBERS sockets
 *    from a child process. The gateway sends a room's `message` frames first
 *    and its `unread` frames in a second pass, in a room this large at most
 *    once per UNREAD_COALESCE_MS. Single messages, each over GAP ms after the
 *    previous one's frames (so each gets its own unread pass at once):
 *    publish → the last `message` frame and → the last `unread` frame, the
 *    gateway's CPU per message and per pass, frames and bytes. Then bursts of
 *    BURST_SIZE messages BURST_INTERVAL ms apart: the gateway's CPU per burst,
 *    the unread frames each member got, the count each holds at the end. Then
 *    all of it without unread frames (no markers loaded) on a fresh gateway
 *    and fresh sockets, for the ratios.
 * 2. **The two passes in the Hub alone** (large-room/hub-unread.ts): MEMBERS
 *    sessions over counting sockets; per message with and without markers
 *    (the room taken as small, so the unread pass follows at once), and the
 *    burst on a small-room Hub against one that coalesces.
 * 3. **notify per message vs a write per member** (large-room/notify-cost.ts):
 *    real MariaDB (tests/infra/up), EVENTS `message.created` through notify;
 *    then `UPDATE unread_counts SET n = n + 1 WHERE room_id = ?` over MEMBERS
 *    rows on two shards, NAIVE times.
 *
 * Every part checks what it measures is right (each socket gets each message
 * once, in order; each `unread` frame carries the count of its moment; every
 * member ends with the last seq as its count; one store write per event;
 * every row incremented) and fails loudly otherwise; timings are recorded,
 * never asserted.
 *
 * Usage: npm run bench:large-room -- [--members 10000] [--messages 20] [--warmup 2]
 *   [--gap 1100] [--bursts 3] [--burst-size 10] [--burst-interval 100]
 *   [--events 500] [--senders 50] [--naive 20] [--hub-rounds 5] [--concurrency 200]
 *   [--parts 1,2,3] [--gateway-modes unread,plain] [--json] [--no-record]
 * `--json` prints the numbers as JSON on stdout (the summary then goes to stderr; `npm run -s`
 * keeps npm's banner out of stdout). Part 3 needs `bash tests/infra/up`. Everything binds
 * 127.0.0.1; the child process, the gateways and the databases it creates are gone when it ends.
 * Writes a markdown record to perf/results/.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@parley/launcher/infra';
import { gatewayFanout } from './large-room/gateway-fanout';
import { hubUnread } from './large-room/hub-unread';
import { notifyCost } from './large-room/notify-cost';
import { round } from './large-room/shared';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '10000' },
    messages: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    gap: { type: 'string', default: '1100' },
    bursts: { type: 'string', default: '3' },
    'burst-size': { type: 'string', default: '10' },
    'burst-interval': { type: 'string', default: '100' },
    events: { type: 'string', default: '500' },
    senders: { type: 'string', default: '50' },
    naive: { type: 'string', default: '20' },
    'hub-rounds': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '200' },
    parts: { type: 'string', default: '1,2,3' },
    'gateway-modes': { type: 'string', default: 'unread,plain' },
    json: { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const MEMBERS = Number(values.members);
const MESSAGES = Number(values.messages);
const WARMUP = Number(values.warmup);
const GAP_MS = Number(values.gap);
const BURSTS = Number(values.bursts);
const BURST_SIZE = Number(values['burst-size']);
const BURST_INTERVAL_MS = Number(values['burst-interval']);
const PARTS = new Set(values.parts.split(',').map((p) => p.trim()));
const MODES = values['gateway-modes'].split(',').map((m) => m.trim());
for (const m of MODES)
  if (m !== 'unread' && m !== 'plain')
    throw new Error(`--gateway-modes: unread or plain, not ${m}`);

const progress = (line: string) => process.stderr.write(`${line}\n`);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuModel = () =>
  /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ??
  cpus()[0]?.model ??
  'cpu';
const LOAD_AT_START = loadavg();
const started = performance.now();

const result: {
  members: number;
  gateway?: Record<string, Awaited<ReturnType<typeof gatewayFanout>>>;
  hub?: Awaited<ReturnType<typeof hubUnread>>;
  notify?: Awaited<ReturnType<typeof notifyCost>>;
  /** With / without unread frames, same run: single messages' CPU and bytes, bursts' CPU. */
  gatewayCpuRatio?: number;
  gatewayBytesRatio?: number;
  gatewayBurstCpuRatio?: number;
} = { members: MEMBERS };

if (PARTS.has('1')) {
  result.gateway = {};
  for (const mode of MODES) {
    progress(`part 1 (${mode}): a gateway and ${MEMBERS} WebSockets from a child process…`);
    result.gateway[mode] = await gatewayFanout({
      members: MEMBERS,
      messages: MESSAGES,
      warmup: WARMUP,
      gapMs: GAP_MS,
      bursts: BURSTS,
      burstSize: BURST_SIZE,
      burstIntervalMs: BURST_INTERVAL_MS,
      unread: mode === 'unread',
      concurrency: Number(values.concurrency),
      progress,
    });
  }
  const { unread, plain } = result.gateway;
  if (unread && plain) {
    result.gatewayCpuRatio = round(
      unread.single.gatewayCpuMsPerMessage.mean / plain.single.gatewayCpuMsPerMessage.mean,
    );
    result.gatewayBytesRatio = round(
      unread.single.wireBytesPerMessage.mean / plain.single.wireBytesPerMessage.mean,
    );
    result.gatewayBurstCpuRatio = round(
      unread.burst.gatewayCpuMsPerBurst.mean / plain.burst.gatewayCpuMsPerBurst.mean,
    );
  }
}
if (PARTS.has('2')) {
  progress(`part 2: Hubs of ${MEMBERS} sessions over counting sockets…`);
  result.hub = await hubUnread({
    members: MEMBERS,
    messages: MESSAGES,
    rounds: Number(values['hub-rounds']),
    warmup: WARMUP * 5,
    bursts: BURSTS,
    burstSize: BURST_SIZE,
    burstIntervalMs: BURST_INTERVAL_MS,
    gapMs: GAP_MS,
  });
}
if (PARTS.has('3')) {
  progress('part 3: notify on MariaDB, and a stored count per member…');
  result.notify = await notifyCost({
    members: MEMBERS,
    events: Number(values.events),
    senders: Number(values.senders),
    naiveMessages: Number(values.naive),
    notifyWarmup: 20,
    naiveWarmup: WARMUP,
    progress,
  });
}
const seconds = round((performance.now() - started) / 1000);

/** The human summary: what each part found, in a few lines. */
function human(): string {
  const out: string[] = [`bench:large-room — ${MEMBERS} members, ${seconds} s`];
  const list = (xs: readonly number[]) => xs.join(', ');
  for (const [mode, g] of Object.entries(result.gateway ?? {})) {
    const one = g.single;
    const bu = g.burst;
    out.push(
      `part 1, ${mode === 'unread' ? 'message + unread frames' : 'message frames only'} (the gateway takes the room for ${g.members} members):`,
      `  single messages (${one.messages} after ${one.warmup} warm-up, each ≥ ${one.gapMs} ms after the previous one's frames):`,
      `    publish → last message frame p50 ${one.toLastMessageFrameMs.p50} ms (max ${one.toLastMessageFrameMs.max}); first message frame p50 ${one.toFirstMessageFrameMs.p50} ms; unread pass starts p50 ${one.toUnreadPassMs.p50} ms`,
    );
    if (one.toFirstUnreadFrameMs && one.toLastUnreadFrameMs)
      out.push(
        `    publish → first unread frame p50 ${one.toFirstUnreadFrameMs.p50} ms, last unread frame p50 ${one.toLastUnreadFrameMs.p50} ms (max ${one.toLastUnreadFrameMs.max})`,
      );
    out.push(
      `    gateway CPU per message: p50 ${one.gatewayCpuMsPerMessage.p50} ms, mean ${one.gatewayCpuMsPerMessage.mean} ms (${one.gatewayCpuUsPerFrame} µs per frame); message pass p50 ${one.messagePassCpuMs.p50} ms CPU / ${one.messagePassWallMs.p50} ms, unread pass p50 ${one.unreadPassCpuMs.p50} ms CPU / ${one.unreadPassWallMs.p50} ms`,
      `    clients' CPU per message (the child, same cores): mean ${one.clientCpuMsPerMessage.mean} ms; the gateway process idle: ${g.idleCpuMsPerSecond} ms CPU/s`,
      `    per message: ${one.framesPerMessage} frames, ${one.payloadBytesPerMessage.mean} payload bytes, ${one.wireBytesPerMessage.mean} bytes on the wire`,
      `  bursts (${bu.bursts} × ${bu.size} messages ${bu.intervalMs} ms apart):`,
      `    gateway CPU per burst p50 ${bu.gatewayCpuMsPerBurst.p50} ms, mean ${bu.gatewayCpuMsPerBurst.mean} ms (message passes ${bu.messagePassesCpuMsPerBurst.mean} ms, unread passes ${bu.unreadPassesCpuMsPerBurst.mean} ms)`,
      `    per member: ${bu.messageFramesPerMember} message frames, unread frames ${list(bu.perBurst.map((b) => b.unreadFramesPerMember))} (unread passes at seqs ${bu.perBurst.map((b) => `[${list(b.unreadPassSeqs)}]`).join(' ')}); every member's final count = the burst's last seq: checked`,
      `    first publish → last message frame p50 ${bu.toLastMessageFrameMs.p50} ms${bu.toLastUnreadFrameMs ? `, → last unread frame p50 ${bu.toLastUnreadFrameMs.p50} ms` : ''}; clients' CPU per burst mean ${bu.clientCpuMsPerBurst.mean} ms`,
    );
  }
  if (result.gatewayCpuRatio !== undefined)
    out.push(
      `  with / without unread: gateway CPU per single message ×${result.gatewayCpuRatio}, bytes ×${result.gatewayBytesRatio}; per burst ×${result.gatewayBurstCpuRatio}`,
    );
  const h = result.hub;
  if (h) {
    const pm = h.perMessage;
    const bu = h.burst;
    out.push(
      `part 2, the Hub alone (${pm.withUnread.messages} messages each way, the room taken as small: unread pass at once):`,
      `  CPU per message with unread ${pm.withUnread.cpuMsPerMessage.mean} ms (p50 ${pm.withUnread.cpuMsPerMessage.p50}), without ${pm.withoutUnread.cpuMsPerMessage.mean} ms (p50 ${pm.withoutUnread.cpuMsPerMessage.p50}): ×${pm.cpuRatioMean} (p50 ×${pm.cpuRatioP50})`,
      `  message pass ${pm.withUnread.messagePassWallMs.mean} ms (p50 ${pm.withUnread.messagePassWallMs.p50}), unread pass ${pm.withUnread.unreadPassWallMs.mean} ms (p50 ${pm.withUnread.unreadPassWallMs.p50}), wall: ${pm.messagePassUsPerSession} / ${pm.unreadPassUsPerSession} µs per session; unread pass without markers ${pm.withoutUnread.unreadPassWallMs.mean} ms`,
      `  burst (${bu.bursts} × ${bu.size}, ${bu.intervalMs} ms apart): CPU small-room hub ${bu.immediate.cpuMsPerBurst.mean} ms (passes ${bu.immediate.passesCpuMsPerBurst.mean}, ${list(bu.immediate.unreadPassesPerBurst)} unread passes), coalescing hub ${bu.coalesced.cpuMsPerBurst.mean} ms (passes ${bu.coalesced.passesCpuMsPerBurst.mean}, ${list(bu.coalesced.unreadPassesPerBurst)} unread passes): ×${bu.cpuRatio} (passes ×${bu.passesCpuRatio}); idle ${bu.idleCpuMsPerSecond} ms CPU/s`,
    );
  }
  const n = result.notify;
  if (n)
    out.push(
      `part 3, notify (${n.notify.events} events, ${n.notify.senders} senders):`,
      `  wall per event p50 ${n.notify.wallMsPerEvent.p50} ms, mean ${n.notify.wallMsPerEvent.mean} ms; CPU ${n.notify.cpuMsPerEvent.mean} ms; MariaDB CPU ${n.notify.mariadbCpuMsPerEvent ?? '–'} ms`,
      `  store calls ${n.notify.storeCallsPerEvent}, writes ${n.notify.storeWritesPerEvent}, SQL statements ${n.notify.sqlStatementsPerEvent} per event; ${n.notify.publishes} publishes`,
      `  a stored count per member (${n.perMemberCounts.messages} messages, ${n.perMemberCounts.rowsWrittenPerMessage} rows each): wall p50 ${n.perMemberCounts.wallMsPerMessage.p50} ms, mean ${n.perMemberCounts.wallMsPerMessage.mean} ms; MariaDB CPU ${n.perMemberCounts.mariadbCpuMsPerMessage ?? '–'} ms`,
      `  per-member / notify: wall ×${n.ratioWall}, MariaDB CPU ×${n.ratioMariadbCpu ?? '–'}`,
    );
  return out.join('\n');
}

if (values.json) {
  console.log(JSON.stringify(result, null, 2));
  process.stderr.write(`${human()}\n`);
} else {
  console.log(human());
}

if (!values['no-record']) {
  const cmd = `npm run bench:large-room -- ${process.argv.slice(2).join(' ')}`.trim();
  const when = new Date().toISOString();
  const file = join(REPO_ROOT, 'perf', 'results', `${when.slice(0, 10)}-large-room.md`);
  writeFileSync(
    file,
    `# Unread counts in a ${MEMBERS}-member room: the gateway's two passes and notify's writes\n\n` +
      `- when: ${when}\n- command: \`${cmd}\`\n` +
      `- machine: ${cpus().length} × ${cpuModel()} (nproc ${cpus().length}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average (1, 5, 15 min) at the start ${LOAD_AT_START}, at the end ${loadavg()}\n` +
      `- part 1: one gateway (this process) on 127.0.0.1, the ${MEMBERS} clients in a child process on the same cores, the burst's publishes paced by a worker thread; part 2: in process; part 3: MariaDB ×2 of tests/infra/up (innodb_flush_log_at_trx_commit=2)\n` +
      `- took ${seconds} s\n\n` +
      '```\n' +
      human() +
      '\n```\n\n' +
      '```json\n' +
      JSON.stringify(result, null, 2) +
      '\n```\n',
  );
  progress(`recorded ${file}`);
}
