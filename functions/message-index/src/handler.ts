/**
 * message-index: keeps the search index in step with the message facts.
 * `parley.message.created`, `.edited` and `.deleted` all become one indexed
 * version of the message (search-index.ts); concurrent deliveries share one
 * bulk write (bulk-batcher.ts), fed by an unordered KafkaSource (many events
 * at once, in any order).
 *
 * Delivery is at least once and may reorder across redeliveries; the index's
 * external versioning makes a repeated or older event a no-op (`stale`).
 * A write the index refuses for good is this event's failure only: it is
 * answered 400 and the KafkaSource dead-letters it, while the other events of
 * the same bulk carry on. Anything transient answers 503 and is retried.
 */
import type { CloudEventFunction } from '@parley/eventing';
import { DEFAULT_MAX_POLL_RECORDS } from '@parley/eventing/delivery-policy';
import type { Message } from '@parley/protocol';
import { type Logger, ParleyError } from '@parley/runtime';
import { type ApplyResult, indexVersion, type MessageSearchIndex } from '@parley/search-index';
import { BulkBatcher } from './bulk-batcher';
import type { MessageIndexMetrics } from './metrics';

export interface MessageIndexDeps {
  index: MessageSearchIndex;
  log: Logger;
  metrics?: MessageIndexMetrics;
  /** Most messages per bulk write (default: what an unordered KafkaSource has in flight, 50). */
  maxBulk?: number;
  /** How long an event that finds no bulk forming waits for others to join it (default 50 ms). */
  bulkLingerMs?: number;
  now?: () => number;
}

/**
 * The bulk linger. Elasticsearch spends ~3 ms of CPU on a one-document `_bulk` and ~0.2 ms per
 * document in one of 64 (measured on this machine), so at a trickle a few events share a bulk
 * instead of one each; search does not notice 50 ms behind the index's 1 s refresh interval. It
 * never throttles: a bulk holding as many events as the unordered KafkaSource sends at once
 * (`max.poll.records`, the default `maxBulk`) is written without waiting.
 */
export const BULK_LINGER_MS = 50;

/** @example registerFunction('message-index', cloudEventApp(createMessageIndex(deps), { log, registry })) */
export function createMessageIndex(deps: MessageIndexDeps): CloudEventFunction {
  const now = deps.now ?? Date.now;
  const batcher = new BulkBatcher<Message, ApplyResult>((messages) => deps.index.apply(messages), {
    maxBatch: deps.maxBulk ?? DEFAULT_MAX_POLL_RECORDS,
    lingerMs: deps.bulkLingerMs ?? BULK_LINGER_MS,
    onFlush: (size) => deps.metrics?.bulkSize.observe(size),
  });
  return {
    name: 'message-index',
    accepts: ['parley.message.created', 'parley.message.edited', 'parley.message.deleted'],
    async handle(event, ctx) {
      if (
        event.type !== 'parley.message.created' &&
        event.type !== 'parley.message.edited' &&
        event.type !== 'parley.message.deleted'
      ) {
        return; // the wrapper refuses other types
      }
      const { message } = event.data;
      const result = await batcher.submit(message);
      deps.metrics?.writes.inc({ outcome: result.outcome });
      const log = ctx.log.child({ messageId: message.id });
      switch (result.outcome) {
        case 'applied':
          deps.metrics?.indexLag.observe(Math.max(0, now() - indexVersion(message)) / 1000);
          log.debug('indexed');
          return;
        case 'stale':
          log.debug('already indexed at this or a newer version');
          return;
        case 'rejected':
          throw new ParleyError(
            'bad_request',
            `the search index refused the message: ${result.reason}`,
          );
        case 'retry':
          throw new ParleyError('unavailable', `search index write failed: ${result.reason}`);
      }
    },
  };
}
