/**
 * The build: one self-contained ESM bundle per deployable of the deployment
 * table (eventing/src/deployments.ts), what its image holds and what real mode
 * runs. `npm run build` runs this file (`tsx launcher/src/build.ts [name…]`).
 *
 * - function `<dir>/dist/index.mjs` (+ `.map`): its `src/index.ts` (which
 *   registers the Functions Framework target) followed by
 *   `serveFunction('<name>')`. Starts with plain `node dist/index.mjs`: every
 *   npm package is inside, no node_modules, no tsx, no repository around it.
 * - migrate step `<dir>/dist/migrate.mjs` from `src/migrate.ts`, and its
 *   `*.sql` in `<dir>/dist/migrations/` (the readers resolve
 *   `new URL('./migrations/', import.meta.url)`, i.e. beside the bundle).
 * - gateway `connection-gateway/dist/index.mjs` from `src/main.ts`, and the
 *   web client (webapp/dist, rebuilt by scripts/ensure-webapp.sh when its
 *   sources changed) in `connection-gateway/dist/public/`.
 * - eventing's local stand-ins for KafkaSource / KafkaSink / topic creation:
 *   `eventing/dist/kafka-{source,sink,topics}.mjs` (real mode runs them; no image).
 *
 * All bundles come from one esbuild run (each module parsed once, outputs
 * written in parallel). Node builtins stay imports; CommonJS packages that
 * call `require` get one from the banner's `createRequire`.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { DEPLOYMENTS } from '@parley/eventing/deployments';
import { type BuildOptions as EsbuildOptions, build as esbuild, type Plugin } from 'esbuild';
import { REPO_ROOT } from './infra';

/** The Node version the bundles are compiled for: the oldest one Parley still runs on. */
export const BUNDLE_TARGET = 'node20';

/** The local eventing stand-ins real mode runs (not deployables: Knative has the real ones). */
export const STAND_INS = ['kafka-source', 'kafka-sink', 'kafka-topics'] as const;

/**
 * Gives CommonJS packages inside an ESM bundle the `require` they call for
 * Node builtins (esbuild's `__require` shim uses it when it exists), and the
 * `__dirname` / `__filename` some of them read (ioredis builds error stacks
 * and looks for its package.json with it; without them, a ReferenceError).
 */
const BANNER = [
  "import { createRequire as __parleyCreateRequire } from 'node:module';",
  "import { dirname as __parleyDirname } from 'node:path';",
  "import { fileURLToPath as __parleyFileURLToPath } from 'node:url';",
  'const require = __parleyCreateRequire(import.meta.url);',
  'const __filename = __parleyFileURLToPath(import.meta.url);',
  'const __dirname = __parleyDirname(__filename);',
].join('\n');

/** How every bundle is built (the cold-start benchmark rebuilds its variants with these too). */
export const BUNDLE_OPTIONS = {
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: false,
  platform: 'node',
  target: BUNDLE_TARGET,
  format: 'esm',
  // Every npm package goes in; only Node's builtins stay imports (platform node does that).
  packages: 'bundle',
  sourcemap: 'linked',
  // Stack traces need only the mappings (NODE_OPTIONS=--enable-source-maps); keep the maps small.
  sourcesContent: false,
  // Classes and functions keep their names (errors, logs) even where esbuild renames a clash.
  keepNames: true,
  banner: { js: BANNER },
  // The bundled packages' licence notices stay with the code that ships.
  legalComments: 'eof',
  logLevel: 'silent',
  metafile: true,
  absWorkingDir: REPO_ROOT,
} as const satisfies EsbuildOptions;

export interface BuildOptions {
  /** Build only these deployables and/or stand-ins (by name); default everything. */
  only?: readonly string[];
  /** One line per output; default none (the CLI prints to stdout). */
  log?: (line: string) => void;
}

export interface BuiltOutput {
  /** The deployable or stand-in it belongs to. */
  target: string;
  /** Repository-relative path: a file, or a folder (ends with `/`). */
  path: string;
  bytes: number;
  /** Files in a folder output. */
  files?: number;
  /** Bytes of the bundle's source map, if any. */
  mapBytes?: number;
}

