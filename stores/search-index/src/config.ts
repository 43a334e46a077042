/** The search index settings the Search service's functions read from the environment. */
import { UrlSchema } from '@parley/runtime';
import { z } from 'zod';
import type { EsSearchIndexOptions } from './search-index.es';

/** What reading and writing the index needs (search, message-index). */
export const SearchIndexConnectionSchema = z.object({
  /** Elasticsearch, e.g. http://127.0.0.1:9200. */
  ES_URL: UrlSchema,
  /** The alias everything reads and writes; the index behind it is `<alias>-v<N>`. */
  SEARCH_INDEX_ALIAS: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _')
    .default('parley-messages'),
});

/** What creating the index needs besides (the migration step of message-index). */
export const SearchIndexConfigSchema = SearchIndexConnectionSchema.extend({
  /** Primary shards of a new index (routing is by room). */
  SEARCH_INDEX_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  /** Replicas of a new index: 0 on one node, 1+ in a cluster. */
  SEARCH_INDEX_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
  /** How soon an indexed message becomes searchable. */
  SEARCH_REFRESH_INTERVAL: z
    .string()
    .regex(/^\d+(ms|s)$/, 'e.g. 1s or 500ms')
    .default('1s'),
});
export type SearchIndexConnection = z.infer<typeof SearchIndexConnectionSchema>;
export type SearchIndexConfig = z.infer<typeof SearchIndexConfigSchema>;

/** @example new EsSearchIndex(esOptions(loadConfig(SearchIndexConfigSchema))) */
export const esOptions = (
  cfg: SearchIndexConnection & Partial<SearchIndexConfig>,
): EsSearchIndexOptions => ({
  url: cfg.ES_URL,
  alias: cfg.SEARCH_INDEX_ALIAS,
  layout: {
    ...(cfg.SEARCH_INDEX_SHARDS !== undefined ? { shards: cfg.SEARCH_INDEX_SHARDS } : {}),
    ...(cfg.SEARCH_INDEX_REPLICAS !== undefined ? { replicas: cfg.SEARCH_INDEX_REPLICAS } : {}),
    ...(cfg.SEARCH_REFRESH_INTERVAL !== undefined
      ? { refreshInterval: cfg.SEARCH_REFRESH_INTERVAL }
      : {}),
  },
});
