/** Prometheus metrics of message-index. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface MessageIndexMetrics {
  /** Message created/changed → written to the index (searchable after the refresh interval, ≤ 1 s more). */
  indexLag: Histogram;
  bulkSize: Histogram;
  writes: Counter<'outcome'>;
}

export function messageIndexMetrics(registry: Registry): MessageIndexMetrics {
  return {
    indexLag: new Histogram({
      name: 'parley_search_index_lag_seconds',
      help: 'From a message being created or changed to its write into the search index (add the index refresh interval for searchable)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    bulkSize: new Histogram({
      name: 'parley_search_bulk_size',
      help: 'Messages per bulk write to the search index',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
      registers: [registry],
    }),
    writes: new Counter({
      name: 'parley_search_index_writes_total',
      help: 'Index writes by outcome: applied, stale (an older or repeated version), rejected (dead-lettered), retry',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