export interface BuildResult {
  outputs: BuiltOutput[];
  ms: number;
}

interface Entry {
  target: string;
  /** Output path without extension, relative to the repository root. */
  out: string;
  /** A repository-relative source file, or the contents of a virtual entry. */
  source: { file: string } | { virtual: string; resolveDir: string };
}

const abs = (p: string) => join(REPO_ROOT, p);

/** The virtual entry of a function: register the target, then serve it. */
export function functionEntry(name: string, dir: string): string {
  return [
    `import ${JSON.stringify(abs(`${dir}/src/index.ts`))};`,
    `import { serveFunction } from ${JSON.stringify(abs('runtime/src/serve-function.ts'))};`,
    `serveFunction(${JSON.stringify(name)});`,
    '',
  ].join('\n');
}

/** Serves `parley-entry:<out>` modules from the table of virtual entries. */
function virtualEntries(entries: Map<string, { virtual: string; resolveDir: string }>): Plugin {
  return {
    name: 'parley-virtual-entries',
    setup(b) {
      b.onResolve({ filter: /^parley-entry:/ }, (args) => ({
        path: args.path.slice('parley-entry:'.length),
        namespace: 'parley-entry',
      }));
      b.onLoad({ filter: /.*/, namespace: 'parley-entry' }, (args) => {
        const e = entries.get(args.path);
        if (!e) return { errors: [{ text: `no virtual entry ${args.path}` }] };
        return { contents: e.virtual, resolveDir: e.resolveDir, loader: 'ts' };
      });
    },
  };
}

export function buildTargets(): string[] {
  return [...DEPLOYMENTS.map((d) => d.name), ...STAND_INS];
}

async function folderSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { bytes, files };
}

