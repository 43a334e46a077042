/**
 * A line plot as a standalone SVG file, written by hand (no plotting library): axes with ticks
 * and labels, a light grid, a legend, one polyline per series with a marker on each point, and a
 * logarithmic y axis when the values span more than a decade or two (latency against offered load
 * runs from milliseconds to seconds once a system passes its knee). Opens in any browser.
 */

export interface PlotSeries {
  /** In the legend. */
  name: string;
  /** [x, y] in data units; points whose y is not finite (or ≤ 0 on a log axis) are left out. */
  points: [number, number][];
  /** Drawn dashed (e.g. the ack series beside the deliver series of the same percentile). */
  dashed?: boolean;
  /** A CSS colour; by default the next of a fixed palette. */
  color?: string;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** 'auto' (the default): log when max/min of the y values is over 50. */
  logY?: boolean | 'auto';
  /** Drawn as a dashed horizontal line with its label (e.g. a p99 target). */
  yMarker?: { value: number; label: string };
  width?: number;
  height?: number;
}

/** The drawing area inside the margins, in SVG pixels. */
export const PLOT_MARGIN = { left: 70, right: 190, top: 40, bottom: 55 };

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

/** Escapes text for an SVG text node or attribute value. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Round numbers for axis ticks: about `count` of them over [lo, hi], at 1, 2 or 5 × 10^k steps. */
export function linearTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1, 2, 5 × 10^k ticks within [lo, hi] (lo > 0), for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  return out;
}

const fmtTick = (v: number) =>
  Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(Number(v.toPrecision(4)));

/**
 * The SVG text of the plot. Each series is one `<polyline class="series" data-series="…">` with
 * its points in x order (sorted here), so the file can also be read back by a program.
 */
export function plotSvg(opts: PlotOptions): string {
  const width = opts.width ?? 860;
  const height = opts.height ?? 500;
  const m = PLOT_MARGIN;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const series = opts.series.map((s) => ({
    ...s,
    points: s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .sort((a, b) => a[0] - b[0]),
  }));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (opts.yMarker) ys.push(opts.yMarker.value);
  const positive = ys.filter((y) => y > 0);
  const logY =
    opts.logY === true ||
    ((opts.logY ?? 'auto') === 'auto' &&
      positive.length > 1 &&
      Math.max(...positive) / Math.min(...positive) > 50);
  if (logY) for (const s of series) s.points = s.points.filter(([, y]) => y > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  let xLo = xs.length ? Math.min(...xs) : 0;
  let xHi = xs.length ? Math.max(...xs) : 1;
  if (xHi === xLo) [xLo, xHi] = [xLo - 1, xHi + 1];
  let yLo: number;
  let yHi: number;
  if (logY) {
    yLo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
    yHi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
    if (yHi === yLo) yHi = yLo * 10;
  } else {
    yLo = 0;
    yHi = ys.length ? Math.max(...ys) * 1.1 : 1;
    if (!(yHi > 0)) yHi = 1;
  }
  const px = (x: number) => m.left + ((x - xLo) / (xHi - xLo)) * plotW;
  const py = (y: number) =>
    logY
      ? m.top +
        plotH -
        ((Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * plotH
      : m.top + plotH - ((y - yLo) / (yHi - yLo)) * plotH;
  const r = (v: number) => Number(v.toFixed(2));

  const out: string[] = [];
  out.push(
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`,
  );
  // Grid and ticks.
  out.push('<g class="grid" stroke="#e5e5e5" stroke-width="1">');
  const xTicks = linearTicks(xLo, xHi);
  const yTicks = logY ? logTicks(yLo, yHi) : linearTicks(yLo, yHi);
  for (const t of xTicks)
    out.push(`<line x1="${r(px(t))}" y1="${m.top}" x2="${r(px(t))}" y2="${m.top + plotH}"/>`);
  for (const t of yTicks)
    out.push(`<line x1="${m.left}" y1="${r(py(t))}" x2="${m.left + plotW}" y2="${r(py(t))}"/>`);
  out.push('</g>');
  out.push(
    `<g class="axes" stroke="#333333" stroke-width="1">`,
    `<line x1="${m.left}" y1="${m.top + plotH}" x2="${m.left + plotW}" y2="${m.top + plotH}"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + plotH}"/>`,
    '</g>',
  );
  out.push('<g class="ticks" fill="#333333">');
  for (const t of xTicks)
    out.push(
      `<text x="${r(px(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${escapeXml(fmtTick(t))}</text>`,
    );
  for (const t of yTicks)
    out.push(
      `<text x="${m.left - 8}" y="${r(py(t)) + 4}" text-anchor="end">${escapeXml(fmtTick(t))}</text>`,
    );
  out.push('</g>');
  out.push(
    `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    `<text x="18" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${m.top + plotH / 2})">${escapeXml(opts.yLabel)}${logY ? ' (log scale)' : ''}</text>`,
  );
  if (opts.yMarker && (!logY || opts.yMarker.value > 0)) {
    const y = r(py(opts.yMarker.value));
    out.push(
      `<line class="marker" x1="${m.left}" y1="${y}" x2="${m.left + plotW}" y2="${y}" stroke="#888888" stroke-dasharray="2 4"/>`,
      `<text x="${m.left + plotW - 4}" y="${y - 4}" text-anchor="end" fill="#666666">${escapeXml(opts.yMarker.label)}</text>`,
    );
  }
  // The series, then the legend.
  series.forEach((s, i) => {
    const color = s.color ?? (COLORS[i % COLORS.length] as string);
    const pts = s.points.map(([x, y]) => `${r(px(x))},${r(py(y))}`).join(' ');
    out.push(
      `<polyline class="series" data-series="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts}"/>`,
    );
    for (const [x, y] of s.points)
      out.push(`<circle cx="${r(px(x))}" cy="${r(py(y))}" r="3" fill="${color}"/>`);
  });
  out.push('<g class="legend">');
  series.forEach((s, i) => {
    const color = s.color ?? (COLORS[i % COLORS.length] as string);
    const y = m.top + 10 + i * 20;
    const x = m.left + plotW + 15;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 34}" y="${y + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}
