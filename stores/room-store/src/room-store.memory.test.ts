import { describeRoomStoreContract } from './room-store.contract';
import { MemoryRoomStore } from './room-store.memory';

describeRoomStoreContract('memory', async () => ({ store: new MemoryRoomStore() }));
