/**
 * Turns concurrent single submissions into bulk calls: whatever arrives
 * while a bulk is being written (or in the same tick) goes into the next
 * one. Each submitter gets its own item's result; if the bulk call itself
 * fails, every item of that bulk fails with the same error.
 *
 * A KafkaSource delivers one event per request, several at once (one per
 * partition in flight), so this is how message-index writes "several events
 * at hand" as one `_bulk` without waiting for a timer.
 */
export interface BulkBatcherOptions {
  /** Most items in one bulk call. */
  maxBatch: number;
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
  private scheduled = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly opts: BulkBatcherOptions,
  ) {}

  /** @example const result = await batcher.submit(message); */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
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
      if (this.queue.length) this.schedule();
    }
  }
}
