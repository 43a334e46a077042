/**
 * Every workspace declares what its code imports, and the house rules that
 * keep each deployable deployable alone hold (docs/architecture.md):
 * - a package imported by a workspace's code is in its `dependencies` (test
 *   code may also use its `devDependencies` and the root's);
 * - a function imports no other function; the gateway imports no function;
 * - no import reaches into another workspace by a relative path;
 * - `main` and every `exports` target of a package.json exist.
 * Imports are read with TypeScript's own pre-processor (static, type-only,
 * re-exports and dynamic `import()`), not with a regex.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/infra';

interface PackageJson {
  name: string;
  main?: string;
  exports?: Record<string, string>;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readJson = (p: string): PackageJson => JSON.parse(readFileSync(p, 'utf8'));
const root = readJson(join(REPO_ROOT, 'package.json'));

/** The workspace folders of the root package.json (`functions/*` expanded). */
function workspaceDirs(): string[] {
  return (root.workspaces ?? []).flatMap((w) => {
    if (!w.endsWith('/*')) return [w];
    const parent = w.slice(0, -2);
    return readdirSync(join(REPO_ROOT, parent))
      .map((d) => `${parent}/${d}`)
      .filter((d) => existsSync(join(REPO_ROOT, d, 'package.json')));
  });
}

const SKIP_DIRS = new Set(['node_modules', 'dist', 'public', '.parley']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry) || entry.startsWith('.')) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`; builtins and relative paths → undefined. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0] as string))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Test code and tool configs: may use devDependencies (their own and the root's). */
const isTestCode = (file: string, wsDir: string): boolean =>
  wsDir === 'tests' ||
  /\.(test|contract|testing)\.tsx?$/.test(file) ||
  /(^|\/)testing\.ts$/.test(file) ||
  /(^|\/)[a-z]+\.config\.ts$/.test(file);

/**
 * The k6 scripts (perf/k6) run inside k6, not Node: their `k6` and `k6/*` imports are k6's own
 * modules (typed by the root's @types/k6), and they may import nothing else from npm.
 */
const isK6Script = (file: string): boolean => /^perf\/k6\/(?!.*\.test\.ts$)/.test(file);
const isK6Module = (spec: string): boolean => spec === 'k6' || spec.startsWith('k6/');

const importsOf = (file: string): string[] =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);

const workspaces = workspaceDirs().map((dir) => ({
  dir,
  pkg: readJson(join(REPO_ROOT, dir, 'package.json')),
  files: sourceFiles(join(REPO_ROOT, dir)),
}));

describe('workspaces', () => {
  it('finds every workspace and its code', () => {
    expect(workspaces.map((w) => w.dir)).toEqual(
      expect.arrayContaining(['runtime', 'eventing', 'launcher', 'connection-gateway']),
    );
    for (const w of workspaces) expect(w.files.length, w.dir).toBeGreaterThan(0);
  });

  it.each(workspaces.map((w) => [w.dir, w] as const))(
    '%s declares every package its code imports',
    (_dir, w) => {
      const deps = new Set([
        ...Object.keys(w.pkg.dependencies ?? {}),
        ...Object.keys(w.pkg.peerDependencies ?? {}),
        ...Object.keys(w.pkg.optionalDependencies ?? {}),
        w.pkg.name,
      ]);
      const devDeps = new Set([
        ...deps,
        ...Object.keys(w.pkg.devDependencies ?? {}),
        ...Object.keys(root.devDependencies ?? {}),
      ]);
      const undeclared: string[] = [];
      for (const file of w.files) {
        const rel = relative(REPO_ROOT, file);
        const allowed = isTestCode(rel, w.dir) ? devDeps : deps;
        for (const spec of importsOf(file)) {
          if (isK6Script(rel) && isK6Module(spec)) continue;
          const pkg = packageOf(spec);
          if (pkg && !allowed.has(pkg)) undeclared.push(`${relative(REPO_ROOT, file)}: ${spec}`);
        }
      }
      expect(undeclared, `add these to ${w.dir}/package.json`).toEqual([]);
    },
  );

  it('no function imports another function, and the gateway imports none', () => {
    const crossings: string[] = [];
    for (const w of workspaces) {
      const isFunction = w.dir.startsWith('functions/');
      if (!isFunction && w.dir !== 'connection-gateway') continue;
      for (const file of w.files) {
        for (const spec of importsOf(file)) {
          const pkg = packageOf(spec);
          if (pkg?.startsWith('@parley/fn-') && pkg !== w.pkg.name)
            crossings.push(`${relative(REPO_ROOT, file)}: ${spec}`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it('no relative import leaves its workspace', () => {
    const escapes: string[] = [];
    for (const w of workspaces) {
      const top = join(REPO_ROOT, w.dir);
      for (const file of w.files) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = resolve(dirname(file), spec);
          if (relative(top, target).startsWith('..'))
            escapes.push(`${relative(REPO_ROOT, file)}: ${spec}`);
        }
      }
    }
    expect(escapes, 'import the other workspace by its package name').toEqual([]);
  });

  it('every main and exports target exists', () => {
    const missing: string[] = [];
    for (const w of workspaces) {
      const targets = [
        ...(w.pkg.main ? [w.pkg.main] : []),
        ...Object.values(w.pkg.exports ?? {}).filter((t) => !t.includes('*')),
      ];
      for (const t of targets)
        if (!existsSync(join(REPO_ROOT, w.dir, t))) missing.push(`${w.dir}: ${t}`);
    }
    expect(missing).toEqual([]);
  });
});
