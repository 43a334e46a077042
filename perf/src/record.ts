/**
 * The record every benchmark run leaves in perf/results/: `<YYYY-MM-DD-HHMM>-<name>.json` for
 * machines and `.md` for people (plus an `.svg` plot when the run has one), each holding what a
 * reader needs to trust or repeat the numbers: the machine, the commit (and whether the working
 * tree differed from it), the exact command, the scenario numbers and the results.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** Load average (1, 5, 15 min) when the record was made: others' work on a shared machine. */
  loadavg: number[];
}

export interface CommitInfo {
  /** `git rev-parse --short HEAD`, or 'unknown' outside a repository. */
  sha: string;
  /** True when the working tree differed from the commit (the numbers are of uncommitted code). */
  dirty: boolean;
  /** `git status --short` lines when dirty (what differed), at most 200. */
  changes: string[];
}

export interface CpuRow {
  name: string;
  cpuMs: number;
  /** CPU ms per unit of work (a stored message), when the run has a count. */
  perUnitMs?: number;
}

export interface RunRecord {
  /** What ran, in the file name: `stress`, `chat-500`, `bench`. */
  name: string;
  /** ISO time the run started. */
  when: string;
  /** The command as typed, e.g. `npm run bench:chat -- --mode real --rate 500`. */
  command: string;
  machine: MachineInfo;
  commit: CommitInfo;
  /** What was driven: `embedded`, `real stack …`, a URL. */
  target: string;
  /** The scenario numbers used (after command-line overrides). */
  scenario: unknown;
  results: unknown;
  /** CPU per process over the measured part of the run. */
  cpu?: CpuRow[];
  notes?: string[];
}

/** This machine, now. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The commit of `repoRoot` and whether its working tree differs from it. */
export function commitInfo(repoRoot: string): CommitInfo {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  try {
    const sha = git('rev-parse', '--short', 'HEAD').trim();
    const changes = git('status', '--short', '--untracked-files=all')
      .split('\n')
      .filter((l) => l.trim().length > 0);
    return { sha, dirty: changes.length > 0, changes: changes.slice(0, 200) };
  } catch {
    return { sha: 'unknown', dirty: false, changes: [] };
  }
}

/** `npm run <script> -- <args>` for the running process, the way a reader would type it again. */
export function commandLine(script: string, argv = process.argv.slice(2)): string {
  const quoted = argv.map((a) => (/^[\w./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return `npm run ${script}${quoted.length ? ` -- ${quoted.join(' ')}` : ''}`;
}

/** `<YYYY-MM-DD-HHMM>-<name>` (UTC), the base name of a run's files. */
export function recordBaseName(when: Date, name: string): string {
  const iso = when.toISOString();
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `${iso.slice(0, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}-${safe}`;
}

/** A markdown table; numbers are printed as they are (round them before). */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The CPU table of a run: per process, total and per unit, largest first, with the sum. */
export function cpuMarkdown(rows: CpuRow[], unit = 'stored message'): string {
  const sorted = [...rows].sort((a, b) => b.cpuMs - a.cpuMs);
  const total = sorted.reduce((s, r) => s + r.cpuMs, 0);
  const perTotal = sorted.every((r) => r.perUnitMs !== undefined)
    ? sorted.reduce((s, r) => s + (r.perUnitMs ?? 0), 0)
    : undefined;
  const fmt = (x: number | undefined) => (x === undefined ? '' : x.toFixed(3));
  return markdownTable(
    ['process', 'CPU ms', `CPU ms per ${unit}`],
    [
      ...sorted.map((r) => [r.name, r.cpuMs.toFixed(0), fmt(r.perUnitMs)]),
      ['**all**', `**${total.toFixed(0)}**`, perTotal === undefined ? '' : `**${fmt(perTotal)}**`],
    ],
  );
}

/** The markdown head every record starts with: title, when, command, machine, commit, target. */
export function recordHead(r: RunRecord, title: string): string {
  const m = r.machine;
  return [
    `# ${title}`,
    '',
    `- when: ${r.when}`,
    `- command: \`${r.command}\``,
    `- machine: ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}); load average at the end ${m.loadavg.join(' ')}`,
    `- commit: ${r.commit.sha}${r.commit.dirty ? ` with uncommitted changes (${r.commit.changes.length} files, listed in the JSON)` : ''}`,
    `- target: ${r.target}`,
    ...(r.notes ?? []).map((n) => `- ${n}`),
    '',
  ].join('\n');
}

export interface WrittenRecord {
  json: string;
  md: string;
  svg?: string;
}

/**
 * Writes `<dir>/<base>.json` (the record), `<base>.md` (the head, then `body`, then the scenario
 * as JSON) and, when given, `<base>.svg`, linked from the markdown (`svgAlt` its alt text).
 */
export function writeRecord(
  dir: string,
  record: RunRecord,
  opts: { title: string; body: string; svg?: string; svgAlt?: string },
): WrittenRecord {
  mkdirSync(dir, { recursive: true });
  const base = recordBaseName(new Date(record.when), record.name);
  const json = join(dir, `${base}.json`);
  const md = join(dir, `${base}.md`);
  writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
  const parts = [recordHead(record, opts.title)];
  if (opts.svg) parts.push(`![${opts.svgAlt ?? 'latency against offered load'}](${base}.svg)\n`);
  parts.push(opts.body.trimEnd(), '');
  if (record.cpu?.length) parts.push('## CPU per process', '', cpuMarkdown(record.cpu), '');
  parts.push(
    '## Scenario',
    '',
    '```json',
    JSON.stringify(record.scenario, null, 2),
    '```',
    '',
    `Machine-readable: [${base}.json](${base}.json).`,
    '',
  );
  writeFileSync(md, parts.join('\n'));
  if (!opts.svg) return { json, md };
  const svg = join(dir, `${base}.svg`);
  writeFileSync(svg, opts.svg);
  return { json, md, svg };
}
