/** The audit report for a person: one line per check, then every failure, warning and dead letter. */
import type { AuditReport } from './audit';
import { CHECKS, type CheckName, type Finding } from './audit-findings';

const SUMMARY: Record<CheckName, (r: AuditReport) => string> = {
  'exactly-once': (r) =>
    `${r.rooms.reduce((n, x) => n + x.messages, 0)} messages in ${r.rooms.length} rooms`,
  seq: (r) => `${r.rooms.filter((x) => x.messages > 0).length} rooms with messages`,
  'sender-order': () => '',
  'recent-cache': (r) => {
    const n = (s: string) => r.rooms.filter((x) => x.cache?.state === s).length;
    return `${n('tail')} complete up to the newest seq, ${n('holes')} with holes, ${n('cold')} cold`;
  },
  'search-index': (r) => `${r.rooms.reduce((n, x) => n + (x.indexed ?? 0), 0)} documents`,
  'dead-letters': (r) => {
    const counted = r.deadLetters.filter((d) => d.counted).length;
    const expected = r.deadLetters.filter((d) => d.expected).length;
    return `${r.deadLetters.length} records read, ${counted} in scope${expected ? `, ${expected} expected` : ''}`;
  },
  'consumer-lag': (r) => {
    const groups = new Set(r.lag.map((l) => l.group));
    return `${groups.size} groups, ${r.lag.length} partitions`;
  },
  audit: () => '',
};

const line = (f: Finding) =>
  `  ${f.check.padEnd(13)} ${f.roomId ? `${f.roomId} ` : ''}[${f.problem}] ${f.message}`;

/** @example process.stdout.write(formatReport(report, 'the environment')) */
export function formatReport(r: AuditReport, source: string): string {
  const out: string[] = [];
  out.push(
    `Parley audit of ${source}, ${r.startedAt}`,
    `scope: ${r.scope.mode === 'since' ? `rooms with messages since ${r.scope.since}` : r.scope.mode === 'all' ? 'every room' : 'the rooms asked for'} (${r.scope.rooms} rooms)`,
    `MySQL ${r.targets.mysql.join(' + ')}`,
  );
  if (r.targets.redis)
    out.push(`Redis ${r.targets.redis} (keys ${r.targets.recentPrefix}<roomId>)`);
  if (r.targets.elasticsearch)
    out.push(`Elasticsearch ${r.targets.elasticsearch} (alias ${r.targets.alias})`);
  if (r.targets.kafka) out.push(`Kafka ${r.targets.kafka}`);
  out.push('', 'checks:');
  for (const check of CHECKS) {
    const c = r.checks[check];
    if (check === 'audit' && c.status === 'pass' && !c.warnings) continue;
    const status = c.status === 'fail' ? 'FAIL' : c.status === 'skipped' ? 'skipped' : 'pass';
    const counts = [
      c.failures ? `${c.failures} failure${c.failures === 1 ? '' : 's'}` : '',
      c.warnings ? `${c.warnings} warning${c.warnings === 1 ? '' : 's'}` : '',
    ].filter(Boolean);
    const summary = c.status === 'skipped' ? '' : SUMMARY[check](r);
    const tail = [...counts, summary].filter(Boolean).join('; ');
    out.push(`  ${check.padEnd(13)} ${status.padEnd(7)} ${tail}`);
  }
  if (r.failures.length) out.push('', 'failures:', ...r.failures.map(line));
  if (r.warnings.length) out.push('', 'warnings:', ...r.warnings.map(line));
  if (r.deadLetters.length) {
    out.push('', 'dead letters:');
    for (const d of r.deadLetters) {
      const mark = d.expected ? 'expected' : d.counted ? 'IN SCOPE' : 'out of scope';
      out.push(
        `  ${d.topic} p${d.partition} @${d.offset} ${d.type ?? '?'} id=${d.id ?? '?'} key=${d.key ?? '-'} time=${d.time ?? '?'} code=${d.errorCode ?? 'none'} (${mark})${d.reason ? `\n      reason: ${d.reason}` : ''}`,
      );
    }
  }
  const lagging = r.lag.filter((l) => l.lag !== '0');
  if (r.lag.length) {
    out.push('', `consumer lag: ${lagging.length ? '' : 'every partition at 0'}`);
    for (const l of lagging) {
      out.push(
        `  ${l.group} ${l.topic} p${l.partition}: committed ${l.committed ?? 'none'}, end ${l.end}, lag ${l.lag}${l.moved === undefined ? '' : l.moved ? ' (moving)' : ' (stuck)'}`,
      );
    }
  }
  if (r.notes.length) out.push('', ...r.notes.map((n) => `note: ${n}`));
  out.push(
    '',
    r.ok
      ? `OK: every check passed (${r.warnings.length} warnings)`
      : `FAILED: ${r.failures.length} failure${r.failures.length === 1 ? '' : 's'}, ${r.warnings.length} warnings`,
  );
  return `${out.join('\n')}\n`;
}
