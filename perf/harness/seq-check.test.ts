import { describe, expect, it } from 'vitest';
import { RoomSeqs, SeqTracker } from './seq-check';

describe('SeqTracker', () => {
  it('counts an in-order run as complete', () => {
    const t = new SeqTracker(3);
    for (const s of [4, 5, 6, 7]) expect(t.see(s)).toBe(true);
    expect(t.contiguous).toBe(7);
    expect(t.missing(7)).toEqual([]);
    expect([t.duplicates, t.outOfOrder]).toEqual([0, 0]);
  });

  it('fills a hole that arrives late, counting the early ones', () => {
    const t = new SeqTracker(0);
    for (const s of [1, 3, 4, 2, 5]) t.see(s);
    expect(t.contiguous).toBe(5);
    expect(t.outOfOrder).toBe(2);
    expect(t.missing(5)).toEqual([]);
  });

  it('finds a lost seq and the ones never delivered at the end', () => {
    const t = new SeqTracker(0);
    for (const s of [1, 2, 4, 5]) t.see(s);
    expect(t.missing(7)).toEqual([3, 6, 7]);
  });

  it('counts a repeat (also of a seq seen ahead, and one from before the run) as a duplicate', () => {
    const t = new SeqTracker(10);
    t.see(11);
    expect(t.see(11)).toBe(false);
    t.see(13);
    expect(t.see(13)).toBe(false);
    expect(t.see(9)).toBe(false);
    expect(t.duplicates).toBe(3);
  });

  it('names seqs past the room’s last', () => {
    const t = new SeqTracker(0);
    for (const s of [1, 2, 3, 5]) t.see(s);
    expect(t.beyond(2)).toEqual([3, 5]);
  });
});

describe('RoomSeqs', () => {
  it('is gap-free when acks cover baseline+1 … baseline+n once', () => {
    const r = new RoomSeqs(5);
    for (const s of [7, 6, 8]) r.acked(s);
    expect([r.count, r.last, r.collisions]).toEqual([3, 8, 0]);
    expect(r.holes()).toEqual([]);
  });

  it('finds holes and two sends acked with one seq', () => {
    const r = new RoomSeqs(0);
    for (const s of [1, 3, 3, 5]) r.acked(s);
    expect(r.collisions).toBe(1);
    expect(r.holes()).toEqual([2, 4]);
  });
});
