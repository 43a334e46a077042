/**
 * `npm run audit -- --since 10m`: the consistency audit as a command (audit.ts
 * is the library). Exit codes: 0 every check passed, 1 a check failed (each
 * failure names its check, room and ids / seqs), 2 bad arguments or
 * environment. `--json` prints the whole report for machines.
 */
import { createLogger } from '@parley/runtime';
import { audit } from './audit';
import { parseAuditCommand, USAGE, UsageError } from './audit-config';
import { formatReport } from './audit-format';

async function main(): Promise<number> {
  let command: ReturnType<typeof parseAuditCommand>;
  try {
    command = parseAuditCommand(process.argv.slice(2), { env: process.env, now: Date.now() });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`audit: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // What the audit could not reach is in the report; logs (to stdout, like every Parley
  // process) only with LOG_LEVEL, for debugging — they would interleave with the report.
  const log = createLogger('audit', process.env.LOG_LEVEL ?? 'silent');
  const report = await audit({ ...command.options, log });
  await new Promise<void>((resolve) =>
    process.stdout.write(
      command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, command.source),
      () => resolve(),
    ),
  );
  return report.ok ? 0 : 1;
}

// Exit explicitly: a client library's idle timer must not keep a finished audit alive.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `audit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(2);
  },
);
