import { describe, expect, it } from 'vitest';
import { linearTicks, logTicks, PLOT_MARGIN, type PlotSeries, plotSvg } from './plot-svg';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes entity references; throws on a bare `&` or `<`, which well-formed XML never holds. */
function decode(s: string, where: string): string {
  if (s.includes('<')) throw new Error(`raw < in ${where}`);
  return s.replace(/&([^;]*);?/g, (all, name: string) => {
    if (!all.endsWith(';')) throw new Error(`bare & in ${where}`);
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    const ch = ENTITY[name];
    if (ch === undefined) throw new Error(`unknown entity &${name}; in ${where}`);
    return ch;
  });
}

/**
 * A strict parser for the XML subset an SVG file uses (prolog, comments, elements, attributes,
 * text): it throws on anything not well-formed — unbalanced or crossed tags, unquoted or repeated
 * attributes, stray `<` or `&`, more than one root, content after the root.
 */
function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipSpace = () => {
    while (i < src.length && /\s/.test(src[i] as string)) i++;
  };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) throw new Error('unterminated prolog');
    i = end + 2;
  }
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('</', i)) {
      const end = src.indexOf('>', i);
      const name = src.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      i = end + 1;
      if (stack.length === 0) root = open;
    } else if (src[i] === '<') {
      if (root) throw new Error('content after the root element');
      i++;
      const nameMatch = /^[A-Za-z_][\w.:-]*/.exec(src.slice(i));
      if (!nameMatch) throw new Error(`bad tag name at ${i}`);
      const el: XmlElement = { name: nameMatch[0], attrs: {}, children: [], text: '' };
      i += nameMatch[0].length;
      for (;;) {
        skipSpace();
        if (src.startsWith('/>', i)) {
          i += 2;
          if (stack.length === 0) root = el;
          else stack.at(-1)?.children.push(el);
          break;
        }
        if (src[i] === '>') {
          i++;
          stack.at(-1)?.children.push(el);
          stack.push(el);
          break;
        }
        const attr = /^([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/.exec(src.slice(i));
        if (!attr)
          throw new Error(`bad attribute in <${el.name}> at ${i}: ${src.slice(i, i + 20)}`);
        const [all, key, value] = attr as unknown as [string, string, string];
        if (key in el.attrs) throw new Error(`repeated attribute ${key} in <${el.name}>`);
        el.attrs[key] = decode(value, `${el.name}@${key}`);
        i += all.length;
      }
    } else {
      const end = src.indexOf('<', i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (stack.length === 0) {
        if (text.trim()) throw new Error('text outside the root element');
      } else {
        const top = stack.at(-1) as XmlElement;
        top.text += decode(text, top.name);
      }
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length) throw new Error(`<${stack.at(-1)?.name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

const all = (el: XmlElement): XmlElement[] => [el, ...el.children.flatMap(all)];
const polylines = (svg: string) =>
  all(parseXml(svg)).filter((e) => e.name === 'polyline' && e.attrs.class === 'series');
const pointsOf = (el: XmlElement) =>
  (el.attrs.points ?? '')
    .trim()
    .split(/\s+/)
    .map((p) => p.split(',').map(Number) as [number, number]);

/** Checks that `out` is an affine image of `data` (out = a·data + b) within rounding. */
function expectAffine(data: number[], out: number[]) {
  expect(out.length).toBe(data.length);
  const [d0, d1] = [data[0] as number, data.at(-1) as number];
  const [o0, o1] = [out[0] as number, out.at(-1) as number];
  const a = (o1 - o0) / (d1 - d0);
  data.forEach((d, k) => {
    expect(out[k]).toBeCloseTo(o0 + a * (d - d0), 1);
  });
}

const ramp: PlotSeries[] = [
  {
    name: 'deliver p50',
    points: [
      [100, 4],
      [200, 5],
      [300, 9],
      [400, 40],
      [500, 900],
    ],
  },
  {
    name: 'deliver p99 <all>',
    points: [
      [100, 12],
      [200, 15],
      [300, 60],
      [400, 400],
      [500, 2500],
    ],
  },
  {
    name: 'ack p50',
    points: [
      [300, 8],
      [100, 3],
      [200, 4],
    ],
    dashed: true,
  },
];

describe('plotSvg', () => {
  it('is well-formed XML with an svg root, a title, axis labels and a legend entry per series', () => {
    const svg = plotSvg({
      title: 'A & B < C',
      xLabel: 'offered msg/s',
      yLabel: 'ms',
      series: ramp,
    });
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const texts = all(root)
      .filter((e) => e.name === 'text' || e.name === 'title')
      .map((e) => e.text);
    expect(texts).toContain('A & B < C');
    expect(texts).toContain('offered msg/s');
    expect(texts.some((t) => t.startsWith('ms'))).toBe(true);
    for (const s of ramp) expect(texts).toContain(s.name);
  });

  it('draws one polyline per series, points monotone in x and matching the data (log y)', () => {
    const svg = plotSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: ramp });
    expect(svg).toContain('(log scale)'); // 3 ms … 2.5 s spans three decades
    const lines = polylines(svg);
    expect(lines.map((l) => l.attrs['data-series'])).toEqual(ramp.map((s) => s.name));
    lines.forEach((line, k) => {
      const data = [...(ramp[k] as PlotSeries).points].sort((a, b) => a[0] - b[0]);
      const pts = pointsOf(line);
      for (let j = 1; j < pts.length; j++)
        expect((pts[j] as number[])[0]).toBeGreaterThan((pts[j - 1] as number[])[0] as number);
      expectAffine(
        data.map((p) => p[0]),
        pts.map((p) => p[0]),
      );
      // On a log axis the pixel y is affine in log10(value), larger values higher (smaller y).
      expectAffine(
        data.map((p) => Math.log10(p[1])),
        pts.map((p) => p[1]),
      );
      expect((pts[0] as number[])[1]).toBeGreaterThan((pts.at(-1) as number[])[1] as number);
    });
    // Every series shares one x scale: offered 100 is at the same pixel in each.
    const x100 = lines.map((l) => (pointsOf(l)[0] as number[])[0]);
    expect(new Set(x100).size).toBe(1);
    expect(x100[0]).toBeCloseTo(PLOT_MARGIN.left, 1);
  });

  it('uses a linear y axis from 0 for a narrow range, and keeps points inside the plot', () => {
    const series: PlotSeries[] = [
      {
        name: 'p50',
        points: [
          [1, 10],
          [2, 20],
          [3, 15],
        ],
      },
    ];
    const svg = plotSvg({ title: 't', xLabel: 'x', yLabel: 'y', series, width: 600, height: 400 });
    expect(svg).not.toContain('(log scale)');
    const pts = pointsOf(polylines(svg)[0] as XmlElement);
    expectAffine(
      [10, 20, 15],
      pts.map((p) => p[1]),
    );
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThanOrEqual(PLOT_MARGIN.left);
      expect(x).toBeLessThanOrEqual(600 - PLOT_MARGIN.right);
      expect(y).toBeGreaterThanOrEqual(PLOT_MARGIN.top);
      expect(y).toBeLessThanOrEqual(400 - PLOT_MARGIN.bottom);
    }
  });

  it('leaves out points with no value (a step where nothing was delivered)', () => {
    const series: PlotSeries[] = [
      {
        name: 'p99',
        points: [
          [1, 5],
          [2, Number.NaN],
          [3, 7],
        ],
      },
    ];
    const pts = pointsOf(
      polylines(plotSvg({ title: 't', xLabel: 'x', yLabel: 'y', series }))[0] as XmlElement,
    );
    expect(pts).toHaveLength(2);
  });
});

describe('ticks', () => {
  it('linear ticks are round, ascending and inside the range', () => {
    const t = linearTicks(0, 2350);
    expect(t[0]).toBe(0);
    for (let i = 1; i < t.length; i++) expect((t[i] as number) - (t[i - 1] as number)).toBe(500);
    expect(t.at(-1)).toBeLessThanOrEqual(2350);
  });

  it('log ticks are 1, 2, 5 × 10^k within the range', () => {
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  });
});

describe('the test parser', () => {
  it('refuses what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow();
    expect(() => parseXml('<a>1 & 2</a>')).toThrow();
    expect(() => parseXml('<a></a><b></b>')).toThrow();
    expect(() => parseXml('<a x=1/>')).toThrow();
    expect(parseXml('<a x="&lt;"><b/>t</a>').attrs.x).toBe('<');
  });
});
