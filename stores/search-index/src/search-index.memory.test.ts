import { describeSearchIndexContract } from './search-index.contract';
import { MemorySearchIndex } from './search-index.memory';

describeSearchIndexContract('memory', async () => ({ index: new MemorySearchIndex() }));
