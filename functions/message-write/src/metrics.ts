import { Counter, Histogram, type Registry } from 'prom-client';

export interface MessageWriteMetrics {
  /** Seconds from the gateway accepting a send to its commit (new messages only). */
  storeLatency: Histogram;
  /** Recent-cache adds that failed (the cache then has a gap; reads fall back to MySQL). */
  cacheAddFailures: Counter;
  /** Sends per group commit: 1 at low load, growing with it (group-commit.ts). */
  commitBatchSize: Histogram;
}

/** @example createMessageWrite({ ...deps, metrics: messageWriteMetrics(registry) }) */
export function messageWriteMetrics(registry: Registry): MessageWriteMetrics {
  return {
    storeLatency: new Histogram({
      name: 'parley_message_store_latency_seconds',
      help: 'From the gateway accepting a send (acceptedTs) to the message being stored',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheAddFailures: new Counter({
      name: 'parley_recent_cache_add_failures_total',
      help: 'Stored messages whose recent-cache add failed',
      registers: [registry],
    }),
    commitBatchSize: new Histogram({
      name: 'parley_message_commit_batch_size',
      help: 'Sends stored together in one group commit (one transaction per shard)',
      buckets: [1, 2, 5, 10, 20, 50, 100],
      registers: [registry],
    }),
  };
}
