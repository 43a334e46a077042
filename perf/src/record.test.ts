import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  commitInfo,
  cpuMarkdown,
  machineInfo,
  type RunRecord,
  recordBaseName,
  writeRecord,
} from './record';

/** A throwaway git repository with one commit. */
function repo(): { dir: string; sha: string } {
  const dir = mkdtempSync(join(tmpdir(), 'record-test-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  git('init', '-q');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git('add', 'a.txt');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
  return { dir, sha: git('rev-parse', '--short', 'HEAD').trim() };
}

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  name: 'stress',
  when: '2026-12-01T09:07:05.000Z',
  command: "npm run bench:stress -- --mode real --max-rate 900 --note 'a b'",
  machine: machineInfo(),
  commit: { sha: 'abc1234', dirty: true, changes: [' M perf/src/record.ts'] },
  target: 'embedded',
  scenario: { startRate: 100, stepRate: 100 },
  results: { knee: { offered: 700 } },
  cpu: [
    { name: 'gateway', cpuMs: 1000, perUnitMs: 0.5 },
    { name: 'client', cpuMs: 3000, perUnitMs: 1.5 },
  ],
  ...over,
});

describe('commitInfo', () => {
  it('names the commit and says whether the tree differs from it', () => {
    const { dir, sha } = repo();
    expect(commitInfo(dir)).toEqual({ sha, dirty: false, changes: [] });
    writeFileSync(join(dir, 'a.txt'), 'changed\n');
    writeFileSync(join(dir, 'new.txt'), 'new\n');
    const dirty = commitInfo(dir);
    expect(dirty.sha).toBe(sha);
    expect(dirty.dirty).toBe(true);
    expect(dirty.changes).toEqual([' M a.txt', '?? new.txt']);
  });

  it('says unknown outside a repository', () => {
    expect(commitInfo(mkdtempSync(join(tmpdir(), 'no-repo-'))).sha).toBe('unknown');
  });
});

describe('writeRecord', () => {
  it('writes the JSON and markdown with the command, the commit and the machine, and the SVG when given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'records-'));
    const r = record();
    const files = writeRecord(dir, r, {
      title: 'Stress',
      body: '## Steps\n\nsome table',
      svg: '<svg/>',
    });
    expect(files.json).toBe(join(dir, '2026-12-01-0907-stress.json'));
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect(json).toEqual(r);
    const md = readFileSync(files.md, 'utf8');
    expect(md).toContain(`- command: \`${r.command}\``);
    expect(md).toContain('- commit: abc1234 with uncommitted changes (1 files');
    expect(md).toContain(`${r.machine.cpus} × ${r.machine.model}`);
    expect(md).toContain('## Steps\n\nsome table');
    expect(md).toContain('](2026-12-01-0907-stress.svg)');
    expect(md).toContain('"startRate": 100');
    expect(readFileSync(files.svg as string, 'utf8')).toBe('<svg/>');
  });

  it('writes no SVG and no link without a plot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'records-'));
    const files = writeRecord(dir, record({ cpu: undefined }), { title: 'x', body: '' });
    expect(files.svg).toBeUndefined();
    expect(readFileSync(files.md, 'utf8')).not.toContain('.svg');
  });
});

describe('helpers', () => {
  it('cpuMarkdown lists processes largest first with the sums', () => {
    const md = cpuMarkdown(record().cpu ?? []);
    const rows = md.split('\n').slice(2);
    expect(rows[0]).toBe('| client | 3000 | 1.500 |');
    expect(rows[1]).toBe('| gateway | 1000 | 0.500 |');
    expect(rows[2]).toBe('| **all** | **4000** | **2.000** |');
  });

  it('recordBaseName is the UTC minute and a file-safe name', () => {
    expect(recordBaseName(new Date('2026-01-02T03:04:59Z'), 'chat 500/s')).toBe(
      '2026-01-02-0304-chat-500-s',
    );
  });

  it('commandLine quotes what a shell would split', () => {
    expect(commandLine('bench', ['--rate', '500', '--note', "it's x"])).toBe(
      `npm run bench -- --rate 500 --note 'it'\\''s x'`,
    );
    expect(commandLine('bench', [])).toBe('npm run bench');
  });
});
