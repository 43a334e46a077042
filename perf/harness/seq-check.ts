/**
 * The correctness checks a load run makes as it goes, so a run that loses or doubles a message
 * fails loudly instead of printing a good latency: per member, the seqs it is shown of its room
 * (gap-free and once each); per room, the seqs its sends were acked with (each once, no holes).
 */

/** The seqs one member has been shown of one room: message frames, and acks of its own sends. */
export class SeqTracker {
  /** Every seq up to this one has been seen. */
  contiguous: number;
  duplicates = 0;
  /** Seen ahead of a missing one (a hole that may still fill). */
  outOfOrder = 0;
  private readonly ahead = new Set<number>();

  /** `baseline`: the room's last seq before the run (those are not expected). */
  constructor(readonly baseline: number) {
    this.contiguous = baseline;
  }

  /** Records a seq; false when it was seen before (or is from before the run). */
  see(seq: number): boolean {
    if (seq <= this.contiguous || this.ahead.has(seq)) {
      this.duplicates++;
      return false;
    }
    if (seq === this.contiguous + 1) {
      this.contiguous = seq;
      while (this.ahead.delete(this.contiguous + 1)) this.contiguous++;
    } else {
      this.ahead.add(seq);
      this.outOfOrder++;
    }
    return true;
  }

  /** The seqs in (baseline, upTo] not seen. */
  missing(upTo: number): number[] {
    const out: number[] = [];
    for (let s = this.contiguous + 1; s <= upTo; s++) if (!this.ahead.has(s)) out.push(s);
    return out;
  }

  /** Seqs seen past `upTo` (the room never reached them: not from this run's sends). */
  beyond(upTo: number): number[] {
    const out = [...this.ahead].filter((s) => s > upTo);
    if (this.contiguous > upTo) for (let s = upTo + 1; s <= this.contiguous; s++) out.push(s);
    return out.sort((a, b) => a - b);
  }
}

/** The seqs a room's sends were acked with: each once, and together baseline+1 … baseline+n. */
export class RoomSeqs {
  private readonly seen = new Set<number>();
  /** Two different sends acked with the same seq. */
  collisions = 0;

  constructor(readonly baseline: number) {}

  /** Records the seq of a send's first ack. */
  acked(seq: number): void {
    if (this.seen.has(seq) || seq <= this.baseline) this.collisions++;
    else this.seen.add(seq);
  }

  get count(): number {
    return this.seen.size;
  }

  /** The room's last seq if its acks are gap-free (baseline + count), else undefined. */
  get last(): number {
    return this.baseline + this.seen.size;
  }

  /** Seqs in (baseline, max acked] that no send was acked with. */
  holes(): number[] {
    const max = Math.max(this.baseline, ...this.seen);
    const out: number[] = [];
    for (let s = this.baseline + 1; s <= max; s++) if (!this.seen.has(s)) out.push(s);
    return out;
  }
}
