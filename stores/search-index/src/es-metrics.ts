/**
 * `parley_elasticsearch_request_duration_seconds{operation}`: how long each Elasticsearch request
 * of a client takes, retries included, as its caller waits for it — from the call into the
 * client's transport to its result or error.
 *
 * The client's `transport.request` is wrapped: every API call goes through it with its API's name
 * (`meta.name`: `search`, `bulk`, `index`, `indices.exists_alias`, `ping`, …, a bounded set),
 * which is the `operation`. A raw `transport.request` without one is named by its path's `_`
 * endpoint (`/_bulk` → `bulk`), else `other`. The client's diagnostic events would time each
 * attempt instead, and need a map of requests in flight to pair them.
 */
import type { Client } from '@elastic/elasticsearch';
import { metricOnce } from '@parley/runtime';
import { Histogram, type Registry } from 'prom-client';

export const ES_REQUEST_SECONDS = 'parley_elasticsearch_request_duration_seconds';

/** 1 ms (a cached get) to 2.5 s (a bulk write under a merge storm); the client times out at 10 s. */
export const ES_REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type RequestParams = Parameters<Client['transport']['request']>[0];
type Request = (params: RequestParams, options?: unknown) => Promise<unknown>;

/** The operation of a request: its API's name, else its path's `_endpoint`, else `other`. */
export function esOperation(params: Pick<RequestParams, 'path' | 'meta'>): string {
  if (params.meta?.name) return params.meta.name;
  const endpoint = params.path
    ?.split('?')[0]
    ?.split('/')
    .find((segment) => segment.startsWith('_') && segment.length > 1);
  return endpoint ? endpoint.slice(1).toLowerCase() : 'other';
}

/**
 * Times every request of `client` in `registry`; returns `client`.
 * @example const client = instrumentElasticsearch(new Client({ node }), registry);
 */
export function instrumentElasticsearch(client: Client, registry: Registry): Client {
  const histogram = metricOnce(
    registry,
    ES_REQUEST_SECONDS,
    () =>
      new Histogram({
        name: ES_REQUEST_SECONDS,
        help: 'Elasticsearch requests (retries included) by operation (the API: search, bulk, index, …)',
        labelNames: ['operation'],
        buckets: ES_REQUEST_BUCKETS,
        registers: [registry],
      }),
  );
  const transport = client.transport;
  const request = transport.request.bind(transport) as Request;
  const timed: Request = (params, options) => {
    const child = histogram.labels(esOperation(params));
    const start = performance.now();
    const done = () => child.observe((performance.now() - start) / 1000);
    const result = request(params, options);
    result.then(done, done);
    return result;
  };
  transport.request = timed as typeof transport.request;
  return client;
}
