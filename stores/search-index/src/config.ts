/** The search index settings both Search service functions read from the environment. */
import { z } from 'zod';
import type { EsSearchIndexOptions } from './search-index.es';

export const SearchIndexConfigSchema = z.object({
  /** Elasticsearch, e.g. http://127.0.0.1:9200. */
  ES_URL: z.string().url(),
  /** The alias everything reads and writes; the index behind it is `<alias>-v<N>`. */
  SEARCH_INDEX_ALIAS: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _')
    .default('parley-messages'),
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
export type SearchIndexConfig = z.infer<typeof SearchIndexConfigSchema>;

export const esOptions = (cfg: SearchIndexConfig): EsSearchIndexOptions => ({
  url: cfg.ES_URL,
  alias: cfg.SEARCH_INDEX_ALIAS,
  layout: {
    shards: cfg.SEARCH_INDEX_SHARDS,
    replicas: cfg.SEARCH_INDEX_REPLICAS,
    refreshInterval: cfg.SEARCH_REFRESH_INTERVAL,
  },
});
