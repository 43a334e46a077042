/** Latency histograms (HdrHistogram, microsecond resolution) and their summary in milliseconds. */
import * as hdr from 'hdr-histogram-js';

/** A histogram of durations in ms, kept in µs from 1 µs to 10 minutes at 3 significant digits. */
export class Latency {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  record(ms: number): void {
    this.h.recordValue(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** The value at percentile p (0–100), ms; NaN when empty. */
  at(p: number): number {
    return this.h.totalCount ? this.h.getValueAtPercentile(p) / 1000 : Number.NaN;
  }

  summary(): LatencySummary {
    const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
    return {
      count: this.count,
      p50: r(this.at(50)),
      p90: r(this.at(90)),
      p99: r(this.at(99)),
      max: r(this.count ? this.h.maxValue / 1000 : Number.NaN),
      mean: r(this.count ? this.h.mean / 1000 : Number.NaN),
    };
  }
}

/** Percentiles in ms; null when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** `12.3 ms` / `1.25 s` / `–`. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}
