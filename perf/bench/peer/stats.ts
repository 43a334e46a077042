/** Percentiles, rounding and ratios for bench:peer's records. */

/** A latency (or any) distribution as recorded: count, mean, percentiles (nearest rank), max. */
export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Rounds for the record: 2 decimals below 10, 1 below 1,000, none above. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const d = Math.abs(x) < 10 ? 100 : Math.abs(x) < 1000 ? 10 : 1;
  return Math.round(x * d) / d;
}

/** The summary of `xs` (sorted in place when it is a typed array the caller no longer needs). */
export function percentileSummary(xs: Float64Array | readonly number[]): Summary {
  const n = xs.length;
  if (n === 0)
    return {
      n: 0,
      mean: Number.NaN,
      p50: Number.NaN,
      p90: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
    };
  const sorted = xs instanceof Float64Array ? xs.sort() : Float64Array.from(xs).sort();
  const at = (p: number) =>
    sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1] as number;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return {
    n,
    mean: round(sum / n),
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    max: round(sorted[n - 1] as number),
  };
}

/** a / b rounded, or null when either is missing (a scenario one server did not run). */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return null;
  return Math.round((a / b) * 100) / 100;
}
