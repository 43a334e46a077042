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

/** The chat scenario's command-line options (`--users --rooms --rate --duration --warmup --body-chars`). */
export interface ChatArgs {
  users?: string | undefined;
  rooms?: string | undefined;
  rate?: string | undefined;
  duration?: string | undefined;
  warmup?: string | undefined;
  'body-chars'?: string | undefined;
}

/**
 * The chat scenario's fields those options override (undefined: the scenario file's value).
 * @example withOverrides(ChatScenarioSchema, scenarios.chat, chatOverrides(args))
 */
export const chatOverrides = (a: ChatArgs) => ({
  users: num(a.users, 'users'),
  rooms: num(a.rooms, 'rooms'),
  ratePerSecond: num(a.rate, 'rate'),
  durationSeconds: num(a.duration, 'duration'),
  warmupSeconds: num(a.warmup, 'warmup'),
  bodyChars: num(a['body-chars'], 'body-chars'),
});
