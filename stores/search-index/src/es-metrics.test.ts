import { describe, expect, it } from 'vitest';
import { esOperation } from './es-metrics';

describe('esOperation', () => {
  it("is the client API's name", () => {
    expect(esOperation({ path: '/parley-messages/_search', meta: { name: 'search' } })).toBe(
      'search',
    );
    expect(esOperation({ path: '/_alias/x', meta: { name: 'indices.exists_alias' } })).toBe(
      'indices.exists_alias',
    );
  });

  it("falls back to the path's _endpoint, then to other", () => {
    expect(esOperation({ path: '/_bulk' })).toBe('bulk');
    expect(esOperation({ path: '/idx/_doc/1?refresh=true' })).toBe('doc');
    expect(esOperation({ path: '/' })).toBe('other');
  });
});
