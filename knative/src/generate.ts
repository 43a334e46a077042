/**
 * Writes the kustomize base knative/base/ from the deployment table:
 *   npm run manifests            (tsx knative/src/generate.ts)
 *   npm run manifests -- --check (exit 1 if the committed base differs; writes nothing)
 *   npm run manifests -- --names (prints `<name> <kind>` per deployable, for knative/deploy.sh)
 * Files in knative/base/ that the table no longer makes are removed.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYMENTS } from '@parley/eventing/deployments';
import { renderBase } from './manifests';

export const BASE_DIR = fileURLToPath(new URL('../base/', import.meta.url));

/** Paths (relative to knative/base/) whose committed contents differ from the generator's. */
export function staleFiles(dir = BASE_DIR): string[] {
  const want = renderBase();
  const have = new Set(readdirSync(dir).filter((f) => f.endsWith('.yaml')));
  const stale: string[] = [];
  for (const [path, text] of want) {
    if (!have.has(path) || readFileSync(join(dir, path), 'utf8') !== text) stale.push(path);
    have.delete(path);
  }
  return [...stale, ...have];
}

function main(): void {
  if (process.argv.includes('--names')) {
    for (const d of DEPLOYMENTS) console.log(`${d.name} ${d.kind}`);
    return;
  }
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`knative/base is stale (${stale.join(', ')}): run npm run manifests`);
      process.exit(1);
    }
    console.log('knative/base is up to date');
    return;
  }
  mkdirSync(BASE_DIR, { recursive: true });
  const files = renderBase();
  for (const f of readdirSync(BASE_DIR))
    if (f.endsWith('.yaml') && !files.has(f)) rmSync(join(BASE_DIR, f));
  for (const [path, text] of files) writeFileSync(join(BASE_DIR, path), text);
  console.log(`wrote ${files.size} files to knative/base/`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
