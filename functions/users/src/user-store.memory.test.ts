import { describeUserStoreContract } from './user-store.contract';
import { MemoryUserStore } from './user-store.memory';

describeUserStoreContract('memory', async () => ({ store: new MemoryUserStore() }));
