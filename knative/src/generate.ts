/**
 * Writes the kustomize base knative/base/ from the deployment table:
 *   npm run manifests            (tsx knative/src/generate.ts)
 *   npm run manifests -- --check (exit 1 if the committed base differs; writes nothing)
 *   npm run manifests -- --names (prints `<name> <kind>` per deployable, for knative/deploy.sh)
 * and the Prometheus Operator component knative/components/monitoring/ (monitoring.ts).
 * Files in either that the generator no longer makes are removed.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOYMENTS } from '@parley/eventing/deployments';
import { renderBase } from './manifests';
import { MONITORING_DIR, renderMonitoring } from './monitoring';

export const BASE_DIR = fileURLToPath(new URL('../base/', import.meta.url));

/** Paths (relative to knative/base/) whose committed contents differ from the generator's. */
export function staleFiles(dir = BASE_DIR): string[] {
  return staleIn(dir, renderBase());
}

/** Paths (relative to knative/components/monitoring/) that differ from the generator's. */
export function staleMonitoringFiles(dir = MONITORING_DIR): string[] {
  return staleIn(dir, renderMonitoring());
}

function staleIn(dir: string, want: Map<string, string>): string[] {
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
    const stale = [
      ...staleFiles().map((f) => `base/${f}`),
      ...staleMonitoringFiles().map((f) => `components/monitoring/${f}`),
    ];
    if (stale.length) {
      console.error(`knative/ is stale (${stale.join(', ')}): run npm run manifests`);
      process.exit(1);
    }
    console.log('knative/base and knative/components/monitoring are up to date');
    return;
  }
  write(BASE_DIR, renderBase(), 'knative/base/');
  write(MONITORING_DIR, renderMonitoring(), 'knative/components/monitoring/');
}

function write(dir: string, files: Map<string, string>, label: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.yaml') && !files.has(f)) rmSync(join(dir, f));
  for (const [path, text] of files) writeFileSync(join(dir, path), text);
  console.log(`wrote ${files.size} files to ${label}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
