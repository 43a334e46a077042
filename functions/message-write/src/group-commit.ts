/**
 * Group commit: the sends that arrive while a commit is in flight wait for
 * it, then commit together in the next one. Batching follows the load, with
 * no timer: a send that finds nothing in flight starts a commit at the end of
 * the current event-loop turn (together with whatever else arrived in that
 * turn), so at low load each send commits alone and as soon as before; under
 * load each commit takes everything that queued behind the previous one, up
 * to `maxBatch`. One commit is in flight at a time, so batches commit in
 * arrival order, and the order of a room's sends is kept across them.
 *
 * Every submitter gets its own item's outcome: a commit that fails as a whole
 * fails each of its items, and an item that fails on its own fails only its
 * submitter.
 */

/** Commits a batch; answers one outcome per item, in item order (like `Promise.allSettled`). */
export type CommitBatch<I, O> = (items: I[]) => Promise<PromiseSettledResult<O>[]>;

export interface GroupCommitterOptions {
  /** Most items in one commit; the rest wait for the next. Default 100. */
  maxBatch?: number;
  /** Told the size of each batch as it starts (a metric). */
  onBatch?: (size: number) => void;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export const DEFAULT_MAX_BATCH = 100;

/**
 * @example const appends = new GroupCommitter((inputs) => store.appendMany(inputs));
 *          const { message, created } = await appends.submit(input);
 */
export class GroupCommitter<I, O> {
  private queue: Waiting<I, O>[] = [];
  /** A commit is in flight, or about to start. */
  private busy = false;
  private readonly maxBatch: number;

  constructor(
    private readonly commit: CommitBatch<I, O>,
    private readonly opts: GroupCommitterOptions = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? DEFAULT_MAX_BATCH);
  }

  /** Resolves with this item's outcome once the batch holding it has committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      // Not a linger: setImmediate runs as soon as this turn's I/O callbacks
      // are done, so sends that became ready in the same turn (their
      // membership answers came in one Redis reply) share the commit.
      setImmediate(() => this.next());
    });
  }

  /** Items waiting for a commit (not counting the one in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  private next(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) {
      this.busy = false;
      return;
    }
    this.opts.onBatch?.(batch.length);
    let committing: Promise<PromiseSettledResult<O>[]>;
    try {
      committing = this.commit(batch.map((w) => w.item));
    } catch (err) {
      committing = Promise.reject(err);
    }
    committing
      .then(
        (outcomes) => {
          batch.forEach((w, i) => {
            const outcome = outcomes[i];
            if (!outcome)
              w.reject(new Error(`commit answered ${outcomes.length} of ${batch.length} items`));
            else if (outcome.status === 'fulfilled') w.resolve(outcome.value);
            else w.reject(outcome.reason);
          });
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      )
      // Whatever queued meanwhile is the next batch, at once: it has waited already.
      .finally(() => this.next());
  }
}
