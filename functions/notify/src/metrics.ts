/** Prometheus metrics of notify. */
import { Counter, type Registry } from 'prom-client';

export interface NotifyMetrics {
  /** Inbox entries created (a redelivered message creates none). */
  mentionsCreated: Counter;
  /** Read markers raised, by cause: `message` (the sender's own), `join`, `read`. */
  markersMoved: Counter<'cause'>;
}

/** @example createNotify({ ...deps, metrics: notifyMetrics(registry) }) */
export function notifyMetrics(registry: Registry): NotifyMetrics {
  return {
    mentionsCreated: new Counter({
      name: 'parley_notify_mentions_created_total',
      help: 'Mention inbox entries created',
      registers: [registry],
    }),
    markersMoved: new Counter({
      name: 'parley_notify_markers_moved_total',
      help: 'Read markers raised, by cause: message (the sender), join, read',
      labelNames: ['cause'],
      registers: [registry],
    }),
  };
}
