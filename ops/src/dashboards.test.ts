/**
 * The committed Grafana dashboards: what `npm run dashboards` makes now (a query changed in
 * ops/src/queries.ts without regenerating fails), and models Grafana imports: unique panel ids,
 * panels inside the 24-column grid without overlapping, every panel and target on the
 * `${datasource}` variable, every query of queries.ts on exactly one panel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARDS_DIR,
  DATASOURCE,
  dashboardModel,
  formatJson,
  renderDashboards,
  SCHEMA_VERSION,
  staleDashboards,
  uidOf,
} from './dashboards';
import { DASHBOARDS, type DashboardName, PANELS, panelsOf } from './queries';

// biome-ignore lint/suspicious/noExplicitAny: a parsed Grafana model, walked by known paths
type Json = Record<string, any>;

const NAMES = Object.keys(DASHBOARDS) as DashboardName[];
const committed = (name: DashboardName): Json =>
  JSON.parse(readFileSync(join(DASHBOARDS_DIR, `${name}.json`), 'utf8'));

describe('ops/grafana/dashboards is generated from the queries', () => {
  it('equals what `npm run dashboards` writes now', () => {
    expect(staleDashboards(), 'run: npm run dashboards').toEqual([]);
    expect(readdirSync(DASHBOARDS_DIR).sort()).toEqual(NAMES.map((n) => `${n}.json`).sort());
  });

  it('notices a stale or extra file', () => {
    const rendered = renderDashboards();
    expect([...rendered.keys()].sort()).toEqual(NAMES.map((n) => `${n}.json`).sort());
    // The committed text is the rendered text; a different panel title would not be.
    const overview = rendered.get('overview.json') as string;
    expect(readFileSync(join(DASHBOARDS_DIR, 'overview.json'), 'utf8')).toBe(overview);
    expect(overview.replace('Open WebSockets', 'Open sockets')).not.toBe(overview);
  });

  it('writes JSON that parses back to the model', () => {
    for (const name of NAMES) expect(committed(name)).toEqual(dashboardModel(name));
    const sample = { a: [1, 'x'], b: {}, c: [], d: [{ e: null }], f: true };
    expect(JSON.parse(formatJson(sample))).toEqual(sample);
    expect(formatJson(sample)).toBe(
      '{\n  "a": [1, "x"],\n  "b": {},\n  "c": [],\n  "d": [\n    {\n      "e": null\n    }\n  ],\n  "f": true\n}',
    );
  });
});

describe.each(NAMES)('the %s dashboard', (name) => {
  const model = committed(name);
  const panels: Json[] = model.panels;

  it('is a Grafana dashboard model with the datasource variable', () => {
    expect(model.uid).toBe(uidOf(name));
    expect(model.title).toBe(DASHBOARDS[name]);
    expect(model.schemaVersion).toBe(SCHEMA_VERSION);
    expect(model.tags).toContain('parley');
    const vars: Json[] = model.templating.list;
    expect(vars.map((v) => v.name)).toEqual(['datasource']);
    expect(vars[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('has unique panel ids and every panel inside the grid, none overlapping', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(Number.isInteger(id) && id > 0).toBe(true);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      for (const v of [x, y, w, h]) expect(Number.isInteger(v)).toBe(true);
      expect(w).toBeGreaterThan(0);
      expect(h).toBeGreaterThan(0);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
  });

  it('queries the datasource variable from every panel and target', () => {
    for (const p of panels) {
      expect(['timeseries', 'stat']).toContain(p.type);
      expect(p.datasource).toEqual(DATASOURCE);
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.datasource).toEqual(DATASOURCE);
        expect(typeof t.expr).toBe('string');
        expect(t.refId).toBe('A');
      }
    }
  });

  it('has one panel per query of queries.ts, with its expression, legend and unit', () => {
    const byId = new Map(panels.map((p) => [p.targets[0].parleyQueryId, p]));
    const queries = panelsOf(name);
    expect([...byId.keys()].sort()).toEqual(queries.map((q) => q.id).sort());
    for (const q of queries) {
      const p = byId.get(q.id) as Json;
      expect(p.title).toBe(q.title);
      expect(p.targets[0].expr).toBe(q.expr);
      expect(p.targets[0].legendFormat).toBe(q.legend);
      expect(p.fieldConfig.defaults.unit).toBe(q.unit);
      expect(p.type).toBe(q.kind === 'stat' ? 'stat' : 'timeseries');
    }
  });
});

describe('all dashboards', () => {
  it('show every query of queries.ts exactly once', () => {
    const shown = NAMES.flatMap((n) =>
      committed(n).panels.map((p: Json) => p.targets[0].parleyQueryId),
    );
    expect(shown.sort()).toEqual(PANELS.map((p) => p.id).sort());
  });
});
