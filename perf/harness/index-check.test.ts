import { describe, expect, it } from 'vitest';
import { indexingLag } from './index-check';

describe('indexingLag', () => {
  const acks = [100, 200, 300, 400, 500];

  it('is the time since the ack of the last indexed message, while some are missing', () => {
    const lag = indexingLag(acks, [
      { at: 250, count: 1 }, // 2 acked, 1 indexed: the 1st acked at 100 → 150 behind
      { at: 450, count: 2 }, // 4 acked, 2 indexed: the 2nd at 200 → 250
      { at: 550, count: 4 }, // 5 acked, 4 indexed: the 4th at 400 → 150
    ]);
    expect(lag).toEqual({ readings: 3, p50Ms: 150, maxMs: 250 });
  });

  it('leaves out readings that had caught up or found nothing', () => {
    const lag = indexingLag(acks, [
      { at: 150, count: 1 },
      { at: 350, count: 0 },
      { at: 600, count: 5 },
    ]);
    expect(lag).toEqual({ readings: 0, p50Ms: null, maxMs: null });
  });
});
