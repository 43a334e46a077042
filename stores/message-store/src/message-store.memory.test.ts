import { describeMessageStoreContract } from './message-store.contract';
import { MemoryMessageStore } from './message-store.memory';

describeMessageStoreContract('memory', async () => ({ store: new MemoryMessageStore() }));
