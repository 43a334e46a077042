/**
 * CLI: creates the search index (`<alias>-v<N>` with its analyzers and
 * mappings) and points the alias at it, unless the alias exists. Safe to run
 * repeatedly and concurrently. Usage: `ES_URL=... npm run migrate -w functions/message-index`
 */
import { createLogger, loadConfig } from '@parley/runtime';
import { esOptions, SearchIndexConfigSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';

const log = createLogger('message-index-migrate');
const index = new EsSearchIndex(esOptions(loadConfig(SearchIndexConfigSchema)));
try {
  await index.ensureIndex();
  log.info({ alias: index.names.alias, index: index.names.index }, 'search index ready');
} catch (err) {
  log.error({ err }, 'search index migration failed');
  process.exitCode = 1;
} finally {
  await index.close();
}
