/** What the harness's commands share: where records go and how a numeric option is read. */
import { join } from 'node:path';
import { REPO_ROOT } from '@parley/launcher/infra';

/** Where records go. */
export const RESULTS_DIR = join(REPO_ROOT, 'perf', 'results');

/** A numeric option, or undefined when not given; a non-number is refused. */
export function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, not ${v}`);
  return n;
}
