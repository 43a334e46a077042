import { infraEnv, runId } from '@parley/tests/support/infra';
import { type Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { ES_REQUEST_SECONDS } from './es-metrics';
import { msg } from './search-index.contract';
import { EsSearchIndex } from './search-index.es';

describe('parley_elasticsearch_request_duration_seconds, on the real Elasticsearch', () => {
  const registry = new Registry();
  const index = new EsSearchIndex({
    url: infraEnv().ES_URL,
    alias: `t-es-metrics-${runId()}`,
    registry,
  });
  afterAll(async () => {
    await index.drop();
    await index.close();
  });

  const counts = async () => {
    const metric = await (
      registry.getSingleMetric(ES_REQUEST_SECONDS) as Histogram<'operation'> | undefined
    )?.get();
    const byOperation: Record<string, number> = {};
    for (const v of metric?.values ?? []) {
      if (v.metricName === `${ES_REQUEST_SECONDS}_count`) {
        byOperation[String(v.labels.operation)] = v.value;
      }
    }
    return byOperation;
  };

  it("times each request by its API's name, failed ones included", async () => {
    await index.ensureIndex();
    await index.apply([msg('r_metrics', 'first'), msg('r_metrics', 'second')]);
    await index.refresh();
    await index.search({ text: 'first', roomIds: ['r_metrics'], sort: 'recent', limit: 5 });
    await index.search({ text: 'second', roomIds: ['r_metrics'], sort: 'recent', limit: 5 });
    // A bulk to an alias that does not exist: Elasticsearch answers 404, the client throws.
    const nowhere = new EsSearchIndex({
      url: infraEnv().ES_URL,
      alias: `t-none-${runId()}`,
      registry,
    });
    expect((await nowhere.apply([msg('r_metrics', 'lost')]))[0]?.outcome).toBe('retry');
    await nowhere.close();
    const c = await counts();
    expect(c['indices.exists_alias']).toBe(1);
    expect(c['indices.create']).toBe(1);
    expect(c.bulk).toBe(2);
    expect(c.search).toBe(2);
  });
});
