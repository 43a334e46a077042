import { infraEnv, runId } from '@parley/tests/support/infra';
import { describeSearchIndexContract } from './search-index.contract';
import { EsSearchIndex } from './search-index.es';

describeSearchIndexContract('elasticsearch', async () => {
  // Two shards, so routing by room really spreads the rooms.
  const index = new EsSearchIndex({
    url: infraEnv().ES_URL,
    alias: `t-messages-${runId()}`,
    layout: { shards: 2 },
  });
  return {
    index,
    teardown: async () => {
      await index.drop();
      await index.close();
    },
  };
});
