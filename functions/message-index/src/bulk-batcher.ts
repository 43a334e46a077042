/**
 * Turns concurrent single submissions into bulk calls: whatever arrives
 * while a bulk is being written goes into the next one, and a submission that
 * finds the batcher idle waits `lingerMs` for others to join it. Each
 * submitter gets its own item's result, once the bulk that carried it has
 * answered; if the bulk call itself fails, every item of that bulk fails with
 * the same error.
 *
 * An unordered KafkaSource posts many events at once (up to its
 * `max.poll.records`), so this is how message-index writes them as one
 * `_bulk`. At a steady trickle a bulk would still carry one or two documents,
 * each costing Elasticsearch a whole request; the linger gathers a few
 * milliseconds' worth instead, which search never notices behind the index's
 * one-second refresh.
 */
export interface BulkBatcherOptions {
  /** Most items in one bulk call; a full batch is written at once, linger or not. */
  maxBatch: number;
  /**
   * How long a submission that finds the batcher idle waits for company (default 0: the same turn
   * of the event loop only). Items that arrive while a bulk is out go in the next one at once.
   */
  lingerMs?: number;
  /** Called with the size of every bulk call (metrics). */
  onFlush?: (size: number) => void;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class BulkBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly opts: BulkBatcherOptions,
  ) {}

  /** @example const result = await batcher.submit(message); */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.opts.maxBatch) this.schedule(0);
      else this.schedule(this.opts.lingerMs ?? 0);
    });
  }

  /** Flushes after `delayMs` (0: after this turn), unless a bulk is out or a flush comes sooner. */
  private schedule(delayMs: number): void {
    if (this.flushing) return;
    if (delayMs <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
      return;
    }
    if (this.timer || this.scheduled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.opts.onFlush?.(batch.length);
    try {
      const results = await this.write(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r === undefined)
          p.reject(new Error(`bulk answered ${results.length} of ${batch.length}`));
        else p.resolve(r);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.flushing = false;
      // What waited for this bulk has lingered long enough.
      if (this.queue.length) this.schedule(0);
    }
  }
}