/** Rebuilds webapp/dist when its sources changed (scripts/ensure-webapp.sh). */
async function ensureWebClient(): Promise<void> {
  await promisify(execFile)('bash', ['scripts/ensure-webapp.sh'], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Copies a migration folder's `*.sql` to `<dir>/dist/migrations/` (replacing what was there). */
async function copyMigrations(target: string, from: string, dir: string): Promise<BuiltOutput> {
  const to = `${dir}/dist/migrations/`;
  await rm(abs(to), { recursive: true, force: true });
  await mkdir(abs(to), { recursive: true });
  const sql = (await readdir(abs(from))).filter((f) => f.endsWith('.sql')).sort();
  if (!sql.length) throw new Error(`${target}: no *.sql in ${from}`);
  await Promise.all(sql.map((f) => copyFile(abs(join(from, f)), abs(join(to, f)))));
  return { target, path: to, ...(await folderSize(abs(to))) };
}

/** Copies the built web client into the gateway's `dist/public/` (replacing what was there). */
async function copyWebClient(target: string, dir: string): Promise<BuiltOutput> {
  const to = `${dir}/dist/public/`;
  await rm(abs(to), { recursive: true, force: true });
  await cp(abs('webapp/dist'), abs(to), {
    recursive: true,
    filter: (src) => !src.endsWith('.source-hash'),
  });
  return { target, path: to, ...(await folderSize(abs(to))) };
}

/**
 * Bundles every deployable (or those named in `only`) into its `dist/`.
 * @example await build({ only: ['users'] }) // functions/users/dist/index.mjs, migrate.mjs, migrations/
 */
export async function build(opts: BuildOptions = {}): Promise<BuildResult> {
  const started = Date.now();
  const all = buildTargets();
  const unknown = (opts.only ?? []).filter((n) => !all.includes(n));
  if (unknown.length) {
    throw new Error(`unknown build target ${unknown.join(', ')}; known: ${all.join(', ')}`);
  }
  const wanted = (name: string) => !opts.only?.length || opts.only.includes(name);

  const entries: Entry[] = [];
  const copies: (() => Promise<BuiltOutput>)[] = [];
  let webClient: Promise<void> | undefined;
  for (const d of DEPLOYMENTS) {
    if (!wanted(d.name)) continue;
    if (d.kind === 'gateway') {
      entries.push({
        target: d.name,
        out: `${d.dir}/dist/index`,
        source: { file: `${d.dir}/src/main.ts` },
      });
      webClient = ensureWebClient();
      copies.push(async () => {
        await webClient;
        return copyWebClient(d.name, d.dir);
      });
    } else {
      entries.push({
        target: d.name,
        out: `${d.dir}/dist/index`,
        source: { virtual: functionEntry(d.name, d.dir), resolveDir: abs(d.dir) },
      });
    }
    const m: { env: readonly string[]; sql?: string } | undefined =
      'migrate' in d ? d.migrate : undefined;
    if (m) {
      entries.push({
        target: d.name,
        out: `${d.dir}/dist/migrate`,
        source: { file: `${d.dir}/src/migrate.ts` },
      });
      const sql = m.sql;
      if (sql) copies.push(() => copyMigrations(d.name, sql, d.dir));
    }
  }
  for (const s of STAND_INS) {
    if (wanted(s))
      entries.push({
        target: s,
        out: `eventing/dist/${s}`,
        source: { file: `eventing/src/${s}.main.ts` },
      });
  }

  const virtual = new Map<string, { virtual: string; resolveDir: string }>();
  const entryPoints: Record<string, string> = {};
  for (const e of entries) {
    if ('file' in e.source) entryPoints[e.out] = abs(e.source.file);
    else {
      virtual.set(e.out, e.source);
      entryPoints[e.out] = `parley-entry:${e.out}`;
    }
  }

  // A deployable's dist/ is the whole of its image: nothing stale may stay in it (e.g. a migrate
  // step that was dropped). eventing/dist holds only the stand-ins, which are overwritten.
  await Promise.all(
    DEPLOYMENTS.filter((d) => wanted(d.name)).map((d) =>
      rm(abs(`${d.dir}/dist`), { recursive: true, force: true }),
    ),
  );

  const bundling = entries.length
    ? esbuild({
        ...BUNDLE_OPTIONS,
        entryPoints,
        outdir: REPO_ROOT,
        plugins: [virtualEntries(virtual)],
      })
    : undefined;

  const [result, copied] = await Promise.all([bundling, Promise.all(copies.map((c) => c()))]);
  for (const w of result?.warnings ?? []) {
    opts.log?.(`warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
  }

  const outputs: BuiltOutput[] = [];
  const files = result?.metafile?.outputs ?? {};
  for (const e of entries) {
    const file = `${e.out}.mjs`;
    const meta = files[file];
    if (!meta) throw new Error(`esbuild wrote no ${file}`);
    const map = files[`${file}.map`];
    outputs.push({
      target: e.target,
      path: file,
      bytes: meta.bytes,
      ...(map ? { mapBytes: map.bytes } : {}),
    });
  }
  outputs.push(...copied);
  outputs.sort((a, b) => a.path.localeCompare(b.path));
  for (const o of outputs) opts.log?.(describe(o));
  return { outputs, ms: Date.now() - started };
}

const size = (n: number) =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`;

/** One line per output: path, size, and the map's size or the number of files. */
export function describe(o: BuiltOutput): string {
  const extra =
    o.mapBytes !== undefined
      ? `  (map ${size(o.mapBytes)})`
      : o.files !== undefined
        ? `  (${o.files} file${o.files === 1 ? '' : 's'})`
        : '';
  return `${o.path.padEnd(52)} ${size(o.bytes).padStart(9)}${extra}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const only = process.argv.slice(2);
    const { outputs, ms } = await build({
      ...(only.length ? { only } : {}),
      log: (line) => console.log(line),
    });
    console.log(
      `built ${outputs.length} outputs in ${ms} ms (${relative(process.cwd(), REPO_ROOT) || '.'})`,
    );
  } catch (err) {
    console.error(`build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
