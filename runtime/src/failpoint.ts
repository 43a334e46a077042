/**
 * Failpoints: named places in a function where the fault suite
 * (tests/faults) makes a process fail the way production ones do — killed
 * between two steps, answering with an error, or slow. Armed only from the
 * command line, `node index.mjs --failpoints=<name>=<action>[,…]`, which no
 * manifest and no launcher mode passes; unarmed, `failpoint()` costs one Map
 * lookup.
 *
 * Actions: `kill` (SIGKILL on the spot, like an OOM-killed pod), `error` (the
 * step throws, so the function answers 5xx and the source redelivers),
 * `delay:<ms>` (the step waits first).
 *
 * @example await failpoint('message-write.after-commit') // between the MySQL commit and the rest
 */
import { ParleyError } from './errors';

export type FailpointAction = { kind: 'kill' } | { kind: 'error' } | { kind: 'delay'; ms: number };

const FLAG = '--failpoints=';

/** Parses `name=action,name=action` (a bare name means `kill`); throws on anything else. */
export function parseFailpoints(spec: string): Map<string, FailpointAction> {
  const out = new Map<string, FailpointAction>();
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (!part) continue;
    const [name, action = 'kill'] = part.split('=', 2) as [string, string | undefined];
    if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(name))
      throw new Error(`failpoint name "${name}" is not <function>.<place>`);
    const delay = /^delay:(\d{1,6})$/.exec(action);
    if (action === 'kill') out.set(name, { kind: 'kill' });
    else if (action === 'error') out.set(name, { kind: 'error' });
    else if (delay) out.set(name, { kind: 'delay', ms: Number(delay[1]) });
    else throw new Error(`failpoint action "${action}" is not kill, error or delay:<ms>`);
  }
  return out;
}

const armed = parseFailpoints(
  process.argv
    .filter((a) => a.startsWith(FLAG))
    .map((a) => a.slice(FLAG.length))
    .join(','),
);

/** Fails here if the fault suite armed `name` for this process; otherwise does nothing. */
export async function failpoint(
  name: string,
  points: ReadonlyMap<string, FailpointAction> = armed,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): Promise<void> {
  const action = points.get(name);
  if (!action) return;
  if (action.kind === 'kill') kill();
  else if (action.kind === 'error')
    throw new ParleyError('unavailable', `failpoint ${name}: injected failure`);
  else await new Promise((resolve) => setTimeout(resolve, action.ms));
}
