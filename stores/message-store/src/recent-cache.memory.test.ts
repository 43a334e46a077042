import { describeRecentCacheContract } from './recent-cache.contract';
import { MemoryRecentCache } from './recent-cache.memory';

describeRecentCacheContract('memory', async () => ({ cache: new MemoryRecentCache() }));
