/** The real adapters of message-index, built from the environment: Elasticsearch. */
import { type Logger, loadConfig } from '@parley/runtime';
import { esOptions, SearchIndexConfigSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';
import type { Registry } from 'prom-client';
import type { MessageIndexDeps } from './handler';
import { messageIndexMetrics } from './metrics';

export interface RealMessageIndex {
  deps: MessageIndexDeps;
  ready: () => Promise<boolean>;
  close: () => Promise<void>;
}

/** @example const { deps, ready } = realMessageIndexDeps(log, registry); */
export function realMessageIndexDeps(
  log: Logger,
  registry: Registry,
  env: Record<string, string | undefined> = process.env,
): RealMessageIndex {
  const index = new EsSearchIndex(esOptions(loadConfig(SearchIndexConfigSchema, env)));
  return {
    deps: { index, log, metrics: messageIndexMetrics(registry) },
    ready: () => index.ping(),
    close: () => index.close(),
  };
}
