/**
 * HTTP commands that go through Kafka (create room, open DM, invite, leave;
 * read markers and the inbox): the gateway produces the command and answers
 * the request when room-ops (or notify) publishes its outcome on the actor's user channel — `command-result` with
 * the same causation id — or with a clear `timeout` error.
 */
import {
  type AnyParleyEvent,
  type EventSink,
  type Fanout,
  type FanoutListener,
  type FanoutPayload,
  userChannel,
} from '@parley/eventing';
import type { Room } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';

export type CommandResult = Extract<FanoutPayload, { kind: 'command-result' }>;

export class CommandWaiter {
  constructor(
    private readonly fanout: Fanout,
    private readonly commands: EventSink,
    private readonly timeoutMs: number,
  ) {}

  /** Emits `event` for `actorId` and resolves with the resulting room. */
  async run(actorId: string, event: AnyParleyEvent): Promise<Room> {
    const result = await this.result(actorId, event);
    if (!result.room) throw new ParleyError('internal', `${event.type} answered without a room`);
    return result.room;
  }

  /** Emits `event` for `actorId` and resolves with its successful `command-result` (refusals reject). */
  async result(actorId: string, event: AnyParleyEvent): Promise<CommandResult> {
    const channel = userChannel(actorId);
    let listener: FanoutListener = () => undefined;
    const outcome = new Promise<CommandResult>((resolve, reject) => {
      listener = (_channel, p) => {
        if (p.kind !== 'command-result' || p.causationId !== event.id) return;
        if (p.code) reject(new ParleyError(p.code, p.message ?? 'command refused'));
        else resolve(p);
      };
    });
    // The result may arrive (and reject) while emit() is still awaited, before the race below
    // exists: mark it handled now, or Node would treat it as unhandled and exit.
    outcome.catch(() => undefined);
    // Listen before producing, so a fast result cannot be missed.
    await this.fanout.subscribe(channel, listener);
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.commands.emit(event);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ParleyError(
                'timeout',
                `no result for ${event.type} within ${this.timeoutMs} ms; it may still complete, and retrying is safe`,
              ),
            ),
          this.timeoutMs,
        );
      });
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
      await this.fanout.unsubscribe(channel, listener);
    }
  }
}
