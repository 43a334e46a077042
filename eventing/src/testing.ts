/**
 * Test helpers for eventing and its users: valid catalog events and a
 * deferred, so tests can hold a handler open and release it on cue.
 */
import { createEvent, type ParleyEvent } from './cloudevent';

let counter = 0;

/**
 * A valid `parley.message.send` for `roomId`; `n` lands in clientMsgId and body so order can be read back.
 * @example const e = messageSend('r_1', 3) // key r_1, clientMsgId 'c-3'
 */
export function messageSend(roomId: string, n = counter++): ParleyEvent<'parley.message.send'> {
  return createEvent(
    'parley.message.send',
    {
      actorId: 'u_tester',
      roomId,
      clientMsgId: `c-${n}`,
      body: `hello ${n}`,
      acceptedTs: Date.now(),
    },
    { source: 'test' },
  );
}

/** The `n` of an event made by `messageSend`. */
export const seqOf = (e: { data: unknown }): number =>
  Number((e.data as { clientMsgId: string }).clientMsgId.slice(2));

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls `check` until it returns true (no fixed sleeps in tests); throws after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
