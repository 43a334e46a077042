import { describeNotificationStoreContract } from './notification-store.contract';
import { MemoryNotificationStore } from './notification-store.memory';

describeNotificationStoreContract('memory', async () => ({ store: new MemoryNotificationStore() }));
