/**
 * The migration step of the search index: creates `<alias>-v<N>` with its
 * analyzers and mappings and points the alias at it, unless the alias
 * exists. Safe to run repeatedly and concurrently.
 * @example ES_URL=http://127.0.0.1:9200 node functions/message-index/dist/migrate.mjs
 */
import { runStep } from '@parley/runtime/function-host';
import { esOptions, SearchIndexConfigSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';

await runStep('message-index-migrate', SearchIndexConfigSchema, async (cfg) => {
  const index = new EsSearchIndex(esOptions(cfg));
  try {
    await index.ensureIndex();
    return { alias: index.names.alias, index: index.names.index };
  } finally {
    await index.close();
  }
});
